"""Engine fixtures: a ledger on SQLite and (when JOBPUB_TEST_PG is set) PostgreSQL, a fake
clock whose sleeps only move time, the fake board, and a project folder to sync."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
import sqlalchemy as sa

from publisher.registry import boards
from publisher.tables import metadata
from tests.engine.world import FakeClock, World
from tests.factories import NOW
from tests.fakeboard import FakeBoard, FakeBoardAdapter

PG_ENV = "JOBPUB_TEST_PG"


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same engine tests on both databases; PostgreSQL only when JOBPUB_TEST_PG is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/ledger.db"
        return
    yield from _postgres()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """PostgreSQL alone (what fleets of workers share)."""
    yield from _postgres()


def _postgres() -> Iterator[str]:
    url = os.environ.get(PG_ENV)
    if not url:
        why = f"{PG_ENV} is not set (e.g. postgresql+psycopg://user@127.0.0.1/db)"
        if os.environ.get("CI"):
            pytest.fail(f"CI=true: the PostgreSQL tests must run: {why}")
        pytest.skip(why)
    _reset_postgres(url)
    yield url
    _reset_postgres(url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def board(http: respx.MockRouter, monkeypatch: pytest.MonkeyPatch) -> FakeBoard:
    monkeypatch.setitem(boards(), "fakeboard", FakeBoardAdapter)
    return FakeBoard(http)


@pytest.fixture
def world(ledger_url: str, clock: FakeClock, board: FakeBoard, tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path / "project", ledger_url, clock, board)
    yield w
    w.close()
