"""The incremental tick plans what changed or is due, and nothing else — and that is the
same as planning everything: on randomized ledgers (postings written, edited, deleted and
restored, publish and expiry dates, boards added and removed, boards failing, time moving on
by minutes to weeks), before every sync the actions due now by the incremental plan equal
those of a full plan. Also: an untouched posting's content is not read, a file's stat spares
reading it, and a change behind the engine's back is seen by a full plan."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from publisher.engine import Engine
from publisher.ledger import Ledger
from publisher.planner import Action
from tests.engine.world import FakeClock, World
from tests.fakeboard import FakeBoard

IDS = [f"job-{i:02d}" for i in range(12)]
BOARDS = ({"fakeboard": {}}, {"google": {}}, {"fakeboard": {}, "google": {}})


def due_now(engine: Engine, actions: list[Action]) -> set[tuple[str, str, str, str]]:
    now = engine.clock()
    return {(a.posting, a.board, a.action, a.reason) for a in actions if a.due <= now}


def both_plans(world: World) -> tuple[set[tuple[str, str, str, str]], set[tuple[str, ...]]]:
    """What an incremental tick would do now, and what a full plan would."""
    engine = world.engine()
    lazy = engine.load([world.postings], lazy=True)  # records changes, as a sync does
    rows, _ = engine.planning_set(lazy)
    incremental = due_now(engine, engine.plan(lazy, listings=rows))
    full = due_now(engine, engine.plan(engine.load([world.postings])))
    return incremental, full


def mutate(world: World, rng: random.Random, today: date) -> str:
    posting = rng.choice(IDS)
    path = world.postings / f"{posting}.yaml"
    roll = rng.random()
    if roll < 0.15 and path.exists():
        path.rename(path.with_suffix(".gone"))
        return f"delete {posting}"
    if roll < 0.25 and path.with_suffix(".gone").exists():
        path.with_suffix(".gone").rename(path)
        return f"restore {posting}"
    if roll < 0.35:
        world.board.fail_next(rng.choice(["503", "400", "429:1", "timeout-after"]))
        return "a board fault"
    publish = today + timedelta(days=rng.randint(-5, 6))
    world.write(
        posting,
        publish_at=publish,
        expires_at=publish + timedelta(days=rng.randint(3, 40)),
        boards=rng.choice(BOARDS),
        title=rng.choice(["Data Analyst", "Analyst II"]),
    )
    return f"write {posting}"


@pytest.mark.parametrize("seed", range(6))
async def test_incremental_and_full_plans_agree_on_randomized_ledgers(
    world: World, seed: int
) -> None:
    rng = random.Random(seed)
    for step in range(40):
        what = mutate(world, rng, world.clock().date())
        if rng.random() < 0.5:
            world.clock.advance(
                **rng.choice([{"minutes": 7}, {"hours": 5}, {"days": 1}, {"days": 8}, {"days": 20}])
            )
        incremental, full = both_plans(world)
        assert incremental == full, f"seed {seed}, step {step} ({what})"
        await world.sync()
    assert world.board.jobs  # (the ledger did grow: the comparison was not of nothing)


async def test_an_untouched_posting_is_neither_read_nor_planned(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for posting in IDS[:4]:
        world.write(posting, publish_at=None)
    await world.sync()
    world.clock.advance(minutes=5)
    await world.sync()  # plans once more what the last tick did: their next due times
    world.write(IDS[0], publish_at=None, title="Analyst II")  # one edit
    read: list[str] = []
    specs = Ledger.specs

    def counted(self: Ledger, ids: object) -> object:
        wanted = sorted(set(ids))  # type: ignore[call-overload]
        read.extend(wanted)
        return specs(self, wanted)

    monkeypatch.setattr(Ledger, "specs", counted)
    result = await world.sync()
    assert world.actions(result) == [(IDS[0], "fakeboard", "update", "done")]
    assert read == []  # the three others: not one content read back


async def test_a_file_unchanged_by_its_stat_is_not_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import time

    for posting in IDS[:3]:
        path = world.write(posting, publish_at=None)
        old = time.time() - 60  # not "racy": written a minute ago
        os.utime(path, (old, old))
    await world.sync()  # full (first); stats recorded
    opened: list[str] = []
    read_bytes = Path.read_bytes

    def spy(self: Path) -> bytes:
        opened.append(self.name)
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    await world.sync()
    assert opened == []
    fresh = world.write(IDS[1], publish_at=None, title="Analyst II")  # just now: racy
    result = await world.sync()
    assert opened == [fresh.name]
    assert world.actions(result) == [(IDS[1], "fakeboard", "update", "done")]


async def test_a_full_plan_sees_a_change_made_behind_the_engines_back(world: World) -> None:
    from sqlalchemy import update

    from publisher.incremental import NEVER
    from publisher.tables import listings

    world.write(publish_at=None, expires_at=date(2026, 12, 20))
    await world.sync()
    await world.sync()
    with world.ledger.engine.begin() as conn:  # a due time lost (a bad restore, a hand edit)
        conn.execute(update(listings).values(next_due_at=NEVER))
    world.clock.advance(days=30)
    assert (await world.sync()).outcomes == []  # the incremental tick does not see it
    repaired = await world.sync(full=True)  # (run: every hour, by one worker)
    assert world.actions(repaired) == [("data-analyst", "fakeboard", "expire", "done")]


def test_the_full_plan_is_one_workers_turn_an_hour(world: World) -> None:
    from publisher.incremental import take_turn

    now, hour = world.clock(), timedelta(hours=1)
    assert take_turn(world.ledger, "full-plan", "a:1", now, hour)
    assert not take_turn(world.ledger, "full-plan", "b:2", now + timedelta(minutes=59), hour)
    assert take_turn(world.ledger, "full-plan", "b:2", now + hour, hour)


def test_a_next_due_time_is_written_only_when_it_says_something_new() -> None:
    """A listing whose stored next due time already says what the plan says — the same
    time, or a time past while an action is due now — is not written again (at a 1 %
    due tick of a million listings, 10,000 updates saved)."""
    from datetime import UTC, datetime

    from publisher.incremental import NEVER, REPLAN, next_due
    from publisher.ledger import ListingRow

    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    later, earlier = now + timedelta(days=7), now - timedelta(days=1)

    def row(listing_id: int, stored: datetime | None) -> ListingRow:
        return ListingRow(
            listing_id,
            f"job-{listing_id}",
            "fakeboard",
            "live",
            "ref",
            version=3,
            next_due_at=stored,
        )

    def refresh(listing_id: int, due: datetime) -> Action:
        return Action(f"job-{listing_id}", "fakeboard", "refresh", "policy", due, listing_id)

    rows = [
        row(1, earlier),
        row(2, REPLAN),
        row(3, later),
        row(4, later),
        row(5, None),
        row(6, later),
        row(7, NEVER),
    ]
    actions = [
        refresh(1, now),
        refresh(2, earlier),
        refresh(3, later),
        refresh(4, later + timedelta(days=1)),
        refresh(5, later),
        refresh(6, now),
    ]
    assert next_due(rows, actions, now) == [
        (4, 3, later + timedelta(days=1)),  # a new time
        (5, 3, later),  # nothing stored
        (6, 3, REPLAN),  # due now, stored as later: plan it again next tick
    ]  # 1, 2: due now and stored past; 3: the same time; 7: nothing planned, NEVER stored


async def test_the_ticks_queries_use_their_indexes_after_analyze(
    board: FakeBoard, clock: FakeClock, tmp_path: Path
) -> None:
    """SQLite's planner, given statistics (ANALYZE), may prefer a full scan — of the table
    or of an index — on a small or skewed table; a tick's queries must stay index searches,
    or its cost follows the ledger's size again. Checked with the statistics of a ledger of
    a million listings whose due times take two values (what bench_tick.py builds, and close
    to a ledger of mostly closed listings, all due NEVER), spread over four boards: on such
    statistics an OR with IS NULL and a SELECT DISTINCT were both answered by scans. The one
    scan allowed is of the partial index of file postings (their stats are compared)."""
    import sqlalchemy as sa

    world = World(tmp_path / "project", f"sqlite:///{tmp_path}/ledger.db", clock, board)
    for posting in IDS:
        world.write(posting, publish_at=None)
    await world.sync()
    await world.sync()
    world.write(IDS[0], publish_at=None, title="Analyst II")  # something to plan and do
    clock.advance(days=8)  # and refreshes due
    with world.ledger.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
        for index, stat in (
            ("ix_listings_next_due", "1000000 500000"),
            ("ix_listings_board", "1000000 250000"),
            ("ix_listings_state", "1000000 1000000"),
            ("sqlite_autoindex_listings_1", "1000000 1 1"),
        ):
            conn.execute(
                sa.text("UPDATE sqlite_stat1 SET stat = :stat WHERE idx = :index"),
                {"stat": stat, "index": index},
            )
        conn.execute(sa.text("ANALYZE sqlite_schema"))  # the planner reads them again
    seen: list[tuple[str, object]] = []

    def keep(
        conn: object, cursor: object, statement: str, params: object, context: object, many: bool
    ) -> None:
        if not many and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH")):
            seen.append((statement, params))

    engine = world.engine()
    sa.event.listen(engine.ledger.engine, "before_cursor_execute", keep)
    try:
        result = await engine.sync()
    finally:
        sa.event.remove(engine.ledger.engine, "before_cursor_execute", keep)
        await engine.aclose()
    assert result.outcomes  # the tick planned, claimed and recorded work
    scans = []
    with world.ledger.engine.connect() as conn:
        for statement, params in seen:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            scans += [
                (" ".join(statement.split()), row[-1])
                for row in plan
                if row[-1].startswith("SCAN ")
                and "ix_postings_files" not in row[-1]
                and any(t in row[-1] for t in ("due_work", "listings", "postings"))
            ]
    assert scans == [], "\n".join(map(str, scans))


async def test_syncs_leave_the_garbage_collector_as_they_found_it(
    board: FakeBoard, clock: FakeClock, tmp_path: Path
) -> None:
    """A sync quiets the cyclic GC while it runs; two syncs overlapping in one process
    (started and ended in either order) leave its thresholds and frozen objects as they
    were."""
    import asyncio
    import gc

    world = World(tmp_path / "project", f"sqlite:///{tmp_path}/ledger.db", clock, board)
    for posting in IDS[:3]:
        world.write(posting, publish_at=None)
    before = gc.get_threshold(), gc.get_freeze_count()
    await asyncio.gather(world.sync(), world.sync())
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
