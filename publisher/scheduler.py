"""``jobpub run``: APScheduler 3.11 as a ticker only. Every tick is one ``sync``; all
durable state (due times, retries, leases) lives in the ledger, so a restart loses nothing
and a tick missed while the process was down is simply done by the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from publisher.engine import Engine, Progress, SyncResult
from publisher.errors import PublisherError

__all__ = ["serve"]


async def serve(engine: Engine, every: int, report: Callable[[SyncResult], None],
                stop: asyncio.Event | None = None, progress: Progress | None = None) -> None:
    """Sync now and every ``every`` seconds until ``stop`` is set (or SIGINT/SIGTERM)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread
            loop.add_signal_handler(sig, stop.set)

    async def tick() -> None:
        try:
            report(await engine.sync(progress=progress))
        except PublisherError as exc:  # a bad config or ledger: say so, try again next tick
            print(f"jobpub run: {exc}", file=sys.stderr, flush=True)

    scheduler = AsyncIOScheduler(event_loop=loop)
    scheduler.add_job(tick, "interval", seconds=every, id="tick", coalesce=True,
                      max_instances=1, misfire_grace_time=None)
    await tick()
    scheduler.start()
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
