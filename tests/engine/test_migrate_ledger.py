"""``jobpub migrate-ledger``: a SQLite ledger moved to another database (SQLite, and
PostgreSQL when JOBPUB_TEST_PG is set) keeps every row and id, carries on where it was
(nothing re-posted, new rows get new ids), and refuses a non-empty target or a busy source."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import insert

import publisher.engine_cli  # noqa: F401  (registers the engine's commands)
from publisher.cli import ENGINE_COMMANDS, cli
from publisher.database import connect
from publisher.ledger import Ledger
from publisher.tables import due_work, metadata
from tests.engine.world import FakeClock, World
from tests.fakeboard import FakeBoard


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = {
            t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
            for t in metadata.sorted_tables
        }
    engine.dispose()
    return found


async def test_a_moved_ledger_carries_on_where_it_was(
    ledger_url: str, clock: FakeClock, board: FakeBoard, tmp_path: Path
) -> None:
    source = f"sqlite:///{tmp_path}/source.db"
    world = World(tmp_path / "project", source, clock, board)
    world.write("data-analyst")
    world.write("ux-writer")
    await world.sync()
    clock.advance(days=1)
    await world.sync()  # both published
    engine = world.engine()
    await engine.expire_now("ux-writer")
    await engine.aclose()
    before = rows(source)
    assert before["listings"] and before["events"] and before["revisions"]

    moved = CliRunner().invoke(cli, ["migrate-ledger", source, ledger_url])
    assert moved.exit_code == 0, moved.output
    assert "listings: 2 row(s)" in moved.output and "copied " in moved.output
    assert rows(ledger_url) == before

    world.ledger.engine.dispose()
    world.ledger = Ledger(connect(ledger_url))
    again = await world.sync()
    assert again.outcomes == [] and len(board.jobs) == 2  # nothing posted again
    assert [job["title"] for job in board.live()] == ["Data Analyst"]
    world.write("store-manager")
    added = await world.sync()  # new rows get ids past the copied ones
    assert [(d.posting, d.state) for d in added.outcomes] == [("store-manager", "done")]
    ids = [r[0] for r in rows(ledger_url)["listings"]]
    assert len(ids) == len(set(ids)) == 3

    refused = CliRunner().invoke(cli, ["migrate-ledger", source, ledger_url])
    assert refused.exit_code == 2 and "is not empty (table" in refused.output
    world.close()


def test_a_busy_ledger_and_passwords(tmp_path: Path, clock: FakeClock) -> None:
    source = f"sqlite:///{tmp_path}/busy.db"
    connect(source).dispose()  # a ledger at the current schema
    engine = sa.create_engine(source)  # (foreign keys unchecked: only the lease matters)
    with engine.begin() as conn:
        conn.execute(
            insert(due_work).values(
                listing_id=1,
                kind="post",
                reason="test",
                due_at=clock.now,
                state="running",
                created_at=clock.now,
                attempts=1,
                idempotency_key="k",
                lease_owner="host:1",
                lease_until=clock.now + timedelta(days=3650),
            )
        )
    engine.dispose()
    busy = CliRunner().invoke(cli, ["migrate-ledger", source, f"sqlite:///{tmp_path}/t.db"])
    assert busy.exit_code == 2 and "stop jobpub run / sync first" in busy.output
    secret = CliRunner().invoke(
        cli,
        [
            "migrate-ledger",
            f"sqlite:///{tmp_path}/missing.db",
            "postgresql+psycopg://jobpub:hunter2-secret@127.0.0.1:1/none",
        ],
    )
    assert secret.exit_code == 2 and "hunter2-secret" not in secret.output


def test_the_lazy_engine_commands_are_the_engines_commands() -> None:
    from publisher import engine_cli

    assert {command.name for command in engine_cli.COMMANDS} == set(ENGINE_COMMANDS)
    listed = cli.list_commands(click.Context(cli))
    assert set(ENGINE_COMMANDS) <= set(listed) and "validate" in listed
