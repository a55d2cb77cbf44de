"""A streamed sync: board calls start while the rest of the files are validated and
planned (publisher/streaming.py). Shares are made small here so that a few dozen files
make several."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any

import pytest

import publisher.validate as validate_module
from publisher.ledger import Ledger
from publisher.rules import RuleContext
from publisher.streaming import claims
from tests.engine.world import DEAD, World
from tests.factories import NOW

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def small_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_module, "PARALLEL_FROM", 8)
    monkeypatch.setattr(validate_module, "SHARE", 3)


def _shares(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many postings each share recorded (save_postings calls from the load thread)."""
    sizes: list[int] = []
    original = Ledger.save_postings

    def counted(self: Ledger, items: Any, *args: Any, **kwargs: Any) -> Any:
        items = list(items)
        if threading.current_thread() is not threading.main_thread():
            sizes.append(len(items))
        return original(self, items, *args, **kwargs)

    monkeypatch.setattr(Ledger, "save_postings", counted)
    return sizes


def test_an_id_is_streamed_only_when_one_plain_line_gives_it() -> None:
    assert claims(b"title: X\nid: job-1\nsummary: y\n") == "job-1"
    assert claims(b"id: 'job-1'  # ours\r\n") == "job-1"
    assert claims(b'id: "job-1"\n') == "job-1"
    assert claims(b"id: job-1\nid: job-2\n") is None  # two: the parser will refuse it
    assert claims(b"{id: job-1}\n") is None and claims(b"id: *anchor\n") is None
    assert claims(b"  id: job-1\n") is None  # not top level
    assert claims(b"id: job-1 extra\n") is None and claims(b"id: 'job-1\n") is None


async def test_a_streamed_first_sync_posts_what_a_whole_one_would(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Valid postings are posted once each; a file another file claims the id of, a name
    two files share and an invalid file are held, with the findings a whole validation
    gives; the next sync has nothing to do."""
    for n in range(30):
        world.write(f"job-{n:02d}", publish_at=None)
    path = world.postings / "job-07.yaml"
    path.write_text(path.read_text().replace("id: job-07", "id: 'job-07'"))
    (world.postings / "copy.yaml").write_text(  # claims job-03's id
        (world.postings / "job-03.yaml").read_text()
    )
    (world.postings / "sub").mkdir()
    (world.postings / "sub/job-05.yaml").write_text(  # a second file named job-05
        (world.postings / "job-05.yaml").read_text()
    )
    broken = world.postings / "job-04.yaml"
    broken.write_text(broken.read_text().replace("currency: USD", "currency: XYZ"))
    shares = _shares(monkeypatch)
    result = await world.sync()
    assert len(shares) > 3  # streamed in shares, not recorded at once
    expected = sorted(f"job-{n:02d}" for n in range(30) if n not in (3, 4, 5))
    assert (
        sorted(
            p
            for p, board, action, state in world.actions(result)
            if (board, action, state) == ("fakeboard", "post", "done")
        )
        == expected
    )
    refs = Counter(job["external_ref"] for job in world.board.live())
    assert sorted(refs) == [f"jobpub-{p}-fakeboard" for p in expected]
    assert set(refs.values()) == {1}
    whole = validate_module.validate_paths(
        [world.postings], world.config, RuleContext.of(world.config, NOW, expired_is_error=False)
    )
    assert [(f.file, f.rule) for f in result.findings] == [(f.file, f.rule) for f in whole.findings]
    assert {f.rule for f in result.findings if f.severity == "error"} == {
        "duplicate-id",
        "id-mismatch",
        "schema",
    }
    assert {r.posting_id for r in world.ledger.listings()} >= set(expected)
    assert not {r.posting_id for r in world.ledger.listings()} & {"job-03", "job-04", "job-05"}
    with world.ledger.engine.connect() as conn:
        from sqlalchemy import select

        from publisher.tables import postings

        assert (
            conn.execute(select(postings.c.id).where(postings.c.plan_pending.is_not(None))).all()
            == []
        )
    assert (await world.sync()).outcomes == []


async def test_board_calls_start_before_the_last_share_is_recorded(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(12):
        world.write(f"job-{n:02d}", publish_at=None)
    original = Ledger.save_postings
    seen: list[int] = []

    def waiting(self: Ledger, items: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not threading.main_thread() and seen:
            until = time.monotonic() + 10  # the second share waits for a call to go out
            while not world.board.calls and time.monotonic() < until:
                time.sleep(0.01)
        seen.append(len(world.board.calls))
        return original(self, items, *args, **kwargs)

    monkeypatch.setattr(Ledger, "save_postings", waiting)
    result = await world.sync()
    assert len(seen) > 2 and seen[0] == 0 and seen[1] > 0  # calls while still loading
    assert len(result.outcomes) == 12 and not result.failed


async def test_a_streamed_sync_takes_over_none_of_its_own_work(world: World) -> None:
    """It claims again for each share and at the end; the work of earlier shares, leased
    to itself, is never taken over (here its owner even looks dead, as the crash test's
    does); the next sync reconciles what the crashed one sent, creating nothing twice."""
    for n in range(12):
        world.write(f"job-{n:02d}", publish_at=None)
    await world.crash(owner=DEAD)
    assert [method for method, _ in world.board.calls] == ["POST"] * 12
    result = await world.sync()
    assert len(result.taken_over) == 12
    assert [m for m, _ in world.board.calls].count("POST") == 12  # looked up, not resent
    refs = Counter(job["external_ref"] for job in world.board.live())
    assert len(refs) == 12 and set(refs.values()) == {1}


async def test_a_cancelled_streamed_sync_loses_nothing_and_posts_nothing_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(15):
        world.write(f"job-{n:02d}", publish_at=None)
    world.board.latency = 1.0  # no call ends before the cancel
    engine = world.engine()
    task = asyncio.ensure_future(engine.sync([world.postings]))
    original = Ledger.save_postings
    calls = 0

    def cancelling(self: Ledger, items: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:  # two shares recorded and planned, calls in flight: cancelled
            loop.call_soon_threadsafe(task.cancel)
            time.sleep(0.2)
        return original(self, items, *args, **kwargs)

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(Ledger, "save_postings", cancelling)
    with pytest.raises(asyncio.CancelledError):
        await task
    await engine.aclose()
    monkeypatch.setattr(Ledger, "save_postings", original)
    world.board.latency = 0
    assert world.board.max_in_flight > 0 and world.board.calls == []  # cut short
    with world.ledger.engine.connect() as conn:
        from sqlalchemy import select

        from publisher.tables import due_work

        running = conn.execute(select(due_work.c.id).where(due_work.c.state == "running")).all()
    assert 0 < len(running) <= 6  # the calls cut short (4 at a time): their outcome unknown
    world.clock.advance(minutes=6)  # their lease lapses; the shares' work not started went
    result = await world.sync()  # back at once, the third share was never planned
    assert len(result.taken_over) == len(running)
    refs = Counter(job["external_ref"] for job in world.board.live())
    assert len(refs) == 15 and set(refs.values()) == {1}
