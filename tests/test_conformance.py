"""The conformance kit (tests/conformance.py) on every shipped board and the in-tree fake
board, and on deliberately broken adapters it must catch with words that say what is
missing. Board lists come from the registry: a new API board fails here until its double is
found by convention in tests/<board>double.py."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import respx

from adapters.feedwriter import Dialect, FeedAdapter
from adapters.google import GoogleAdapter
from publisher.adapter import ElementResult, FeedItem, FileAdapter, Receipt, Reconcile, Submission
from publisher.errors import BoardAuthError, BoardRejected, BoardUnavailable
from publisher.registry import boards
from tests.adapters.helpers import adapter_for
from tests.conformance import (
    REASON,
    Double,
    check_api_board,
    check_feed_board,
    check_page_board,
    json_body,
)
from tests.engine.world import FakeClock, World
from tests.factories import NOW, make_posting
from tests.fakeboard import BASE_URL, FakeBoard, FakeBoardAdapter


class FakeBoardDouble(Double):
    """The in-tree fake board's shapes (tests/fakeboard.py), with the kit's faults."""

    def __init__(self) -> None:
        super().__init__()
        self.board = FakeBoard(None)

    def process(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if (
            request.method == "POST"
            and self.bad_ref is not None
            and json_body(request).get("external_ref") == self.bad_ref
        ):
            return httpx.Response(422, json={"error": REASON})
        if (
            request.method == "DELETE"
            and len(parts) > 2
            and self.board.jobs.get(parts[2], {}).get("status") != "open"
        ):
            return httpx.Response(404, json={"error": "no such job"})  # already gone
        return self.board._process(request)

    def open_refs(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for job in self.board.live():
            found[job["external_ref"]] = found.get(job["external_ref"], 0) + 1
        return found

    def content(self, ref: str) -> str:
        return next((j["title"] for j in self.board.live() if j["external_ref"] == ref), "")

    def close_out_of_band(self, ref: str) -> None:
        for job in self.board.live():
            if job["external_ref"] == ref:
                job["status"] = "closed"


class BrokenApiAdapter(FakeBoardAdapter):
    """What a review once let through: lookup that never finds, withdraw that fails on 404."""

    name = "fakeboard"

    async def lookup(self, ref: str) -> Receipt | None:
        return None

    async def withdraw(self, receipt: Receipt, *, key: str | None = None) -> None:
        response = await self.client.delete(f"{self.base_url}/v1/jobs/{receipt.board_id}")
        self.raise_for_status(response)  # 404 is an error here


class BrokenFeedAdapter(FeedAdapter):
    name = "indeed_feed"
    dialect: ClassVar[Dialect] = Dialect(
        root="jobs", fields=(("title", "title"),), filename="feeds/broken.xml"
    )


@pytest.fixture
def kit(tmp_path: Path, http: respx.MockRouter, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Worlds on fresh SQLite ledgers, and the double of the moment behind respx."""
    current: dict[str, Double] = {}
    http.route(url__startswith=BASE_URL).mock(side_effect=lambda r: current["d"].handle(r))
    for cls in DOUBLES.values():  # each shipped board's double, at its documented URLs
        for prefix in cls.prefixes:
            http.route(url__startswith=prefix).mock(side_effect=lambda r: current["d"].handle(r))
        for name, value in cls.env.items():
            monkeypatch.setenv(name, value)
    counter = itertools.count()
    monkeypatch.setitem(boards(), "fakeboard", FakeBoardAdapter)  # the worlds' config names it

    def world() -> World:
        n = next(counter)
        made = World(
            tmp_path / f"w{n}",
            f"sqlite:///{tmp_path}/ledger{n}.db",
            FakeClock(NOW),
            FakeBoard(None),
        )
        for board, cls in DOUBLES.items():  # the settings each board is used with
            made.config.boards[board] = dict(cls.settings)
        return made

    def double(cls: type[Double]) -> Any:
        def make() -> Double:
            current["d"] = cls()
            return current["d"]

        return make

    return {"world": world, "double": double, "patch": monkeypatch}


API_BOARDS = [name for name, cls in boards().items() if cls.kind == "api"]


def double_of(board: str) -> type[Double] | None:
    """A board's double, found by convention: the Double defined in ``tests/<board>double.py``."""
    try:
        module = importlib.import_module(f"tests.{board}double")
    except ModuleNotFoundError:
        return None
    found = [
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, Double) and v.__module__ == module.__name__
    ]
    return found[0] if len(found) == 1 else None


#: The double each shipped API board is checked against (a new board brings its own).
DOUBLES: dict[str, type[Double]] = {
    board: cls for board in API_BOARDS if (cls := double_of(board)) is not None
}


@pytest.mark.parametrize("board", API_BOARDS)
async def test_every_api_board_conforms(kit: dict[str, Any], board: str) -> None:
    assert board in DOUBLES, (
        f"{board}: add its double, a conformance.Double in tests/{board}double.py"
    )
    assert await check_api_board(kit["world"], kit["double"](DOUBLES[board]), board) == []


