"""The leases of the work one run holds: renewed while it runs, checked before each call.

A claim holds its work until ``lease_until`` under a fencing token (``due_work.fence``,
bumped by every claim). While the run goes on, :meth:`Leases.beat` renews every lease it
still holds each ``renew`` seconds, so a live worker never loses work to a slow board. Before
a unit of work goes out, and again just before each request leaves (``SEND_GUARD`` in
:mod:`publisher.http`), the worker makes sure the lease still covers the whole call (its
deadline): when it does not — the worker was paused, or its renewals could not be made —
it renews under its token, and if another worker took the work over meanwhile, nothing is
sent (:class:`~publisher.errors.LeaseLost`). Its outcome is then written only as a stale
attempt (:meth:`publisher.ledger.Ledger.record`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from publisher.errors import LeaseLost
from publisher.ledger import Ledger, WorkRow

__all__ = ["Leases"]

Clock = Callable[[], datetime]


class Leases:
    def __init__(
        self, ledger: Ledger, owner: str, clock: Clock, lease: timedelta, renew: float
    ) -> None:
        self.ledger, self.owner, self.clock = ledger, owner, clock
        self.lease, self.renew_every = lease, renew
        self.held: dict[int, tuple[int, datetime]] = {}  # work id -> (fence, lease until)
        self.lost: set[int] = set()

    def add(self, work: WorkRow) -> None:
        until = work.lease_until or self.clock()  # (claimed rows always have one)
        self.held[work.id] = (work.fence, until)

    def done(self, work_ids: Iterable[int]) -> None:
        """Their outcomes are written: nothing more to hold."""
        for work_id in work_ids:
            self.held.pop(work_id, None)

    async def beat(self) -> None:
        """Renew every lease held, each ``renew`` seconds, until cancelled."""
        while True:
            await asyncio.sleep(self.renew_every)
            if self.held:
                try:
                    await self.renew(list(self.held))
                except Exception:  # the ledger is failing now: the checks will see it
                    continue

    async def renew(self, work_ids: Iterable[int]) -> None:
        until = self.clock() + self.lease
        want = {i: self.held[i][0] for i in work_ids if i in self.held}
        kept = await asyncio.to_thread(self.ledger.renew, self.owner, want, until)
        for work_id, fence in want.items():
            if work_id in kept:
                self.held[work_id] = (fence, until)
            else:
                self.held.pop(work_id, None)
                self.lost.add(work_id)

    async def check(self, work_ids: Iterable[int], deadline: float) -> set[int]:
        """Of ``work_ids``, those this run no longer holds: a lease that would not cover a
        call of ``deadline`` seconds started now is renewed first (under its token)."""
        ids = list(work_ids)
        horizon = self.clock() + timedelta(seconds=deadline)
        held, lost = self.held, self.lost
        if not lost and all(i in held and held[i][1] > horizon for i in ids):
            return set()  # (the usual case: every lease covers the call)
        short = [i for i in ids if i in held and held[i][1] <= horizon]
        if short:
            try:
                await self.renew(short)
            except Exception:  # cannot be confirmed: as lost, nothing is sent
                self.lost.update(short)
                for work_id in short:
                    self.held.pop(work_id, None)
        return {i for i in ids if i in self.lost or i not in self.held}

    def guard(self, work_ids: Iterable[int], deadline: float) -> Callable[[], Awaitable[None]]:
        """What ``SEND_GUARD`` awaits before each request of a unit of work."""
        ids = list(work_ids)

        async def still_mine() -> None:
            lost = await self.check(ids, deadline)
            if lost:
                raise LeaseLost(
                    f"work {', '.join(f'#{i}' for i in sorted(lost))} was taken "
                    "over by another worker"
                )

        return still_mine
