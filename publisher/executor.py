"""The executor: runs claimed work against the boards and turns each result into ledger rows.

Per board: a fixed number of workers (the concurrency limit) and a token bucket (the rate
limit), working through units of work (:mod:`publisher.batches`: every API action is an
element of a batch, of one or many; a feed or page board's actions are written to its files).
A writer task records the outcomes in the ledger, fenced by the claims' leases, which are
renewed while the run holds them and checked before any request leaves.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from publisher.adapter import BoardAdapter, FileAdapter, Receipt
from publisher.batches import units
from publisher.errors import BoardError, LeaseLost, NotOnBoard
from publisher.fencing import Leases
from publisher.http import SEND_GUARD
from publisher.ledger import Event, Ledger, ListingChange, ListingRow, Outcome, WorkRow
from publisher.pages import REMOVED, UPDATED
from publisher.retry import human
from publisher.schema import Posting
from publisher.states import ActionKind, EventOutcome, Hold, ListingState, WorkState

__all__ = ["BoardLimit", "Executor", "Job", "TokenBucket"]

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
#: A unit of work for a board's worker: how to run it, and its jobs (one outcome each).
Unit = tuple[Callable[[list["Job"], "TokenBucket"], Awaitable[list[Outcome]]], list["Job"]]


@dataclass(frozen=True)
class BoardLimit:
    concurrency: int = 4
    rate_per_second: float | None = None
    burst: int = 1


@dataclass
class Job:
    """One claimed work row with what it needs: the listing, the posting, the adapter."""

    work: WorkRow
    listing: ListingRow
    posting: Posting
    revision: int
    content_hash: str
    adapter: BoardAdapter[Any]
    default_duration: timedelta


class _Lane:
    """One board's units of work waiting, its workers and its rate limit."""

    def __init__(self, concurrency: int, bucket: TokenBucket) -> None:
        self.concurrency, self.bucket = concurrency, bucket
        self.units: deque[Unit] = deque()
        self.workers: list[asyncio.Future[None]] = []
        self.wake = asyncio.Event()  # set when units arrive or no more will
        self.expiries = 0  # how many units at the front are expiries


class TokenBucket:
    """``rate`` calls a second on average, up to ``burst`` at once (time from ``clock``)."""

    def __init__(self, rate: float | None, burst: int, clock: Clock, sleep: Sleep) -> None:
        self.rate, self.burst, self.clock, self.sleep = rate, max(1, burst), clock, sleep
        self.tokens = float(self.burst)
        self.stamp = clock()
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        if not self.rate:
            return
        async with self.lock:
            now = self.clock()
            elapsed = max(0.0, (now - self.stamp).total_seconds())
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
            self.stamp = now
            if self.tokens < 1:
                await self.sleep((1 - self.tokens) / self.rate)
                self.tokens, self.stamp = 0.0, self.clock()
            else:
                self.tokens -= 1


