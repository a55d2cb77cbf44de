"""The board conformance kit: what every adapter must do, checked the same way for all.

An API board's test module supplies a *double* of its board (respx routes built from the
board's documented shapes, with the fault knobs of :class:`Double`) and runs
:func:`check_api_board`; a feed board runs :func:`check_feed_board`, a page board
:func:`check_page_board`. Each returns the
list of what the adapter got wrong, in words a board author can act on (empty: conforms).
Scenarios are restricted to what the adapter declares (``reconcile``, ``batch_size``,
``tasks``, ``refresh_policy``); declaring a capability it does not implement fails.

API scenarios, each through the engine on a fresh ledger and the fake clock: create ->
(look up) -> update -> refresh -> withdraw -> withdraw again; 429 with Retry-After; 5xx; a
timeout after the board stored the create (no second job); 401 / 403; 400 / 422 with the
board's reason in the listing's last error; a malformed success body (a clear error, never
a bare KeyError); for batch boards a batch with one bad element; for boards with tasks a
task in progress for several polls and a task that fails. On a board with tasks every
step is followed by polls (the clock moved on) until the board has answered. A job closed
on the board behind jobpub's back is then expired without a failure.

A board's double sets the knobs its scenarios need: ``bad_ref`` (batch boards: refuse the
element with that external reference), ``slow`` and ``fail_task`` (boards with tasks).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from xml.etree import ElementTree

import httpx
from sqlalchemy import delete

from publisher.adapter import ApiAdapter, FeedItem, FileAdapter, Reconcile, Submission
from publisher.errors import NotOnBoard
from publisher.tables import due_work, events, listings
from tests.engine.world import World

REASON = "the board explains what is wrong here"
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
#: What every feed must carry, by the common field names of adapters/feedwriter.py.
FEED_MUST = {
    "title": "the job title",
    "description": "the description",
    "url": "a link to the job",
    "ref": "a unique reference (element or id attribute)",
    "location": "where the job is (city/location fields)",
}


class Double:
    """A board double: ``process`` answers a request as the board would (storing what it
    creates); faults for the next requests are queued with :meth:`fail_next`:
    ``"429:7"``, ``"503"``, ``"401"``, ``"403"``, ``"400"``, ``"422"`` (answered without
    storing anything), ``"timeout-after"`` (stored, then the read times out) and
    ``"malformed"`` (stored, then a success whose body lacks what the board returns)."""

    #: What the kit mounts for it: the URL prefixes it answers, and the credentials (env).
    prefixes: ClassVar[tuple[str, ...]] = ()
    env: ClassVar[Mapping[str, str]] = {}
    #: Changes to the kit's posting so that the board takes it (a UK town for a UK board).
    posting: ClassVar[Mapping[str, Any]] = {}
    #: The board's config table (``[boards.NAME]``) the kit uses it with.
    settings: ClassVar[Mapping[str, Any]] = {}

    def __init__(self) -> None:
        self.faults: deque[str] = deque()
        self.bad_ref: str | None = None  # batch boards: refuse this reference's element
        self.slow = 0  # boards with tasks: polls a task stays in progress
        self.fail_task = False  # boards with tasks: the next task fails with REASON

    def fail_next(self, *faults: str) -> None:
        self.faults.extend(faults)

    def process(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError

    def open_refs(self) -> dict[str, int]:
        """External reference -> how many open listings the board holds for it."""
        raise NotImplementedError

    def content(self, ref: str) -> str:
        """The title the board shows for the listing with ``ref``."""
        raise NotImplementedError

    def close_out_of_band(self, ref: str) -> None:
        """Close the listing with ``ref`` on the board, as a person on the board's site
        (or the board itself) would, without jobpub knowing."""
        raise NotImplementedError

    async def handle(self, request: httpx.Request) -> httpx.Response:
        fault = self.faults.popleft() if self.faults else None
        if fault and fault[0].isdigit():
            status, _, wait = fault.partition(":")
            return httpx.Response(
                int(status),
                headers={"Retry-After": wait} if wait else {},
                json={"error": f"{REASON} ({status})"},
            )
        response = self.process(request)
        if fault == "timeout-after":
            raise httpx.ReadTimeout("read timed out", request=request)
        if fault == "malformed" and response.status_code < 300:
            return httpx.Response(response.status_code, json={"unexpected": True})
        return response


Scenario = Callable[[World, Double, str], Awaitable[list[str]]]


async def check_api_board(
    make_world: Callable[[], World], double: Callable[[], Double], board: str
) -> list[str]:
    """Every scenario on a new world and double; what went wrong, in words."""
    world = make_world()
    try:
        adapter = world.engine().adapter(board)
    finally:
        world.close()
    assert isinstance(adapter, ApiAdapter)
    problems = [f"{board}: {p}" for p in declared_but_missing(adapter)]
    if problems:
        return problems  # scenarios would only repeat it
    for scenario in SCENARIOS:
        if not applies(scenario, adapter):
            continue
        world, made = make_world(), double()
        world.defaults.update(made.posting)  # a posting the board takes (its country ...)
        try:
            problems += [f"{board}: {p}" for p in await scenario(world, made, board)]
        finally:
            world.close()
    return problems


def declared_but_missing(adapter: ApiAdapter[Any]) -> list[str]:
    """Capabilities the adapter declares without implementing them."""
    own = type(adapter)
    missing = []
    if adapter.reconcile == Reconcile.LOOKUP and own.lookup is ApiAdapter.lookup:
        missing.append("declares reconcile = LOOKUP but does not implement lookup()")
    if adapter.batch_size > 1 and own.submit is ApiAdapter.submit:
        missing.append(
            f"declares batch_size = {adapter.batch_size} but does not implement submit()"
        )
    if adapter.tasks is not None and own.poll is ApiAdapter.poll:
        missing.append("declares tasks but does not implement poll()")
    if adapter.batch_size == 1 and own.publish is ApiAdapter.publish:
        missing.append("does not implement publish() (only a batch board creates through submit())")
    if adapter.batch_size == 1 and own.withdraw is ApiAdapter.withdraw:
        missing.append("does not implement withdraw() (only a batch board closes through submit())")
    return missing


def applies(scenario: Scenario, adapter: ApiAdapter[Any]) -> bool:
    if scenario is one_bad_element:
        return adapter.batch_size > 1
    if scenario in (slow_task, failed_task):
        return adapter.tasks is not None
    return True


def _ref(board: str, posting_id: str = "data-analyst") -> str:
    return f"jobpub-{posting_id}-{board}"


async def settle(world: World, board: str, rounds: int = 12) -> None:
    """On a board with tasks: let time pass and sync until no task is left waiting."""
    adapter = world.engine().adapter(board)
    tasks = getattr(adapter, "tasks", None)
    for _ in range(rounds if tasks is not None else 0):
        waiting = [w for w in world.ledger.open_work().values() if w.due_at > world.clock.now]
        if not waiting:
            return
        world.clock.now = max(world.clock.now, min(w.due_at for w in waiting))
        await world.sync()


async def _post(world: World, board: str, posting_id: str = "data-analyst", **changes: Any) -> None:
    world.write(posting_id, publish_at=world.clock.now.date(), boards={board: {}}, **changes)
    await world.sync()
    await settle(world, board)


async def lifecycle(world: World, double: Double, board: str) -> list[str]:
    problems = []
    await _post(world, board)
    listing = world.listing(board=board)
    if listing.state != "live" or double.open_refs().get(_ref(board)) != 1:
        return [
            f"create: the listing is {listing.state} ({listing.last_error}); the board "
            f"holds {double.open_refs().get(_ref(board), 0)} open for it"
        ]
    adapter = world.engine().adapter(board)
    assert isinstance(adapter, ApiAdapter)
    if adapter.can_lookup:
        found = await adapter.lookup(_ref(board))
        await adapter.client.aclose()
        if found is None or found.board_id != listing.board_id:
            problems.append(
                "lookup does not find the listing it created: implement lookup "
                "by external reference, or declare can_lookup = False"
            )
    await _post(world, board, title="Senior Data Analyst")
    if double.content(_ref(board)) != "Senior Data Analyst":
        problems.append("update: the board does not show the new title")
    problems += await _refreshed(world, adapter, board)
    (world.postings / "data-analyst.yaml").unlink()
    await world.sync()
    await settle(world, board)
    if double.open_refs().get(_ref(board)):
        problems.append("withdraw: the listing is still open on the board")
    try:
        await _withdraw_again(world, board)
    except NotOnBoard:
        pass  # the board says it has no open job by that id: the engine counts it withdrawn
    except Exception as exc:  # reported as a finding, whatever it is
        problems.append(
            f"withdraw again: a listing already gone must not be an error "
            f"(got {type(exc).__name__}: {exc})"
        )
    return problems


async def _refreshed(world: World, adapter: ApiAdapter[Any], board: str) -> list[str]:
    """A board that renews listings: the renewal is due, made and counted."""
    listing = world.listing(board=board)
    policy = adapter.refresh_policy
    due = policy.next_due(listing.posted_at, None) if listing.posted_at else None
    if due is None:
        return []
    world.write(
        publish_at=world.clock.now.date(),
        boards={board: {}},
        title="Senior Data Analyst",
        expires_at=(due + timedelta(days=20)).date(),
    )
    await world.sync()  # the new end date goes out as an update first
    await settle(world, board)
    world.clock.now = max(world.clock.now, due)
    await world.sync()
    await settle(world, board)
    after = world.listing(board=board)
    if after.refresh_count != 1 or after.state != "live":
        return [
            f"refresh: due at {due:%Y-%m-%d}, the listing is {after.state} with "
            f"{after.refresh_count} renewals ({after.last_error})"
        ]
    return []


async def _withdraw_again(world: World, board: str) -> None:
    """Close the listing once more, as a repeat after a crash would."""
    adapter = world.engine().adapter(board)
    assert isinstance(adapter, ApiAdapter)
    receipt = _receipt(world, board)
    try:
        posting = world.ledger.specs(["data-analyst"])["data-analyst"]
        (answer,) = await adapter.submit(
            [Submission("expire", posting, receipt, "conformance:withdraw-again")]
        )
        if isinstance(answer, Exception):
            raise answer
        for _ in range(5 if answer.task else 0):
            found = (await adapter.poll([answer.task or ""])).get(answer.task or "")
            if isinstance(found, Exception):
                raise found
            if found is not None:
                return
    finally:
        await adapter.client.aclose()


def _receipt(world: World, board: str) -> Any:
    from publisher.adapter import Receipt

    listing = world.listing(board=board)
    return Receipt(board, listing.external_ref, listing.board_id, listing.url)


async def closed_on_the_board(world: World, double: Double, board: str) -> list[str]:
    """The job is closed on the board behind jobpub's back; then its posting ends: the
    withdrawal must count as done (the listing expired, nothing failed), whatever the board
    answers for a job that is not open."""
    await _post(world, board)
    if world.listing(board=board).state != "live":
        return []  # the lifecycle scenario reports it
    double.close_out_of_band(_ref(board))
    (world.postings / "data-analyst.yaml").unlink()
    await world.sync()
    await settle(world, board)
    listing = world.listing(board=board)
    if listing.state != "expired" or world.ledger.failing():
        return [
            f"a job already closed on the board: its withdrawal left the listing "
            f"{listing.state} ({listing.last_error}); raise NotOnBoard for an answer "
            "that says the job is not open (raise_for_status(missing_ok=True) does)"
        ]
    return []


async def retry_after(world: World, double: Double, board: str) -> list[str]:
    double.fail_next("429:7")
    await _post(world, board)
    if 7.0 not in world.clock.sleeps or world.listing(board=board).state != "live":
        return [
            f"429 with Retry-After: 7 should wait 7 s and succeed (waited "
            f"{world.clock.sleeps}, listing {world.listing(board=board).state}): raise "
            "BoardUnavailable with retry_after (raise_for_status does)"
        ]
    return []


async def server_error(world: World, double: Double, board: str) -> list[str]:
    double.fail_next("503")
    await _post(world, board)
    if world.listing(board=board).state != "live" or double.open_refs().get(_ref(board)) != 1:
        return ["503: should be retried and end with one listing"]
    return []


async def stored_then_timeout(world: World, double: Double, board: str) -> list[str]:
    double.fail_next("timeout-after")
    await _post(world, board)
    count = double.open_refs().get(_ref(board), 0)
    if world.engine().adapter(board).reconcile == Reconcile.MANUAL:  # type: ignore[attr-defined]
        listing = world.listing(board=board)
        if (
            count != 1
            or listing.state != "failed"
            or "check the board" not in (listing.last_error or "")
        ):
            return [
                f"a create stored but unanswered, on a board that can neither be queried "
                f"nor dedupe: {count} open, listing {listing.state} ({listing.last_error}); "
                "it must not be sent again, and a person is asked to check"
            ]
        return []
    if count != 1 or world.listing(board=board).state != "live":
        return [
            f"a create stored by the board whose answer was lost left {count} open "
            f"listings (must be 1): make lookup find it, or declare can_lookup = False "
            f"and dedupe by the Idempotency-Key"
        ]
    return []


async def refused(world: World, double: Double, board: str) -> list[str]:
    problems = []
    for status in ("401", "403", "400", "422"):
        world.write(
            publish_at=world.clock.now.date(), boards={board: {}}, title=f"Analyst {status}"
        )
        double.faults.clear()
        double.fail_next(status, status)  # a token refresh may repeat a call once
        await world.sync()
        await settle(world, board)
        listing = world.listing(board=board)
        if listing.state != "failed" or REASON not in (listing.last_error or ""):
            problems.append(
                f"{status}: the listing should fail with the board's reason in "
                f"its last error (got {listing.state}: {listing.last_error})"
            )
        with world.ledger.engine.begin() as conn:  # start the next status afresh
            for table in (events, due_work, listings):
                conn.execute(delete(table))
    return problems


async def malformed(world: World, double: Double, board: str) -> list[str]:
    double.fail_next("malformed")
    await _post(world, board)
    trail = " | ".join(e.detail for e in world.ledger.history("data-analyst"))
    if "KeyError" in trail or "TypeError" in trail:
        return [
            f"a success body without the expected fields: say what is missing in a "
            f"BoardError, not a bare exception ({trail})"
        ]
    if double.open_refs().get(_ref(board), 0) > 1:
        return ["a malformed answer to a create led to a second listing"]
    return []


async def one_bad_element(world: World, double: Double, board: str) -> list[str]:
    double.bad_ref = _ref(board, "bad-one")
    world.write("bad-one", publish_at=world.clock.now.date(), boards={board: {}})
    await _post(world, board)
    good, bad = world.listing(board=board), world.listing("bad-one", board=board)
    problems = []
    if good.state != "live" or double.open_refs().get(_ref(board)) != 1:
        problems.append(
            f"a batch with one bad element: the good one is {good.state} "
            f"({good.last_error}), must be live once on the board"
        )
    if bad.state != "failed" or REASON not in (bad.last_error or ""):
        problems.append(
            f"a batch with one bad element: the bad one is {bad.state} "
            f"({bad.last_error}), must fail with the board's reason for it"
        )
    return problems


async def slow_task(world: World, double: Double, board: str) -> list[str]:
    double.slow = 3
    world.write(publish_at=world.clock.now.date(), boards={board: {}})
    await world.sync()
    states = [world.listing(board=board).state]
    for _ in range(4):
        world.clock.now = (
            min(w.due_at for w in world.ledger.open_work().values())
            if world.ledger.open_work()
            else world.clock.now
        )
        await world.sync()
        states.append(world.listing(board=board).state)
    if states != ["pending"] * 4 + ["live"] or double.open_refs().get(_ref(board)) != 1:
        return [
            f"a task in progress for 3 polls: the listing went {' -> '.join(states)} "
            "(must stay pending until the board says done, then be live once)"
        ]
    return []


async def failed_task(world: World, double: Double, board: str) -> list[str]:
    double.fail_task = True
    await _post(world, board)
    listing = world.listing(board=board)
    if listing.state != "failed" or REASON not in (listing.last_error or ""):
        return [
            f"a failed task: the listing is {listing.state} ({listing.last_error}); it "
            "must fail with the task's error"
        ]
    return []


SCENARIOS: list[Scenario] = [
    lifecycle,
    closed_on_the_board,
    retry_after,
    server_error,
    stored_then_timeout,
    refused,
    malformed,
    one_bad_element,
    slow_task,
    failed_task,
]


def check_feed_board(adapter: FileAdapter[Any], item: FeedItem) -> list[str]:
    """A feed board's dialect carries what every feed needs, and each of its fields is
    written and parses back."""
    dialect = getattr(adapter, "dialect", None)
    if dialect is None:
        return [f"{adapter.name}: not a feed (no dialect)"]
    fields = {key for _, key in dialect.fields} | ({"ref"} if dialect.id_attribute else set())
    if fields & {"city", "location"}:
        fields.add("location")
    missing = [f"{what} ({key})" for key, what in FEED_MUST.items() if key not in fields]
    problems = [f"{adapter.name}: the dialect lacks {', '.join(missing)}"] if missing else []
    assert item.posted_at is not None
    (content,) = adapter.render_files([item], [], item.posted_at).values()
    job = ElementTree.fromstring(content).find(f".//{dialect.job}")
    if job is None:
        return [*problems, f"{adapter.name}: no <{dialect.job}> element written"]
    for path, key in dialect.fields:
        if key in (
            "remotetype",
            "street",
            "postalcode",
            "email",
            "education",
            "experience",
            "category",
            "company_url",
            "apply_url",
            "requisitionid",
            "salary",
            "updated",
            "expires",
            "contract_type",
            "contract_time",
            "working_hours",
            "jobtype",
        ):
            continue  # optional: only when the posting has it
        if not (job.findtext(path) or "").strip():
            problems.append(f"{adapter.name}: <{path}> ({key}) is missing or empty")
    return problems


def json_body(request: httpx.Request) -> dict[str, Any]:
    data = json.loads(request.content or b"{}")
    return data if isinstance(data, dict) else {}


#: What Google requires of a JobPosting (its structured-data documentation), and where a job
#: is, one way or the other.
PAGE_MUST = ("title", "description", "datePosted", "hiringOrganization")


def check_page_board(adapter: FileAdapter[Any], item: FeedItem) -> list[str]:
    """A page board: each open posting gets a page whose JobPosting JSON-LD parses back with
    the required fields and says where the job is, and a sitemap lists that page."""
    import re

    files = adapter.render_files([item], [], item.posted_at or item.expires_at or _EPOCH)
    pages = {
        path: body.decode()
        for path, body in files.items()  # the job pages
        if path.endswith(".html") and "/" in path
    }
    if len(pages) != 1:
        return [f"{adapter.name}: {len(pages)} pages for one open posting (must be 1)"]
    ((path, page),) = pages.items()
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    try:
        data = json.loads(found[0]) if found else {}
    except ValueError as exc:
        return [f"{adapter.name}: the page's JSON-LD does not parse ({exc})"]
    problems = [
        f"{adapter.name}: the JobPosting lacks {key}" for key in PAGE_MUST if not data.get(key)
    ]
    if data.get("@type") != "JobPosting":
        problems.append(f"{adapter.name}: the page has no JobPosting JSON-LD")
    if not (data.get("jobLocation") or data.get("jobLocationType")):
        problems.append(f"{adapter.name}: the JobPosting says nowhere where the job is")
    sitemaps = [body.decode() for name, body in files.items() if name.endswith(".xml")]
    if not any(path.rsplit("/", 1)[-1] in sitemap for sitemap in sitemaps):
        problems.append(f"{adapter.name}: no sitemap lists {path}")
    return problems
