"""The ``jobpub run`` workers sharing one ledger: each records a heartbeat every
:data:`BEAT` seconds (and a word on its last tick) that ``jobpub status`` shows, so a fleet's
operator sees which workers are running, which went silent and which stopped.

A heartbeat is for people: who may take over work is decided by leases alone
(:meth:`publisher.ledger.Ledger.claim`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update

from publisher.ledger import Ledger
from publisher.tables import workers

__all__ = ["BEAT", "Heartbeat", "Worker", "fleet"]

BEAT = 10.0  # seconds between heartbeats
SILENT = timedelta(seconds=6 * BEAT)  # no beat for this long: shown as silent
KEEP = timedelta(days=7)  # workers stopped or silent this long are forgotten


@dataclass(frozen=True)
class Worker:
    owner: str
    started_at: datetime
    beat_at: datetime
    ticks: int
    last_tick: str | None
    stopped_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.stopped_at is not None:
            return "stopped"
        return "running" if now - self.beat_at <= SILENT else "silent"


class Heartbeat:
    """One worker's row: started, beating, stopped."""

    def __init__(self, ledger: Ledger, owner: str, clock: Callable[[], datetime]) -> None:
        self.ledger, self.owner, self.clock = ledger, owner, clock

    def start(self) -> None:
        now = self.clock()
        with self.ledger.engine.begin() as conn:
            conn.execute(
                delete(workers).where(  # (a killed worker never says it stopped)
                    (workers.c.owner == self.owner) | (workers.c.beat_at < now - KEEP)
                )
            )
            conn.execute(
                insert(workers).values(owner=self.owner, started_at=now, beat_at=now, ticks=0)
            )

    def beat(self, last_tick: str | None = None) -> None:
        values: dict[str, object] = {"beat_at": self.clock()}
        if last_tick is not None:
            values.update(ticks=workers.c.ticks + 1, last_tick=last_tick)
        with self.ledger.engine.begin() as conn:
            conn.execute(update(workers).where(workers.c.owner == self.owner).values(values))

    def stop(self) -> None:
        now = self.clock()
        with self.ledger.engine.begin() as conn:
            conn.execute(
                update(workers)
                .where(workers.c.owner == self.owner)
                .values(beat_at=now, stopped_at=now)
            )


def fleet(ledger: Ledger) -> list[Worker]:
    """Every worker known, running ones first."""
    columns = [workers.c[f.name] for f in fields(Worker)]
    with ledger.reads.connect() as conn:
        rows = [Worker(*row) for row in conn.execute(select(*columns))]
    return sorted(rows, key=lambda w: (w.stopped_at is not None, w.owner))
