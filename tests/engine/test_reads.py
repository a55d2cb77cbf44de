"""Reads beside a writer on SQLite: ``status`` and ``history`` answer while a sync holds the
ledger's write lock (reads are deferred transactions, which WAL lets read their snapshot);
writes still take the lock at their start."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.exc import OperationalError

import publisher.engine_cli  # noqa: F401  (registers the engine's commands)
from publisher.cli import cli
from publisher.database import sqlite_path
from tests.engine.world import World

pytestmark = pytest.mark.parametrize("ledger_url", ["sqlite"], indirect=True)


def jobpub(world: World, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(world.config_path), *args])


@contextmanager
def writing(world: World) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction, uncommitted: the write lock held throughout."""
    path = sqlite_path(str(world.ledger.engine.url))
    assert path is not None
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE listings SET last_error = 'not committed yet'")
    try:
        yield writer
    finally:
        writer.execute("ROLLBACK")
        writer.close()


async def test_status_and_history_answer_while_a_sync_writes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("publisher.clock.now", world.clock)
    world.write(publish_at=date(2026, 11, 26))
    await world.sync()
    with writing(world):
        status = jobpub(world, "status", "--json")
        history = jobpub(world, "history", "data-analyst", "--json")
    assert status.exit_code == 0, status.output
    (row,) = json.loads(status.output)["listings"]
    assert (row["state"], row["last_error"]) == ("live", None)  # the committed state
    assert history.exit_code == 0, history.output
    assert [e["outcome"] for e in json.loads(history.output)["events"]] == ["ok"]


async def test_a_write_still_waits_for_the_writer(world: World) -> None:
    world.write(publish_at=date(2026, 11, 26))
    await world.sync()
    with writing(world), world.ledger.engine.connect() as conn:
        conn.connection.dbapi_connection.execute("PRAGMA busy_timeout = 0")  # type: ignore[union-attr]
        with pytest.raises(OperationalError, match="database is locked"):
            conn.exec_driver_sql("SELECT 1")  # it begins with BEGIN IMMEDIATE: refused
        assert len(world.ledger.listings()) == 1  # a read meanwhile: its snapshot
