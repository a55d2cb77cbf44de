"""Leases and fencing tokens in the ledger and the executor, in process (the same with real
processes and SIGSTOP: test_pause.py); a job closed on the board; a clock that ran ahead."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from publisher.config import Config
from publisher.database import connect
from publisher.errors import LeaseLost, OutcomeUnknown
from publisher.fencing import Leases
from publisher.http import board_call, make_client
from publisher.ledger import Ledger, Outcome
from publisher.states import ListingState
from tests.engine.world import World
from tests.factories import NOW, make_posting
from tests.fakeboard import FakeBoard


def _claimed(ledger_url: str) -> tuple[Ledger, int, int]:
    ledger = Ledger(connect(ledger_url))
    ledger.save_postings([(make_posting(), "file", "postings/data-analyst.yaml", None)], NOW)
    ledger.add_listings([("data-analyst", "fakeboard", "ref")], NOW)
    (listing,) = ledger.listings()
    ledger.enqueue(
        [
            {
                "listing_id": listing.id,
                "kind": "post",
                "reason": "new",
                "due_at": NOW,
                "ref": "ref",
                "revision": 1,
                "version": listing.version,
            }
        ],
        [],
        NOW,
    )
    return ledger, listing.id, 0


def test_an_outcome_is_written_only_by_the_claim_that_still_holds_it(ledger_url: str) -> None:
    ledger, listing_id, _ = _claimed(ledger_url)
    (a,), _ = ledger.claim("worker-a", NOW, lease=timedelta(seconds=30))
    later = NOW + timedelta(minutes=2)  # A is paused past its lease; B takes the work over
    (b,), (over,) = ledger.claim("worker-b", later, lease=timedelta(seconds=30))
    assert (a.id, a.fence, b.fence, over.lease_owner) == (b.id, 1, 2, "worker-a")
    notes = ledger.record(
        [
            Outcome(
                b.id,
                listing_id,
                {"state": "live", "board_id": "B"},
                {"state": "done"},
                fence=b.fence,
            )
        ]
    )
    assert notes == []
    event = ledger.history("data-analyst")  # nothing yet: B's outcome carried no event
    stale = Outcome(
        a.id,
        listing_id,
        {"state": "failed", "board_id": "A"},
        {"state": "failed"},
        [],
        fence=a.fence,
    )
    stale.events = [ledger_event(listing_id, "board id A")]
    notes = ledger.record([stale])  # A wakes up and records what it saw
    assert notes == [
        f"listing #{listing_id}: a stale attempt (this worker lost its lease on "
        f"work #{a.id} to another): not recorded"
    ]
    (listing,) = ledger.listings()
    assert (listing.state, listing.board_id) == ("live", "B")  # never back to A's view
    (trail,) = [e for e in ledger.history("data-analyst") if e not in event]
    assert (
        trail.outcome == "stale"
        and trail.detail.startswith("not recorded: this worker had lost its lease")
        and trail.detail.endswith("board id A")
    )
    ledger.engine.dispose()


def ledger_event(listing_id: int, detail: str) -> object:
    from publisher.ledger import Event

    return Event(NOW, "data-analyst", "fakeboard", "post", "ok", detail)


async def test_leases_are_renewed_while_held_and_lost_once_taken_over(ledger_url: str) -> None:
    ledger, _, _ = _claimed(ledger_url)
    (a,), _ = ledger.claim("worker-a", NOW, lease=timedelta(seconds=30))
    assert ledger.renew("worker-a", {a.id: a.fence}, NOW + timedelta(seconds=50)) == {a.id}
    # Renewed: at NOW + 40 s nobody may take it over.
    assert ledger.claim("worker-b", NOW + timedelta(seconds=40)) == ([], [])
    ledger.claim("worker-b", NOW + timedelta(seconds=51))
    assert ledger.renew("worker-a", {a.id: a.fence}, NOW + timedelta(minutes=5)) == set()
    clock = [NOW + timedelta(seconds=52)]
    leases = Leases(ledger, "worker-a", lambda: clock[0], timedelta(seconds=30), 10)
    leases.add(a)
    with pytest.raises(LeaseLost, match=f"#{a.id} was taken over"):
        await leases.guard([a.id], 5.0)()
    ledger.engine.dispose()


async def test_a_dripping_answer_ends_at_the_calls_deadline() -> None:
    class Drip(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _ in range(100):  # a byte every 0.1 s: no read ever times out
                await asyncio.sleep(0.1)
                yield b"x"

    client = make_client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, stream=Drip())),
        timeout=1.0,
    )
    started = asyncio.get_running_loop().time()
    with pytest.raises(OutcomeUnknown, match=r"no whole answer within the call's 0\.5 s deadline"):
        await board_call("fakeboard", client.get("http://board.test/"), "it may", 0.5)
    assert asyncio.get_running_loop().time() - started < 2
    await client.aclose()


async def test_an_answer_past_the_size_cap_is_cut_off() -> None:
    class Large(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b"x" * 1000

    client = make_client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, stream=Large())),
        max_bytes=4096,
    )
    with pytest.raises(OutcomeUnknown, match="RemoteProtocolError: the board may have"):
        await board_call("fakeboard", client.get("http://board.test/"), "it may", 5)
    await client.aclose()


def test_a_calls_deadline_must_end_within_the_lease_less_its_renewal() -> None:
    with pytest.raises(
        ValueError,
        match=r"limits.reed.deadline = 25 s: a board call must end "
        r"within the lease less its renewal period \(20 s",
    ):
        Config.model_validate(
            {"engine": {"lease_seconds": 30}, "limits": {"reed": {"deadline": 25}}}
        )
    config = Config.model_validate({"engine": {"lease_seconds": 30}})
    assert config.deadline("reed") == 15 and config.engine.renew_seconds == 10
    assert Config().deadline("reed") == 60


async def test_a_job_closed_on_the_board_counts_as_withdrawn(
    world: World, board: FakeBoard
) -> None:
    world.write(publish_at=date(2026, 11, 25), expires_at=date(2026, 12, 31))
    await world.sync()
    listing = world.listing()
    del board.jobs[str(listing.board_id)]  # closed and purged on the board by somebody
    (world.postings / "data-analyst.yaml").unlink()
    result = await world.sync()
    assert [d.state for d in result.outcomes] == ["done"]
    assert world.listing().state == ListingState.EXPIRED
    (last,) = world.ledger.history("data-analyst")[-1:]
    assert (last.action, last.outcome, last.http_status) == ("expire", "ok", 404)
    assert last.detail == (
        'already closed on the board ({"error":"no such job"}): counted as withdrawn'
    )


async def test_a_posting_expired_by_a_clock_that_ran_ahead_goes_up_again(
    world: World, board: FakeBoard
) -> None:
    world.write(publish_at=date(2026, 11, 25), expires_at=date(2027, 3, 31))
    await world.sync()
    real = world.clock.now
    world.clock.now = real + timedelta(days=140)  # the host's clock jumps ahead
    await world.sync()
    assert world.listing().state == ListingState.EXPIRED
    world.clock.now = real + timedelta(days=2)  # corrected: 3 months still to go
    result = await world.sync()
    assert "planning every posting" in " ".join(result.notes), result.notes
    assert [(d.action, d.state) for d in result.outcomes] == [("post", "done")]
    listing = world.listing()
    assert listing.state == ListingState.LIVE and listing.expired_at is None
    assert len(board.live()) == 1
    said = [e for e in world.ledger.history("data-analyst") if e.outcome == "retry"]
    assert said and said[-1].detail.startswith(
        "expired 2027-04-15 12:00 UTC by a clock that was ahead: its expires_at (2027-04-01"
    )
    assert said[-1].detail.endswith("is still to come; published again")
    assert [d.action for d in (await world.sync()).outcomes] == []  # and only once


def test_adapters_read_the_engines_clock(world: World) -> None:
    from tests.factories import ROOT

    engine = world.engine()
    adapter = engine.adapter("fakeboard")
    assert adapter.clock() == world.clock.now
    world.clock.advance(hours=1)
    assert adapter.clock() == world.clock.now  # the engine's, not the wall clock
    readers = [
        p.name
        for p in (ROOT / "adapters").glob("*.py")
        if "clock.now(" in p.read_text() or "datetime.now(" in p.read_text()
    ]
    assert readers == []  # publisher.clock.now stays the one place that reads the time


def test_typed_changes_name_only_the_tables_columns() -> None:
    from publisher.ledger import ListingChange, WorkChange
    from publisher.tables import due_work, listings

    assert set(ListingChange.__annotations__) <= set(listings.c.keys())
    assert set(WorkChange.__annotations__) <= set(due_work.c.keys())


async def test_an_answer_declared_larger_than_the_cap_is_cut_off() -> None:
    client = make_client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=b"x" * 5000)),
        max_bytes=4096,
    )
    with pytest.raises(OutcomeUnknown, match="RemoteProtocolError: the board may have"):
        await board_call("fakeboard", client.get("http://board.test/"), "it may", 5)
    small = make_client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=b"x" * 4096)),
        max_bytes=4096,
    )
    assert (
        len((await board_call("fakeboard", small.get("http://board.test/"), "", 5)).content) == 4096
    )
    await client.aclose()
    await small.aclose()
