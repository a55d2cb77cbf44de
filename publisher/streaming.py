"""A plain sync that starts calling boards before every file is validated.

A first sync of 10,000 postings spends seconds validating, recording and planning before
its first board call. Streamed, the load runs in a thread: as the validation pool finishes
each share of the changed files, that share is recorded, planned, queued and claimed there,
and its jobs join the executor already running on the event loop (each board keeps its
concurrency limit over all of them). When the load is done, the rest is planned as in any
sync: queued, held and removed postings, listings due from earlier runs, every listing on
a full plan (see ``Loaded.streamed``) — and its work joins the same run.

Only what cannot change by what a later share holds is streamed: valid postings whose file
is the only one with its name and whose top-level ``id:`` line is its name (:func:`claims`),
so no file validated later can make it a ``duplicate-id``. A share recorded but not yet
planned when the process dies is planned by the next tick (``postings.plan_pending``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.ledger import Ledger
from publisher.sync_result import Loaded, Progress, SyncResult, fewer_collections

if TYPE_CHECKING:
    from publisher.engine import Engine
    from publisher.executor import Job

__all__ = ["claims", "streamed", "streams"]

#: A top-level ``id:`` line with a plain (or quoted) slug, nothing after it but a comment.
_ID_LINE = re.compile(
    rb"""^id:[ \t]*(["']?)([a-z0-9][a-z0-9-]*)\1[ \t]*(?:#[^\n]*)?\r?$""", re.MULTILINE
)


def claims(data: bytes) -> str | None:
    """The id a posting file's text gives at its top level in one plain ``id:`` line; None
    when it gives none that plainly, or more than one such line."""
    found = _ID_LINE.findall(data)
    return found[0][1].decode() if len(found) == 1 else None


def streams(ledger: Ledger) -> bool:
    """Whether the load can run in a thread: every ledger but SQLite in memory (each
    thread would get a database of its own)."""
    url = ledger.engine.url
    return url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:")


class _Stopped(Exception):
    """The sync was cancelled: the load stops at its next share."""


async def streamed(
    engine: Engine, paths: Sequence[Path], retry_failed: bool, progress: Progress | None, lazy: bool
) -> SyncResult:
    """Load (in a thread), plan and run, the executor taking each share's jobs as they
    come; then the rest of the plan, and the feed and page files."""
    loop = asyncio.get_running_loop()
    more: asyncio.Queue[list[Job] | None] = asyncio.Queue()
    result = SyncResult()
    cancelled = threading.Event()
    started = engine.clock()
    feeding = True

    def share(part: Loaded) -> None:  # in the load's thread
        if cancelled.is_set():
            raise _Stopped
        if engine.stopping.is_set():  # recorded, left to the next tick to plan
            return
        rows = engine.ledger.listings_of(set(part.desired))
        rows = engine._queue_planned(
            part,
            rows,
            False,
            result,
            retry_failed,
            work=engine.ledger.open_work([r.id for r in rows]),
        )
        run(part, [r.id for r in rows])

    def run(loaded: Loaded, only: list[int] | None) -> None:
        """Claim (the work of these listings only) and hand the jobs to the executor."""
        claimed, taken_over = engine.ledger.claim(
            engine.owner,
            engine.clock(),
            only=only,
            mine_since=started,  # (earlier shares')
            lease=engine.lease,
        )
        engine._took_over(taken_over, result)
        jobs, release = engine._jobs(claimed, loaded, result.skipped)
        engine.ledger.release(release, engine.owner)
        loop.call_soon_threadsafe(deliver, jobs)

    def deliver(jobs: list[Job]) -> None:  # on the event loop
        if feeding:
            more.put_nowait(jobs)
        else:  # the run is over (cancelled): the work goes back untouched
            engine.ledger.release([job.work.id for job in jobs], engine.owner)

    def load() -> Loaded:  # in a thread: the event loop goes on with the board calls
        try:
            loaded = engine.load(paths, lazy=lazy, each=share)
            result.findings = loaded.findings
            if cancelled.is_set():
                raise _Stopped
            engine._queue_due(loaded, result, retry_failed)
            if not engine.stopping.is_set():  # asked to stop while planning: claim no more
                run(loaded, None)
            return loaded
        finally:
            finished.set()

    finished = threading.Event()
    executor = engine._executor(result, progress)
    with fewer_collections:
        running = asyncio.ensure_future(executor.run([], engine.limits(), more))
        try:
            loaded = await asyncio.to_thread(load)
        except (asyncio.CancelledError, KeyboardInterrupt):
            # Cancelled: calls in flight are cancelled, as in any cancelled sync, and the
            # load stops at its next share (what it recorded and did not plan, the next
            # tick plans); it is waited for, so that no later sync overlaps it.
            cancelled.set()
            feeding = False
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            while not more.empty():  # handed over, never taken up by the run
                deliver(more.get_nowait() or [])
            await asyncio.to_thread(finished.wait)
            raise
        finally:  # else what was claimed runs to its end, even when planning failed
            cancelled.set()
            if feeding:
                feeding = False
                more.put_nowait(None)
            if not running.done():
                await running
        result.upcoming.sort(key=lambda a: (a.due, a.posting, a.board))
        await engine._finish(executor, result, loaded)
    return result
