"""The engine plans from what a board declares, one board at a time (no batches): a board
that settles a lost create by an update (``reconcile = UPDATE``), and one whose answers are
tasks it finishes later (``tasks``). Both are the fake board with one declaration changed."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest

from publisher.adapter import Receipt, Reconcile, Tasks
from publisher.errors import BoardRejected
from publisher.registry import boards
from publisher.schema import Posting
from tests.engine.world import World
from tests.fakeboard import FakeBoard, FakeBoardAdapter


class UpdatesByReference(FakeBoardAdapter):
    """Cannot be queried by the engine; updates by our reference, refusing unknown ones."""

    reconcile = Reconcile.UPDATE
    updates: ClassVar[list[str]] = []

    async def update(
        self, posting: Posting, receipt: Receipt, *, key: str | None = None
    ) -> Receipt:
        self.updates.append(receipt.external_ref)
        found = await super().lookup(receipt.external_ref)
        if found is None:
            raise BoardRejected(self.name, "no job with this reference", 404)
        return await super().update(posting, found, key=key)


class AnswersLater(FakeBoardAdapter):
    """Takes a create at once but confirms it only when polled."""

    tasks: ClassVar[Tasks | None] = Tasks(
        timedelta(minutes=1), timedelta(minutes=8), lifetime=timedelta(hours=1), poll_size=10
    )
    polled: ClassVar[list[list[str]]] = []

    async def publish(self, posting: Posting, ref: str, *, key: str | None = None) -> Receipt:
        made = await super().publish(posting, ref, key=key)
        return Receipt(self.name, ref, pending=True, task=f"task-{made.board_id}")

    async def poll(self, tasks: list[str]) -> dict[str, Receipt | BoardRejected | None]:
        self.polled.append(list(tasks))
        return {
            task: Receipt(self.name, "", task.removeprefix("task-"))
            if len(self.polled) > 1
            else None
            for task in tasks
        }


@pytest.fixture
def probing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setitem(boards(), "fakeboard", UpdatesByReference)
    UpdatesByReference.updates = []
    return UpdatesByReference.updates


async def test_a_stored_create_whose_answer_was_lost_is_adopted_by_an_update(
    world: World, board: FakeBoard, probing: list[str]
) -> None:
    world.write(publish_at=world.clock.now.date())
    await world.crash()  # the board made the job; the ledger never heard
    world.clock.advance(hours=1)
    await world.sync()
    assert probing == ["jobpub-data-analyst-fakeboard"] and len(board.live()) == 1
    listing = world.listing()
    assert listing.state == "live" and listing.board_id == board.live()[0]["id"]
    trail = [e.detail for e in world.ledger.history("data-analyst")]
    assert "jobpub-data-analyst-fakeboard is on the board: updated" in trail


async def test_a_create_that_never_arrived_is_made_once_the_update_is_refused(
    world: World, board: FakeBoard, probing: list[str]
) -> None:
    world.write(publish_at=world.clock.now.date())
    board.fail_next("502")  # a gateway error: the board may have made it; it did not
    await world.sync()  # the retry asks first, by an update, and creates only when refused
    assert probing == ["jobpub-data-analyst-fakeboard"] and len(board.live()) == 1
    assert world.listing().state == "live"
    trail = [e.detail for e in world.ledger.history("data-analyst")]
    assert any("not on the board, creating it" in d for d in trail), trail


async def test_a_single_board_with_tasks_is_polled_until_done(
    world: World, board: FakeBoard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(boards(), "fakeboard", AnswersLater)
    AnswersLater.polled = []
    world.write(publish_at=world.clock.now.date())
    world.write("second", publish_at=world.clock.now.date())
    await world.sync()
    assert [world.listing(p).state for p in ("data-analyst", "second")] == ["pending"] * 2
    for _ in range(2):
        world.clock.advance(minutes=2)
        await world.sync()
    assert len(AnswersLater.polled) == 2 and len(AnswersLater.polled[0]) == 2  # one call
    for posting_id in ("data-analyst", "second"):
        listing = world.listing(posting_id)
        assert listing.state == "live" and listing.board_id in {j["id"] for j in board.live()}
    assert world.ledger.open_work() == {}


class NeitherQueriedNorDeduped(FakeBoardAdapter):
    """A board that can neither be queried nor tell a repeat (``reconcile = MANUAL``)."""

    reconcile = Reconcile.MANUAL


async def test_a_manual_board_resends_a_lost_create_only_when_a_person_says_so_once(
    world: World, board: FakeBoard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost create is never sent again by itself; retried by a person, it goes once: lost
    again in that run, it is not sent a third time (the person checks the board again)."""
    monkeypatch.setitem(boards(), "fakeboard", NeitherQueriedNorDeduped)
    world.write(publish_at=world.clock.now.date())
    board.fail_next("timeout-after")  # made on the board; the answer lost
    await world.sync()
    listing = world.listing()
    assert listing.state == "failed" and listing.reconcile and len(board.live()) == 1
    assert listing.last_error.endswith(
        "check the board, then run jobpub sync --retry-failed to create it (or close it there)"
    )
    board.jobs.clear()  # the person checked: it was not there after all
    board._by_ref.clear()
    board.fail_next("timeout-after")  # ... and the retried create is lost again
    await world.sync(retry_failed=True)
    listing = world.listing()
    assert listing.state == "failed" and listing.reconcile and len(board.live()) == 1
    assert [m for m, _ in board.calls].count("POST") == 2  # one each run: never resent
