"""``jobpub run`` as a member of a fleet, in process (the real-process, several-worker
proof is tests/engine/test_workers.py): a stop lets calls in flight finish and gives back
what was not started; calls still running after the grace period are cut short and taken
over at once, reconciled first; after downtime expiries go first and a missed refresh runs
once; each worker's heartbeat is shown by ``status``."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta

from click.testing import CliRunner

from publisher.cli import cli
from publisher.config import Limits
from publisher.fleet import fleet
from publisher.scheduler import serve
from tests.engine.world import World

POSTINGS = ("data-analyst", "ux-writer", "store-manager")


def one_at_a_time(world: World) -> None:
    world.config = world.config.model_copy(update={"limits": {"fakeboard": Limits(concurrency=1)}})


async def stopped_while_calling(world: World, grace: float) -> list[str]:
    """``run`` until the board is answering its first call, then asked to stop."""
    engine, stop, said = world.engine(), asyncio.Event(), []
    running = asyncio.create_task(
        serve(engine, 60, lambda result: None, stop, grace=grace, say=said.append)
    )
    async with asyncio.timeout(10):
        while world.board.in_flight == 0:
            await asyncio.sleep(0.005)
        stop.set()
        await running
    await engine.aclose()
    return said


async def test_a_stop_lets_the_call_in_flight_finish_and_gives_back_the_rest(world: World) -> None:
    for posting in POSTINGS:
        world.write(posting, publish_at=None)
    one_at_a_time(world)
    world.board.latency = 0.3
    said = await stopped_while_calling(world, grace=10)
    assert said == ["stopping: letting calls in flight finish (up to 10 s)"]
    states = sorted(row.state for row in world.ledger.listings())
    assert states == ["live", "scheduled", "scheduled"]  # the one in flight finished
    work = world.ledger.open_work()
    assert [(w.state, w.lease_owner) for w in work.values()] == [("pending", None)] * 2
    (worker,) = fleet(world.ledger)
    assert worker.state(world.clock()) == "stopped"
    assert (worker.ticks, worker.last_tick) == (1, "1 done, 0 later, 0 failed")

    world.board.latency = 0
    after = await world.sync()
    assert sorted(d.state for d in after.outcomes) == ["done", "done"]
    assert len(world.board.live()) == 3 and world.board.calls.count(("POST", "/v1/jobs")) == 3


async def test_calls_still_running_after_the_grace_period_are_taken_over_at_once(
    world: World,
) -> None:
    world.write(publish_at=None)
    world.board.latency = 30
    said = await stopped_while_calling(world, grace=0.2)
    assert (
        said[-1] == "stopping: 1 call(s) cut short after 0.2 s; another worker takes "
        "them over and reconciles them first"
    )
    (work,) = world.ledger.open_work().values()
    assert work.state == "running" and work.lease_until is not None
    assert work.lease_until < world.clock()  # no waiting for the lease to run out

    world.board.latency = 0
    after = await world.sync()  # at the same moment: taken over, looked up, then created
    assert any(n.startswith(f"took over interrupted work #{work.id} (post)") for n in after.notes)
    assert world.board.calls[-2:] == [("GET", "/v1/jobs"), ("POST", "/v1/jobs")]
    assert world.listing().state == "live" and len(world.board.live()) == 1


async def test_after_downtime_expiries_go_first_and_a_missed_refresh_runs_once(
    world: World,
) -> None:
    world.write("data-analyst", publish_at=None, expires_at=date(2026, 12, 15))
    world.write("ux-writer", publish_at=None)
    await world.sync()
    world.write("store-manager", publish_at=date(2026, 12, 10))
    before = len(world.board.calls)
    world.clock.advance(days=25)  # down from Nov 26 to Dec 21: refreshes due Dec 3 and 10
    back = await world.sync()
    assert world.actions(back) == [
        ("data-analyst", "fakeboard", "expire", "done"),
        ("store-manager", "fakeboard", "post", "done"),
        ("ux-writer", "fakeboard", "refresh", "done"),
    ]
    assert world.board.calls[before][0] == "DELETE"  # the expiry went out first
    assert world.listing("ux-writer").refresh_count == 1
    assert (await world.sync()).outcomes == []  # not a burst of the refreshes missed
    world.clock.advance(days=6)
    assert (await world.sync()).outcomes == []
    world.clock.advance(days=1, minutes=1)
    assert world.actions(await world.sync()) == [  # (store-manager: a week after its post)
        ("store-manager", "fakeboard", "refresh", "done"),
        ("ux-writer", "fakeboard", "refresh", "done"),
    ]


async def test_status_shows_each_workers_heartbeat(world: World) -> None:
    world.write(publish_at=None)
    engine, stop, reports = world.engine(owner="web-1.example.com:77"), asyncio.Event(), []

    def report(result: object) -> None:
        reports.append(result)
        stop.set()

    await asyncio.wait_for(serve(engine, 60, report, stop, say=lambda line: None), 10)
    await engine.aclose()
    args = ["--config", str(world.config_path), "status"]
    shown = CliRunner().invoke(cli, args).output.splitlines()
    assert shown[-2].split()[:3] == ["WORKER", "STATE", "STARTED"]
    assert shown[-1].split()[:2] == ["web-1.example.com:77", "stopped"]
    assert shown[-1].endswith("  1 done, 0 later, 0 failed")
    (worker,) = json.loads(CliRunner().invoke(cli, [*args, "--json"]).output)["workers"]
    assert worker["worker"] == "web-1.example.com:77" and worker["ticks"] == 1
    assert worker["state"] == "stopped" and worker["last_tick"] == "1 done, 0 later, 0 failed"


def test_a_worker_that_stops_beating_is_shown_silent(world: World) -> None:
    from publisher.fleet import SILENT, Heartbeat

    heart = Heartbeat(world.ledger, "web-2.example.com:78", world.clock)
    heart.start()
    (worker,) = fleet(world.ledger)
    assert worker.state(world.clock()) == "running"
    assert worker.state(world.clock() + SILENT + timedelta(seconds=1)) == "silent"


async def test_a_worker_claims_a_little_at_a_time_and_still_does_everything_due(
    world: World,
) -> None:
    for posting in (*POSTINGS, "night-nurse", "line-cook"):
        world.write(posting, publish_at=None)
    claims = []
    original = world.ledger.claim

    def counted(*args: object, **kwargs: object) -> object:
        found = original(*args, **kwargs)  # type: ignore[arg-type]
        claims.append(len(found[0]))
        return found

    world.ledger.claim = counted  # type: ignore[method-assign]
    engine = world.engine(claim_size=2)
    try:
        result = await engine.sync([world.postings])
    finally:
        await engine.aclose()
    assert claims == [2, 2, 1]  # others could take the rest meanwhile
    assert [d.state for d in result.outcomes] == ["done"] * 5 and len(world.board.live()) == 5


async def test_a_plan_continues_work_another_worker_queued_and_does_not_cancel_it(
    world: World,
) -> None:
    """Found by the fault campaign: a second worker planning before the first claimed its
    queued update cancelled it (the listing's expiry to come superseded it), and the next
    plan queued it again — six times over for some listings."""
    from publisher.engine import SyncResult

    world.write(publish_at=None)
    await world.sync()
    world.write(publish_at=None, title="Senior Data Analyst")
    for _ in range(3):  # three workers plan; none has claimed yet
        engine = world.engine()
        engine._queue_due(engine.load([world.postings], lazy=True), SyncResult(), False)
    (work,) = world.ledger.open_work().values()
    assert (work.kind, work.idempotency_key) == (
        "update",
        "jobpub-data-analyst-fakeboard:update:r2:1",
    )
    from sqlalchemy import func, select

    from publisher.tables import due_work

    with world.ledger.engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(due_work).where(due_work.c.state == "cancelled")
            ).scalar_one()
            == 0
        )