class Executor:
    """Runs jobs; a writer task records outcomes in the ledger in batches as they finish,
    off the event loop, so board calls keep going while the database writes."""

    def __init__(
        self,
        ledger: Ledger,
        clock: Clock,
        sleep: Sleep,
        *,
        max_wait: float = 120.0,
        batch: int = 500,
        window: float = 0.2,
        progress: Callable[[Job, Outcome, float], None] | None = None,
        added: Callable[[int], None] | None = None,
        stopping: asyncio.Event | None = None,
        leases: Leases | None = None,
        deadline: Callable[[str], float] | None = None,
    ) -> None:
        self.ledger, self.clock, self.sleep = ledger, clock, sleep
        self.leases = leases  # the claims' leases: renewed while running, checked per call
        self.deadline = deadline or (lambda board: 60.0)  # seconds one board call may take
        self.stopping = stopping  # once set, no unit is started (a worker asked to stop)
        self.max_wait, self.batch, self.progress = max_wait, batch, progress
        self.window = window  # seconds a batch of outcomes may gather before it is written
        self.broken: dict[str, str] = {}  # board -> auth failure seen in this run
        self.held: list[Outcome] = []  # feed and page boards: recorded after their files
        self.notes: list[str] = []  # outcomes the ledger could not take whole
        self._outcomes: asyncio.Queue[Outcome | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.added = added  # told how many jobs the run has had so far, as they arrive
        self.queued = 0

    async def run(
        self,
        jobs: list[Job],
        limits: dict[str, BoardLimit],
        more: asyncio.Queue[list[Job] | None] | None = None,
    ) -> None:
        """Run every job; each outcome goes to the ledger (in batches) and to ``progress``.

        Per board the jobs become units of work: a job alone, a batch (boards declaring
        ``batch_size``) or a poll of several tasks (boards declaring ``tasks``). ``jobs`` is
        consumed (emptied), so a finished job's memory is freed as the run goes. ``more``:
        further jobs arrive there while the run goes (a sync still planning), until None;
        each board keeps its concurrency limit over all of them.
        """
        self._limits, self._open = limits, more is not None
        self._lanes: dict[str, _Lane] = {}
        self._add(jobs)
        writer = self._writer = asyncio.create_task(self._write())
        beat = asyncio.create_task(self.leases.beat()) if self.leases is not None else None
        try:
            if more is not None:
                while (arrived := await more.get()) is not None:
                    self._add(arrived)
                self._open = False
                for lane in self._lanes.values():
                    lane.wake.set()
            await asyncio.gather(*[w for lane in self._lanes.values() for w in lane.workers])
        finally:
            if beat is not None:
                beat.cancel()
            for lane in self._lanes.values():  # cancelled: no worker outlives the run
                for worker in lane.workers:
                    worker.cancel()
            self._outcomes.put_nowait(None)
            try:
                await writer  # re-raises a failed write: the run stops there
            finally:  # stopped early: what was never started goes back, untouched
                self._give_back(
                    [
                        job.work.id
                        for lane in self._lanes.values()
                        for _, left in lane.units
                        for job in left
                    ]
                )

    def _add(self, jobs: list[Job]) -> None:
        """Queue jobs on their boards' lanes; start workers up to each board's limit."""
        by_board: dict[str, list[Job]] = {}
        for job in jobs:
            by_board.setdefault(job.listing.board, []).append(job)
            if self.leases is not None:
                self.leases.add(job.work)
        jobs.clear()
        for board, mine in by_board.items():
            lane = self._lanes.get(board)
            if lane is None:
                limit = self._limits.get(board, BoardLimit())
                lane = self._lanes[board] = _Lane(
                    limit.concurrency,
                    TokenBucket(limit.rate_per_second, limit.burst, self.clock, self.sleep),
                )
            for unit in units(self, mine):  # expiries first (they arrive after others)
                if all(job.work.kind == ActionKind.EXPIRE for job in unit[1]):
                    lane.units.insert(lane.expiries, unit)
                    lane.expiries += 1
                else:
                    lane.units.append(unit)
            lane.wake.set()
            while len(lane.workers) < min(lane.concurrency, len(lane.units)):
                lane.workers.append(asyncio.ensure_future(self._worker(lane)))
        self.queued += sum(len(mine) for mine in by_board.values())
        if self.added is not None:
            self.added(self.queued)

    def _give_back(self, work_ids: list[int]) -> None:
        if not work_ids:
            return
        try:
            self.ledger.release(work_ids, self.leases.owner if self.leases else None)
        except Exception:  # the ledger is failing: their leases lapse, and they are taken over
            self.notes.append(
                f"stopping: {len(work_ids)} action(s) not started are left to their lease"
            )
        else:
            self.notes.append(
                f"stopping: {len(work_ids)} action(s) not started were given back for the next run"
            )

    async def _worker(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        while not (self.stopping is not None and self.stopping.is_set()):
            if not lane.units:
                if not self._open:
                    return
                lane.wake.clear()  # more may come: wait for it (or for the end)
                await lane.wake.wait()
                continue
            if self._writer is not None and self._writer.done():
                return  # the ledger cannot be written: call no board we cannot record
            run, jobs = lane.units.popleft()
            lane.expiries = max(0, lane.expiries - 1)
            started = loop.time()
            outcomes = await self._unit(run, jobs, lane.bucket)
            for job, outcome in zip(jobs, outcomes, strict=True):
                outcome.fence = job.work.fence
                if isinstance(job.adapter, FileAdapter):
                    self.held.append(outcome)  # recorded once the board's files are written
                else:
                    self._outcomes.put_nowait(outcome)
                if self.progress is not None:
                    self.progress(job, outcome, loop.time() - started)

    async def _unit(
        self,
        run: Callable[[list[Job], TokenBucket], Awaitable[list[Outcome]]],
        jobs: list[Job],
        bucket: TokenBucket,
    ) -> list[Outcome]:
        """One unit of work, sent only while this run still holds every job's lease (checked
        now, and again before each request leaves); a job whose work was taken over by
        another worker is not sent, and its outcome is recorded as a stale attempt."""
        if self.leases is None:
            return await self._guarded(run, jobs, bucket)
        deadline = self.deadline(jobs[0].adapter.name)
        lost = await self.leases.check([job.work.id for job in jobs], deadline)
        mine = [job for job in jobs if job.work.id not in lost]
        done = {id(job): self._not_sent(job) for job in jobs if job.work.id in lost}
        if mine:
            token = SEND_GUARD.set(self.leases.guard([job.work.id for job in mine], deadline))
            try:
                done.update(zip(map(id, mine), await self._guarded(run, mine, bucket), strict=True))
            except LeaseLost:
                done.update((id(job), self._not_sent(job)) for job in mine)
            finally:
                SEND_GUARD.reset(token)
        return [done[id(job)] for job in jobs]

    async def _guarded(
        self,
        run: Callable[[list[Job], TokenBucket], Awaitable[list[Outcome]]],
        jobs: list[Job],
        bucket: TokenBucket,
    ) -> list[Outcome]:
        """The unit's outcomes; an exception no handler expected fails its jobs (after
        logging it), a create among them marked to be looked up before any resend."""
        try:
            return await run(jobs, bucket)
        except LeaseLost:
            raise
        except Exception as exc:
            logger.exception(
                "%s: unexpected %s while running %s",
                jobs[0].adapter.name,
                type(exc).__name__,
                ", ".join(f"#{j.work.id}" for j in jobs),
            )
            outcomes = []
            for job in jobs:
                outcome = self.failed(
                    job,
                    BoardError(
                        job.adapter.name, f"{type(exc).__name__} while running {job.work.kind}"
                    ),
                    [],
                    job.listing.attempts + 1,
                )
                if job.work.kind == ActionKind.POST:
                    outcome.listing["reconcile"] = True  # it may be on the board: look first
                outcomes.append(outcome)
            return outcomes

    def _not_sent(self, job: Job) -> Outcome:
        """A job whose lease passed to another worker before its call: nothing was sent by
        this attempt. Recorded only as a stale attempt (the fence no longer matches); were
        it still this run's, the work would simply be due again (a create looked up first,
        since an earlier attempt of this run may have reached the board)."""
        event = self.event(
            job,
            job.work.kind,
            EventOutcome.STALE,
            "nothing sent: the lease had passed to another worker",
        )
        listing: ListingChange = {"reconcile": True} if job.work.kind == ActionKind.POST else {}
        return Outcome(
            job.work.id,
            job.listing.id,
            listing,
            {"state": WorkState.PENDING, "due_at": self.clock()},
            [event],
        )

    async def _write(self) -> None:
        """Record outcomes in batches until None: a batch is what arrives within ``window``
        seconds of its first outcome (or ``batch`` outcomes), so the database commits a few
        large transactions rather than many small ones. An outcome not yet written when the
        process dies is settled as any unrecorded call is: its lease lapses, and the next
        run reconciles it before doing anything again."""
        loop = asyncio.get_running_loop()
        while True:
            batch: list[Outcome] = []
            item = await self._outcomes.get()
            until = loop.time() + self.window
            while item is not None:
                batch.append(item)
                if len(batch) >= self.batch:
                    break
                if self._outcomes.empty():
                    left = until - loop.time()
                    if left <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(self._outcomes.get(), left)
                    except TimeoutError:
                        break
                    continue
                item = self._outcomes.get_nowait()
            if batch:
                self.notes += await asyncio.to_thread(self.ledger.record, batch)
                if self.leases is not None:
                    self.leases.done(o.work_id for o in batch)
            if item is None:
                return

    # -- outcomes ------------------------------------------------------------------------
    def event(
        self, job: Job, action: str, outcome: str, detail: str, status: int | None = None
    ) -> Event:
        return Event(
            self.clock(), job.listing.posting_id, job.listing.board, action, outcome, detail, status
        )

    def _expiry(self, job: Job, posted: datetime) -> datetime:
        return (job.posting.expiry_time() or posted + job.default_duration).astimezone(UTC)

    def done(
        self, job: Job, receipt: Receipt | None, events: list[Event], attempts: int
    ) -> Outcome:
        now, kind, listing = self.clock(), job.work.kind, job.listing
        values: ListingChange = {
            "changed_at": now,
            "last_error": None,
            "reconcile": False,
            "attempts": attempts,
        }
        if receipt is not None:
            values.update({"board_id": receipt.board_id, "url": receipt.url})
        if kind == ActionKind.POST:
            values.update(
                {
                    "hold": None,  # restored or reopened: back to following the file
                    "state": ListingState.PENDING
                    if receipt and receipt.pending
                    else ListingState.LIVE,
                    "posted_at": now,
                    "refreshed_at": None,
                    "refresh_count": 0,
                    "expired_at": None,
                    "revision": job.revision,
                    "content_hash": job.content_hash,
                    "expires_at": self._expiry(job, now),
                }
            )
        elif kind == ActionKind.UPDATE:
            values.update(
                {
                    "state": ListingState.LIVE,
                    "revision": job.revision,
                    "content_hash": job.content_hash,
                    "expires_at": self._expiry(job, listing.posted_at or now),
                }
            )
        elif kind == ActionKind.REFRESH:
            values.update({"refreshed_at": now, "refresh_count": listing.refresh_count + 1})
        else:  # held as the expire says: by hand, or its file or board removed (or not)
            values.update(
                {
                    "state": ListingState.EXPIRED,
                    "expired_at": now,
                    "hold": Hold.MANUAL if listing.hold == Hold.MANUAL else job.work.hold,
                }
            )
        if isinstance(job.adapter, FileAdapter) and job.adapter.announces:
            was_public = listing.state in (ListingState.LIVE, ListingState.PENDING)
            if kind != ActionKind.EXPIRE:
                values["notify"] = UPDATED
            elif was_public:
                values["notify"] = REMOVED
        return Outcome(
            job.work.id, listing.id, values, {"state": WorkState.DONE, "last_error": None}, events
        )

    def settle(
        self,
        job: Job,
        receipt: Receipt | None,
        events: list[Event],
        attempts: int,
        probe: bool = False,
    ) -> Outcome:
        """The action's answer: done, or accepted as a task the board finishes later."""
        if receipt is None or receipt.task is None:
            return self.done(job, receipt, events, attempts)
        tasks = getattr(job.adapter, "tasks", None)
        if tasks is None:
            return self.failed(
                job,
                BoardError(
                    job.adapter.name, "answered with a task id but declares no tasks to poll"
                ),
                events,
                attempts,
            )
        now, kind = self.clock(), job.work.kind
        first = now + tasks.first_poll
        what = (
            "update sent to find out whether an earlier create reached the board"
            if probe
            else f"{kind} accepted"
        )
        events.append(
            self.event(
                job,
                kind,
                EventOutcome.OK,
                f"{what}; board task {receipt.task}, first poll in {human(tasks.first_poll)}",
            )
        )
        values: ListingChange = {
            "attempts": attempts,
            "last_error": None,
            "changed_at": now,
            "reconcile": probe,
        }
        if kind == ActionKind.POST and not probe:
            values.update({"state": ListingState.PENDING})
        if kind in (ActionKind.POST, ActionKind.UPDATE) and not probe:  # what was sent
            values.update({"revision": job.revision, "content_hash": job.content_hash})
        return Outcome(
            job.work.id,
            job.listing.id,
            values,
            {
                "state": WorkState.PENDING,
                "due_at": first,
                "task_id": receipt.task,
                "task_until": now + tasks.lifetime,
                "polls": 0,
                "probe": probe,
                "last_error": None,
            },
            events,
        )

    def gone(self, job: Job, error: NotOnBoard, events: list[Event], attempts: int) -> Outcome:
        """A withdrawal of a job the board no longer has open: withdrawn, and said so."""
        events.append(
            self.event(
                job,
                ActionKind.EXPIRE,
                EventOutcome.OK,
                f"already closed on the board ({error.reason}): counted as withdrawn",
                error.status,
            )
        )
        return self.done(job, None, events, attempts)

    def failed(
        self,
        job: Job,
        error: BoardError,
        events: list[Event],
        attempts: int,
        *,
        found: Receipt | None = None,
        unknown: bool = False,
    ) -> Outcome:
        """A permanent failure; what is known of the listing on the board is kept (a create
        ``found`` there, or one whose outcome is ``unknown``, is never made again)."""
        reason = str(error)
        events.append(
            self.event(job, job.work.kind, EventOutcome.FAILED, error.reason, error.status)
        )
        values: ListingChange = {
            "state": ListingState.FAILED,
            "last_error": reason,
            "attempts": attempts,
            "revision": job.revision,
            "content_hash": job.content_hash,
            "changed_at": self.clock(),
        }
        if found is not None:
            values.update({"board_id": found.board_id, "url": found.url})
        elif unknown:
            values.update({"reconcile": True})
        return Outcome(
            job.work.id,
            job.listing.id,
            values,
            {"state": WorkState.FAILED, "last_error": reason},
            events,
        )

    def rescheduled(
        self,
        job: Job,
        error: BoardError,
        wait: timedelta,
        events: list[Event],
        attempts: int,
        reconcile: bool,
    ) -> Outcome:
        due = self.clock() + wait
        events.append(
            self.event(
                job,
                job.work.kind,
                "retry",
                f"{error.reason}; next attempt in {human(wait)}",
                error.status,
            )
        )
        return Outcome(
            job.work.id,
            job.listing.id,
            {"last_error": str(error), "attempts": attempts, "reconcile": reconcile},
            {"state": WorkState.PENDING, "due_at": due, "last_error": str(error)},
            events,
        )

    # -- feed and page boards --------------------------------------------------------------
    async def files(self, jobs: list[Job], bucket: TokenBucket) -> list[Outcome]:
        """A unit of feed or page board jobs: each done once the board's files are written
        (its outcome is held until then)."""
        outcomes = []
        for job in jobs:
            adapter = job.adapter
            assert isinstance(adapter, FileAdapter)
            receipt = (
                adapter.receipt(job.posting, job.listing.external_ref)
                if job.work.kind != ActionKind.EXPIRE
                else None
            )
            event = self.event(job, job.work.kind, EventOutcome.OK, _FILE_DONE[job.work.kind])
            outcomes.append(self.done(job, receipt, [event], job.listing.attempts + 1))
        return outcomes


_FILE_DONE = {
    "post": "added to the board's files",
    "update": "changed in the board's files",
    "refresh": "date renewed in the board's files",
    "expire": "removed from the board's files",
}