async def test_the_fake_board_conforms(kit: dict[str, Any]) -> None:
    kit["patch"].setitem(boards(), "fakeboard", FakeBoardAdapter)
    assert await check_api_board(kit["world"], kit["double"](FakeBoardDouble), "fakeboard") == []


class BatchedFakeBoard(FakeBoardAdapter):
    """The fake board taking batches of 3 (each element its own call): the engine's batch
    path on a board that can be queried (lost creates are looked up, never resent)."""

    batch_size = 3

    async def submit(self, batch: Sequence[Submission]) -> list[ElementResult]:
        results: list[ElementResult] = []
        for sub in batch:
            try:
                if sub.action == "expire":
                    await self.withdraw(sub.receipt, key=sub.key)
                    results.append(sub.receipt)
                elif sub.action == "post":
                    results.append(
                        await self.publish(sub.posting, sub.receipt.external_ref, key=sub.key)
                    )
                else:
                    results.append(await self.update(sub.posting, sub.receipt, key=sub.key))
            except (BoardUnavailable, BoardRejected, BoardAuthError) as exc:
                results.append(exc)
        return results


async def test_a_batched_board_that_can_be_queried_conforms(kit: dict[str, Any]) -> None:
    kit["patch"].setitem(boards(), "fakeboard", BatchedFakeBoard)
    assert await check_api_board(kit["world"], kit["double"](FakeBoardDouble), "fakeboard") == []


class BatchedManualBoard(BatchedFakeBoard):
    """Batches of 3 on a board that can neither be queried nor tell a repeat (as Reed, were
    it to take batches): a create of unknown fate must never be sent again by itself."""

    reconcile = Reconcile.MANUAL


class RepeatingFakeBoardDouble(FakeBoardDouble):
    """The fake board without its duplicate check: a second create of a reference makes a
    second job, as a board that cannot tell a repeat does."""

    def process(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.rstrip("/").endswith("/jobs"):
            self.board._by_ref.pop(json_body(request).get("external_ref", ""), None)
        return super().process(request)

    def open_refs(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for job in self.board.live():
            found[job["external_ref"]] = found.get(job["external_ref"], 0) + 1
        return found


async def test_a_batched_board_that_cannot_be_queried_conforms(kit: dict[str, Any]) -> None:
    kit["patch"].setitem(boards(), "fakeboard", BatchedManualBoard)
    assert (
        await check_api_board(kit["world"], kit["double"](RepeatingFakeBoardDouble), "fakeboard")
        == []
    )


async def test_the_kit_catches_a_broken_api_board(kit: dict[str, Any]) -> None:
    kit["patch"].setitem(boards(), "fakeboard", BrokenApiAdapter)
    found = await check_api_board(kit["world"], kit["double"](FakeBoardDouble), "fakeboard")
    assert any("lookup does not find the listing it created" in p for p in found), found
    assert any("withdraw again: a listing already gone must not be an error" in p for p in found), (
        found
    )
    assert any("a create stored by the board whose answer was lost" in p for p in found), found


FEEDS = [name for name, cls in boards().items() if cls.kind == "feed"]


@pytest.mark.parametrize("board", FEEDS)
def test_every_feed_board_conforms(board: str) -> None:
    adapter = adapter_for(board, job_url="https://jobs.example.com/{id}.html")
    assert isinstance(adapter, FileAdapter)
    item = FeedItem(make_posting(), datetime(2026, 12, 1, tzinfo=UTC), None)
    assert check_feed_board(adapter, item) == []


PAGES = [name for name, cls in boards().items() if cls.kind == "page"]


@pytest.mark.parametrize("board", PAGES)
def test_every_page_board_conforms(board: str) -> None:
    adapter = adapter_for(board)
    assert isinstance(adapter, FileAdapter)
    item = FeedItem(make_posting(), datetime(2026, 12, 1, tzinfo=UTC), None)
    assert check_page_board(adapter, item) == []


def test_the_kit_catches_a_page_without_structured_data() -> None:
    class Bare(GoogleAdapter):
        def render_files(self, live: Any, closed: Any, built_at: Any) -> dict[str, bytes]:
            return {"jobs/x.html": b"<html><body>Data Analyst</body></html>"}

    adapter = Bare.make(adapter_for("google").settings.model_dump())
    assert isinstance(adapter, FileAdapter)
    assert check_page_board(adapter, FeedItem(make_posting(), NOW, None)) == [
        "google: the JobPosting lacks title",
        "google: the JobPosting lacks description",
        "google: the JobPosting lacks datePosted",
        "google: the JobPosting lacks hiringOrganization",
        "google: the page has no JobPosting JSON-LD",
        "google: the JobPosting says nowhere where the job is",
        "google: no sitemap lists jobs/x.html",
    ]


def test_the_kit_catches_a_one_field_feed() -> None:
    adapter = BrokenFeedAdapter.make({"job_url": "https://jobs.example.com/{id}.html"})
    assert isinstance(adapter, FileAdapter)
    found = check_feed_board(adapter, FeedItem(make_posting(), NOW, None))
    assert found == [
        "indeed_feed: the dialect lacks the description (description), a link "
        "to the job (url), a unique reference (element or id attribute) (ref), "
        "where the job is (city/location fields) (location)"
    ]
