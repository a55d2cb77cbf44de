"""``jobpub run``: APScheduler 3.11 as a ticker only. Every tick is one ``sync``; all
durable state (due times, retries, leases) lives in the ledger, so a restart loses nothing
and a tick missed while the process was down is simply done by the next one.

Several workers may share one ledger (PostgreSQL): claims are ``FOR UPDATE SKIP LOCKED``
under leases, so an action is run by one of them. Each records a heartbeat (``status``
shows it). On SIGTERM or SIGINT a worker stops claiming and starting actions, lets calls in
flight finish for up to ``grace`` seconds and gives back what it had not started; calls
still running after that are cut short and their leases ended, so another worker takes them
over at once and reconciles them before sending anything again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from publisher.engine import Engine, Progress, SyncResult
from publisher.errors import PublisherError
from publisher.fleet import BEAT, Heartbeat
from publisher.redact import redact

__all__ = ["serve"]


async def serve(
    engine: Engine,
    every: int,
    report: Callable[[SyncResult], None],
    stop: asyncio.Event | None = None,
    progress: Progress | None = None,
    grace: float = 30.0,
    say: Callable[[str], None] | None = None,
) -> None:
    """Sync now and every ``every`` seconds until ``stop`` is set (or SIGINT/SIGTERM)."""
    stop = stop or asyncio.Event()
    say = say or (lambda line: print(f"jobpub run: {line}", file=sys.stderr, flush=True))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread
            loop.add_signal_handler(sig, stop.set)
    # A tick still running when the next is due is skipped by design (coalesce): not news.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    heart = Heartbeat(engine.ledger, engine.owner, engine.clock)
    await asyncio.to_thread(heart.start)
    ticking: set[asyncio.Task[object]] = set()

    async def sync() -> None:
        try:
            result = await engine.sync(progress=progress)
            report(result)
            await asyncio.to_thread(heart.beat, _words(result))
        except PublisherError as exc:  # a bad config or ledger: say so, try again next tick
            say(str(exc))

    async def tick() -> None:
        if stop.is_set():
            return
        # Its own task, so that a stop can cut it short without the ticker seeing an error.
        task: asyncio.Task[object] = asyncio.create_task(sync())
        ticking.add(task)
        try:
            await asyncio.wait({task})
        finally:
            ticking.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            say(
                redact(
                    f"the tick failed ({type(error).__name__}: {error}); the next one tries again"
                )
            )

    async def beat() -> None:
        try:
            await asyncio.to_thread(heart.beat)
        except Exception as exc:  # the ledger is away: the next tick says so
            say(f"heartbeat not recorded ({type(exc).__name__})")

    scheduler = AsyncIOScheduler(event_loop=loop)
    scheduler.add_job(
        tick,
        "interval",
        seconds=every,
        id="tick",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        beat,
        "interval",
        seconds=BEAT,
        id="beat",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    scheduler.start()
    try:
        await stop.wait()
    finally:
        engine.stopping.set()
        await _finish(engine, ticking, grace, say)  # (heartbeats go on meanwhile)
        await asyncio.sleep(0)  # the ticker's own task sees its tick end
        scheduler.shutdown(wait=False)
        await asyncio.to_thread(heart.stop)


async def _finish(
    engine: Engine, ticking: set[asyncio.Task[object]], grace: float, say: Callable[[str], None]
) -> None:
    """Let the tick in flight end within ``grace`` seconds, else cut it short."""
    if not ticking:
        return
    say(f"stopping: letting calls in flight finish (up to {grace:g} s)")
    _, late = await asyncio.wait(set(ticking), timeout=grace)
    if not late:
        return
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    cut = await asyncio.to_thread(engine.ledger.lapse, engine.owner, engine.clock())
    say(
        f"stopping: {cut} call(s) cut short after {grace:g} s; another worker takes them "
        "over and reconciles them first"
    )


def _words(result: SyncResult) -> str:
    done = sum(1 for d in result.outcomes if d.state in ("done", "waiting"))
    failed = len(result.failed)
    later = len(result.outcomes) - done - failed
    return f"{done} done, {later} later, {failed} failed"
