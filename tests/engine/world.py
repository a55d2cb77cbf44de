"""A project folder, a ledger and a fake clock: each ``sync`` is a new engine, as a new
process (cron) would be."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from publisher.config import load_config
from publisher.database import connect
from publisher.engine import Engine, SyncResult
from publisher.ledger import Ledger, ListingRow, owner_id
from tests.factories import posting_data
from tests.fakeboard import FakeBoard

CONFIG = """\
timezone = "America/Denver"
eeo_statement = "We are an equal opportunity employer."
ledger = "{ledger}"
postings_dir = "{postings}"

[company]
name = "Example Corp"

[boards.google]
site_url = "https://jobs.example.com/{{id}}.html"
output_dir = "{out}"

[boards.indeed_feed]
job_url = "https://jobs.example.com/{{id}}.html"
output_dir = "{out}"

[boards.fakeboard]
"""


class FakeClock:
    """``now`` for the engine; ``sleep`` records the wait and moves time instead of waiting."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


#: A lease owner that is a process of this host which no longer exists.
DEAD = f"{owner_id().rpartition(':')[0]}:999999999"


class Killed(BaseException):
    """The process dies: nothing after the board call reaches the ledger."""


class World:
    def __init__(self, root: Path, ledger_url: str, clock: FakeClock, board: FakeBoard) -> None:
        self.root, self.clock, self.board = root, clock, board
        self.postings = root / "postings"
        self.defaults: dict[str, Any] = {}  # what every posting written here has (a board's)
        self.postings.mkdir(parents=True)
        self.out = root / "public"
        self.config_path = root / "jobpub.toml"
        self.config_path.write_text(
            CONFIG.format(ledger=ledger_url, out=self.out, postings=self.postings)
        )
        self.config = load_config(self.config_path)
        self.ledger = Ledger(connect(ledger_url))

    def write(self, posting_id: str = "data-analyst", **changes: Any) -> Path:
        data = posting_data(
            id=posting_id,
            publish_at=date(2026, 11, 27),
            expires_at=date(2026, 12, 31),
            boards={"fakeboard": {}},
        )
        data.update({**self.defaults, **changes})
        path = self.postings / f"{posting_id}.yaml"
        path.write_text(
            yaml.safe_dump({k: v for k, v in data.items() if v is not None}, sort_keys=False)
        )
        return path

    def engine(self, **kwargs: Any) -> Engine:
        return Engine(self.config, self.ledger, clock=self.clock, sleep=self.clock.sleep, **kwargs)

    async def sync(self, **kwargs: Any) -> SyncResult:
        engine = self.engine()
        try:
            return await engine.sync([self.postings], **kwargs)
        finally:
            await engine.aclose()

    def listing(self, posting_id: str = "data-analyst", board: str = "fakeboard") -> ListingRow:
        rows = [r for r in self.ledger.listings(posting_id) if r.board == board]
        assert len(rows) == 1, rows
        return rows[0]

    def actions(self, result: SyncResult) -> list[tuple[str, str, str, str]]:
        return sorted((d.posting, d.board, d.action, d.state) for d in result.outcomes)

    async def crash(self, owner: str = DEAD) -> None:
        """A sync (as ``owner``) that makes its board calls and dies before recording any
        of them: its work is left running under its lease."""
        original = Ledger.record

        def die(self: Ledger, outcomes: object) -> list[str]:
            raise Killed

        Ledger.record = die  # type: ignore[method-assign]
        try:
            engine = self.engine(owner=owner)
            try:
                await engine.sync([self.postings])
            except Killed:
                pass
            else:
                raise AssertionError("the crashed sync recorded nothing and did not die")
            finally:
                await engine.aclose()
        finally:
            Ledger.record = original  # type: ignore[method-assign]

    def close(self) -> None:
        self.ledger.engine.dispose()
