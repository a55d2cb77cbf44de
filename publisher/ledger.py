"""The ledger: what jobpub knows it has published, what is due, and what every board said.

All writes are short transactions. Work is claimed under a lease (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so a cron ``sync`` and a ``run``
daemon sharing one ledger never run the same action twice.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import (
    ARRAY,
    Engine,
    RowMapping,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    text,
    true,
    update,
)

from publisher.database import reading
from publisher.schema import STORED, Posting
from publisher.states import EventOutcome, Hold, ListingState, WorkState
from publisher.tables import REPLAN, board_files, due_work, events, listings, postings, quota
from publisher.tables import revisions as kept_revisions

__all__ = [
    "Event",
    "Ledger",
    "ListingChange",
    "ListingRow",
    "Outcome",
    "PostingRow",
    "WorkChange",
    "WorkRow",
    "content_hash",
    "owner_id",
    "work_key",
]

OPEN_WORK = (WorkState.PENDING, WorkState.RUNNING)
#: What every write of a listing sets besides its own values: a new version (work planned
#: on the old one is not queued) and a next due time long past (the next tick plans it).
_CHANGED = {"version": listings.c.version + 1, "next_due_at": REPLAN}
LEASE = timedelta(minutes=5)
_BY_POSTING = attrgetter("posting_id", "board")  # the order listings are read in
#: The boards in use, each found by one search of ix_listings_board: the smallest board
#: name, then the smallest after it, until none is left.
_BOARDS = text(
    "WITH RECURSIVE used(board) AS (SELECT min(board) FROM listings UNION ALL "
    "SELECT (SELECT min(board) FROM listings WHERE board > used.board) FROM used "
    "WHERE used.board IS NOT NULL) SELECT board FROM used WHERE board IS NOT NULL"
)
#: What a light read of the postings shows for a time it did not read.
REMOVED = datetime.min.replace(tzinfo=UTC)


def content_hash(posting: Posting) -> str:
    """A stable hash of the posting's content (its list of boards left out)."""
    return hashlib.sha256(posting.model_dump_json(exclude={"boards"}).encode()).hexdigest()


def listing_hash(digest: str, posting: Posting, board: str) -> str:
    """What one board sees: the content hash and that board's overrides."""
    overrides = json.dumps(posting.board_overrides(board), sort_keys=True)
    return hashlib.sha256(f"{digest}:{board}:{overrides}".encode()).hexdigest()


def work_key(ref: str, kind: str, revision: int, seq: int) -> str:
    """The idempotency key of one unit of work: sent with each attempt of it, never reused."""
    return f"{ref}:{kind}:r{revision}:{seq}"


def _chunks(ids: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """``ids`` in slices small enough for one ``IN (...)``."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def among(conn: Any, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values``; on PostgreSQL ``column = ANY(array)``, one parameter whatever
    the number of values. psycopg parses a long statement's text again on every execution
    (an IN of 500 values: one placeholder each); this text stays short and the same, so it
    is parsed once (on bench_tick's 1M-listing ledger, ~1 s of a 6 s tick)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def owner_id() -> str:
    """Who holds a lease: ``host/machine:pid``, so a dead process's leases can be taken over
    by a process that can see it (same host name and the same process namespace)."""
    return f"{_machine()}:{os.getpid()}"


@functools.cache
def _machine() -> str:
    """The host name with a tag of where process ids mean the same thing: the kernel's boot
    and the process's PID namespace (containers sharing a host name each have their own,
    and each may run a pid 1). Without ``/proc`` (macOS), the host name alone."""
    host = socket.gethostname()
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        space = os.readlink("/proc/self/ns/pid")
    except OSError:
        return host
    return f"{host}/{hashlib.sha256(f'{boot} {space}'.encode()).hexdigest()[:12]}"


def _row(cls: Any, mapping: RowMapping) -> Any:
    return cls(**{f.name: mapping[f.name] for f in fields(cls) if f.name in mapping})


@dataclass
class PostingRow:
    """A posting the ledger knows (its spec is read separately: see Ledger.specs)."""

    id: str
    revision: int
    content_hash: str
    source: str
    timezone: str
    path: str | None
    source_hash: str | None
    spec_hash: str
    removed_at: datetime | None
    updated_at: datetime
    source_stat: str | None = None  # size:mtime_ns:inode of the file when last hashed


@dataclass
class ListingRow:
    id: int
    posting_id: str
    board: str
    state: str
    external_ref: str
    board_id: str | None = None
    url: str | None = None
    revision: int | None = None
    content_hash: str | None = None
    posted_at: datetime | None = None
    refreshed_at: datetime | None = None
    refresh_count: int = 0
    expires_at: datetime | None = None
    expired_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    reconcile: bool = False
    notify: str | None = None
    changed_at: datetime | None = None
    version: int = 0
    hold: str | None = None
    next_due_at: datetime | None = None


@dataclass
class WorkRow:
    id: int
    listing_id: int
    kind: str
    reason: str
    due_at: datetime
    state: str
    attempts: int
    idempotency_key: str
    lease_owner: str | None = None
    lease_until: datetime | None = None
    last_error: str | None = None
    revision: int | None = None
    hold: str | None = None
    task_id: str | None = None  # the board finishes this later: poll it
    task_until: datetime | None = None
    polls: int = 0
    probe: bool = False
    fence: int = 0  # the claim's generation: its outcome is written only while it holds


@dataclass
class Event:
    time: datetime
    posting_id: str
    board: str
    action: str
    outcome: str  # ok retry failed
    detail: str
    http_status: int | None = None
    actor: str | None = None  # who did it: the OS user of a CLI run, the web app's user


class ListingChange(TypedDict, total=False):
    """The columns of ``listings`` an outcome may set (a key not here fails mypy)."""

    state: str
    board_id: str | None
    url: str | None
    revision: int | None
    content_hash: str | None
    posted_at: datetime | None
    refreshed_at: datetime | None
    refresh_count: int
    expires_at: datetime | None
    expired_at: datetime | None
    attempts: int
    last_error: str | None
    reconcile: bool
    notify: str | None
    changed_at: datetime
    hold: str | None


class WorkChange(TypedDict, total=False):
    """The columns of ``due_work`` an outcome may set (a key not here fails mypy)."""

    state: str
    due_at: datetime
    last_error: str | None
    task_id: str | None
    task_until: datetime | None
    polls: int
    probe: bool


@dataclass
class Outcome:
    """What one executed action changes: the listing, its work row and the audit trail."""

    work_id: int
    listing_id: int
    listing: ListingChange
    work: WorkChange
    events: list[Event] = field(default_factory=list)
    #: The claim this outcome is of (WorkRow.fence): written only while it still holds the
    #: work; None: unconditionally (work no run had claimed).
    fence: int | None = None

    ESSENTIAL = (
        "state",
        "board_id",
        "url",
        "revision",
        "content_hash",
        "reconcile",
        "attempts",
        "posted_at",
        "expired_at",
        "changed_at",
        "refresh_count",
    )

    def essentials(self, why: str) -> Outcome:
        """What must be kept when the whole outcome cannot be written: what the board has."""
        listing = ListingChange(
            **{
                k: v
                for k, v in self.listing.items()  # type: ignore[typeddict-item]
                if k in self.ESSENTIAL
            }
        )
        note = f"recorded partly ({why})"
        listing["last_error"] = note
        return Outcome(
            self.work_id,
            self.listing_id,
            listing,
            {"state": self.work.get("state", WorkState.FAILED), "last_error": note},
            self.events,
            self.fence,
        )

    def stale_event(self) -> Event | None:
        """What a worker that lost its lease saw, as the history's *stale attempt*."""
        if not self.events:
            return None
        last = self.events[-1]
        return replace(
            last,
            outcome=EventOutcome.STALE,
            detail=(
                "not recorded: this worker had lost its lease on the work (paused or slow past "
                f"it) and another worker holds it; what it saw: {last.detail}"
            ),
        )


class Ledger:
    """Reads and writes of the ledger; every method is one transaction."""

    def __init__(self, engine: Engine, actor: str | None = None) -> None:
        self.engine = engine
        self.reads = reading(engine)  # transactions that only read (no write lock on SQLite)
        #: Recorded with every event this ledger writes (default: the OS user running it).
        self.actor = actor or _os_user()

    # -- postings -------------------------------------------------------------------------
    def postings(
        self, *, light: bool = False, source: str | None = None, ids: Iterable[str] | None = None
    ) -> dict[str, PostingRow]:
        """The postings the ledger knows (from ``source`` only, or these ``ids`` only).
        ``light``: without reading their times (what a tick compares files with):
        ``removed_at`` is :data:`REMOVED` or None, ``updated_at`` :data:`REMOVED`."""
        columns: list[Any] = [postings.c[f.name] for f in fields(PostingRow)]
        if light:
            columns[8], columns[9] = postings.c.removed_at.is_not(None), literal(None)
        query = select(*columns)
        if source is not None:
            query = query.where(postings.c.source == source)
        rows: list[Any] = []
        with self.reads.connect() as conn:
            parts = (
                [query]
                if ids is None
                else [
                    query.where(among(conn, postings.c.id, part))
                    for part in _chunks(sorted(set(ids)))
                ]
            )
            for part in parts:
                rows += conn.execute(part).all()  # (at once: far fewer calls per row)
        if not light:
            return {r[0]: PostingRow(*r) for r in rows}
        return {
            r[0]: PostingRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                REMOVED if r[8] else None,
                REMOVED,
                r[10],
            )
            for r in rows
        }

    def queued(self) -> bool:
        """Whether any posting is queued (not removed)."""
        with self.reads.connect() as conn:
            return (
                conn.execute(
                    select(postings.c.id)
                    .where(postings.c.source == "queue", postings.c.removed_at.is_(None))
                    .limit(1)
                ).first()
                is not None
            )

    def specs(self, ids: Iterable[str]) -> dict[str, Posting]:
        """The last valid content of these postings."""
        wanted, found = sorted(set(ids)), {}
        with self.reads.connect() as conn:
            for part in _chunks(wanted):
                query = select(postings.c.id, postings.c.spec).where(
                    among(conn, postings.c.id, part)
                )
                found.update(
                    {
                        pid: Posting.model_validate_json(spec, context=STORED)
                        for pid, spec in conn.execute(query)
                    }
                )
        return found

    def save_postings(
        self,
        items: Iterable[tuple[Posting, str, str | None, str | None]],
        now: datetime,
        *,
        write: bool = True,
        known: Mapping[str, PostingRow] | None = None,
    ) -> dict[str, tuple[int, str]]:
        """Record each posting ``(posting, source, path, source_hash)``; changed content is a
        new revision. ``known``: :meth:`postings` when the caller has just read them.

        Returns each posting's revision and content hash (as they would be, when ``write``
        is false).
        """
        if known is None:
            known = self.postings()
        new, changed, revisions = [], [], {}
        for posting, source, path, source_hash in items:
            digest = content_hash(posting)
            spec = posting.model_dump_json(exclude_unset=True)  # what was given: compact
            spec_hash = hashlib.sha256(spec.encode()).hexdigest()
            row = known.get(posting.id)
            values = {
                "id": posting.id,
                "content_hash": digest,
                "source": source,
                "path": path,
                "timezone": posting.timezone or "UTC",
                "source_hash": source_hash,
                "spec": spec,
                "spec_hash": spec_hash,
                "updated_at": now,
                "removed_at": None,
            }
            if row is None:  # planned by the next tick, whatever happens before it (a new or
                # changed posting is pending a plan until one is made)
                new.append({**values, "revision": 1, "plan_pending": True})
                revisions[posting.id] = (1, digest)
            elif (row.spec_hash, row.source, row.path, row.removed_at, row.source_hash) != (
                spec_hash,
                source,
                path,
                None,
                source_hash,
            ):
                revision = row.revision + (row.content_hash != digest)
                revisions[posting.id] = (revision, digest)
                changed.append({**values, "revision": revision, "plan_pending": True})
            else:
                revisions[posting.id] = (row.revision, digest)
        if not write:
            return revisions
        known_revisions = {pid: row.revision for pid, row in known.items()}
        kept = [
            {
                "posting_id": v["id"],
                "revision": v["revision"],
                "content_hash": v["content_hash"],
                "spec": v["spec"],
                "recorded_at": now,
            }
            for v in (*new, *changed)
            if v["revision"] != known_revisions.get(str(v["id"]))
        ]
        with self.engine.begin() as conn:
            # (another run may have recorded the same new posting a moment ago)
            _insert_rows(conn, postings, new)
            _update_many(
                conn,
                postings,
                [(v["id"], {k: x for k, x in v.items() if k != "id"}) for v in changed],
            )
            _insert_rows(conn, kept_revisions, kept)  # every revision, as first recorded
            _replan(conn, [str(v["id"]) for v in changed])
        return revisions

    def archive(self, since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Every recorded revision (from ``since``) with where and when it was live: per
        board, the time it went out (or the revision came, if later) and the time it was
        replaced by the next revision or taken down (None: still live)."""
        query = select(kept_revisions).order_by(
            kept_revisions.c.posting_id, kept_revisions.c.revision
        )
        rows = self._select(query)
        by_posting: dict[str, list[RowMapping]] = {}
        for row in rows:
            by_posting.setdefault(row["posting_id"], []).append(row)
        for posting_id, kept in by_posting.items():
            spans = _live_spans(self.history(posting_id))
            for i, row in enumerate(kept):
                start = row["recorded_at"]
                end = kept[i + 1]["recorded_at"] if i + 1 < len(kept) else None
                boards = []
                for board, live_from, live_until in spans:
                    lo = max(live_from, start)
                    hi = (
                        min(x for x in (live_until, end) if x is not None)
                        if (live_until or end)
                        else None
                    )
                    if hi is None or lo < hi:
                        boards.append(
                            {
                                "board": board,
                                "live_from": lo.isoformat(),
                                "live_until": hi.isoformat() if hi else None,
                            }
                        )
                ends = [b["live_until"] for b in boards]
                last = (
                    end.isoformat() if end else (max(ends) if boards and None not in ends else None)
                )
                if since is not None and last is not None and last < since.isoformat():
                    continue  # over before ``since``
                yield {
                    "posting": posting_id,
                    "revision": row["revision"],
                    "recorded_at": start.isoformat(),
                    "content_hash": row["content_hash"],
                    "content": json.loads(row["spec"]),
                    "live": boards,
                }

    def mark_removed(self, ids: Sequence[str], now: datetime) -> None:
        if ids:
            with self.engine.begin() as conn:
                conn.execute(
                    update(postings).where(among(conn, postings.c.id, ids)).values(removed_at=now)
                )
                _replan(conn, ids)

    # -- listings -------------------------------------------------------------------------
    def listings(self, posting_id: str | None = None) -> list[ListingRow]:
        # Columns in the dataclass's field order: rows become objects positionally (fast).
        query = select(*[listings.c[f.name] for f in fields(ListingRow)]).order_by(
            listings.c.posting_id, listings.c.board
        )
        if posting_id is not None:
            query = query.where(listings.c.posting_id == posting_id)
        with self.reads.connect() as conn:
            return [ListingRow(*row) for row in conn.execute(query)]

    def failing(self) -> int:
        """Listings left failed (they need a person)."""
        with self.reads.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(listings)
                    .where(listings.c.state == ListingState.FAILED)
                ).scalar_one()
            )

    def boards(self) -> set[str]:
        """Every board that has a listing: one index search per board (a loose index scan),
        not a pass over every listing as SELECT DISTINCT makes on SQLite."""
        with self.reads.connect() as conn:
            return set(conn.execute(_BOARDS).scalars())

    def add_listings(self, items: Sequence[tuple[str, str, str]], now: datetime) -> None:
        """New listings ``(posting_id, board, external_ref)``, scheduled."""
        if items:
            with self.engine.begin() as conn:  # a racing run may have added some already
                _insert_rows(
                    conn,
                    listings,
                    [
                        {
                            "posting_id": p,
                            "board": b,
                            "external_ref": ref,
                            "state": ListingState.SCHEDULED,
                            "refresh_count": 0,
                            "attempts": 0,
                            "reconcile": False,
                            "changed_at": now,
                        }
                        for p, b, ref in items
                    ],
                )

    def set_hold(self, listing_ids: Sequence[int], hold: str | None) -> None:
        """Hold listings (see ``tables.listings.hold``); a new version, so work planned on
        the old one is not queued."""
        if listing_ids:
            with self.engine.begin() as conn:
                conn.execute(
                    update(listings)
                    .where(among(conn, listings.c.id, listing_ids))
                    .values(hold=hold, **_CHANGED)
                )

    def clear_notify(self, listing_ids: Sequence[int]) -> None:
        if listing_ids:
            with self.engine.begin() as conn:
                conn.execute(
                    update(listings)
                    .where(among(conn, listings.c.id, listing_ids))
                    .values(notify=None)
                )

    def open_work(self, listing_ids: Sequence[int] | None = None) -> dict[int, WorkRow]:
        """The unfinished work row of each listing (at most one is kept open), of every
        listing or of these."""
        query = select(due_work).where(due_work.c.state.in_(OPEN_WORK))
        rows: list[RowMapping] = []
        with self.reads.connect() as conn:
            for part in [None] if listing_ids is None else _chunks(sorted(set(listing_ids))):
                rows += conn.execute(
                    query if part is None else query.where(among(conn, due_work.c.listing_id, part))
                ).mappings()
        return {r["listing_id"]: _row(WorkRow, r) for r in sorted(rows, key=lambda r: r["id"])}

    def enqueue(self, items: Sequence[dict[str, Any]], cancel: Sequence[int], now: datetime) -> int:
        """Queue work planned on a read of the listings; cancel superseded rows first.

        Each item has ``listing_id, kind, reason, due_at, ref, revision, version`` and may
        have ``hold`` (an expire's: "manual" holds the listing at once, "gone" once done):
        ``version`` is the listing's version the plan was made on (0 for a listing the plan
        did not know). Under the listings' current versions (locked on PostgreSQL, the write
        lock on SQLite) an item whose listing has changed since is dropped: another run
        acted on it, and the next plan sees what it did. At most one open row per listing
        and unique idempotency keys (``<ref>:<kind>:r<revision>:<seq>``, ``seq`` counting
        that kind's rows for the listing) make a racing duplicate a no-op.

        Returns how many rows were queued.
        """
        with self.engine.begin() as conn:
            if cancel:
                conn.execute(
                    update(due_work)
                    .where(
                        and_(
                            among(conn, due_work.c.id, cancel),
                            due_work.c.state == WorkState.PENDING,
                        )
                    )
                    .values(state=WorkState.CANCELLED)
                )
            if not items:
                return 0
            ids = sorted({item["listing_id"] for item in items})
            current = self._versions(conn, ids)
            fresh = [i for i in items if current.get(i["listing_id"]) == i["version"]]
            if not fresh:
                return 0
            seq: dict[tuple[int, str], int] = {}
            for part in _chunks(ids):
                query = (
                    select(due_work.c.listing_id, due_work.c.kind, func.count())
                    .where(among(conn, due_work.c.listing_id, part))
                    .group_by(due_work.c.listing_id, due_work.c.kind)
                )
                seq.update({(lid, kind): n for lid, kind, n in conn.execute(query)})
            rows = []
            for item in fresh:
                n = seq[(item["listing_id"], item["kind"])] = (
                    seq.get((item["listing_id"], item["kind"]), 0) + 1
                )
                rows.append(
                    {
                        "listing_id": item["listing_id"],
                        "kind": item["kind"],
                        "reason": item["reason"],
                        "due_at": item["due_at"],
                        "idempotency_key": work_key(item["ref"], item["kind"], item["revision"], n),
                        "revision": item["revision"],
                        "hold": item.get("hold"),
                        "state": WorkState.PENDING,
                        "attempts": 0,
                        "created_at": now,
                    }
                )
            added = _insert_rows(conn, due_work, rows, returning=True)
            manual = [i["listing_id"] for i in fresh if i.get("hold") == Hold.MANUAL]
            if manual:  # a person's word holds at once, before the board call is made
                conn.execute(
                    update(listings)
                    .where(among(conn, listings.c.id, manual))
                    .values(hold=Hold.MANUAL, **_CHANGED)
                )
            return len(added)

    def _versions(self, conn: Any, ids: Sequence[int]) -> dict[int, int]:
        """The listings' current versions, locked against writes until the transaction ends
        (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the one write lock)."""
        found: dict[int, int] = {}
        for part in _chunks(ids):
            query = (
                select(listings.c.id, listings.c.version)
                .where(among(conn, listings.c.id, part))
                .order_by(listings.c.id)
            )
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update()
            found.update({lid: version for lid, version in conn.execute(query)})
        return found

    def listings_by_id(self, ids: Iterable[int]) -> dict[int, ListingRow]:
        """These listings as they are now (read after claiming their work)."""
        return {row.id: row for row in self._listings_where(listings.c.id, ids)}

    def listings_of(self, posting_ids: Iterable[str]) -> list[ListingRow]:
        """Every listing of these postings (and of no other), by posting and board."""
        return sorted(self._listings_where(listings.c.posting_id, posting_ids), key=_BY_POSTING)

    def listings_on(self, boards: Iterable[str]) -> list[ListingRow]:
        """Every listing on these boards, by posting and board (sorted here: with an ORDER
        BY, SQLite would walk every listing in that order)."""
        return sorted(self._listings_where(listings.c.board, boards), key=_BY_POSTING)

    def _listings_where(self, column: Any, values: Iterable[Any]) -> list[ListingRow]:
        columns = [listings.c[f.name] for f in fields(ListingRow)]
        found: list[ListingRow] = []
        with self.reads.connect() as conn:
            for part in _chunks(sorted(set(values))):
                found += [
                    ListingRow(*row)
                    for row in conn.execute(select(*columns).where(among(conn, column, part)))
                ]
        return found

    def claim(
        self,
        owner: str,
        now: datetime,
        limit: int | None = None,
        lease: timedelta = LEASE,
        only: Sequence[int] | None = None,
        mine_since: datetime | None = None,
    ) -> tuple[list[WorkRow], list[WorkRow]]:
        """Take due work under a lease. Returns (claimed, taken over from a dead owner); the
        rows taken over show the owner they were taken from. ``mine_since``: work ``owner``
        claimed since then is never taken over (a sync claiming again while its earlier
        claims run)."""
        stale = or_(
            due_work.c.lease_until < now,
            due_work.c.lease_owner.in_(
                _dead_owners(
                    self._select(
                        select(due_work.c.lease_owner)
                        .distinct()
                        .where(due_work.c.state == WorkState.RUNNING)
                    )
                )
            ),
        )
        crashed = and_(due_work.c.state == WorkState.RUNNING, stale)
        if mine_since is not None:
            crashed = and_(
                crashed,
                or_(due_work.c.lease_owner != owner, due_work.c.lease_until < mine_since + lease),
            )
        ready = or_(and_(due_work.c.state == WorkState.PENDING, due_work.c.due_at <= now), crashed)
        # After downtime, what is overdue runs expiries first (a closed job must not stay
        # up while posts and refreshes go out), then the rest by due time.
        # (Open work said first: it lets ix_due_work_open, over open work only, serve this.)
        with self.engine.begin() as conn:
            scope = among(conn, due_work.c.listing_id, only) if only is not None else true()
            pick = (
                select(due_work.c.id)
                .where(due_work.c.state.in_(OPEN_WORK), ready, scope)
                .order_by(
                    case((due_work.c.kind == "expire", 0), else_=1),
                    due_work.c.due_at,
                    due_work.c.id,
                )
                .limit(limit)
            )
            if self.engine.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            taken = dict(
                conn.execute(
                    select(due_work.c.id, due_work.c.lease_owner).where(crashed, scope)
                ).all()
            )
            claimed = conn.execute(
                update(due_work)
                .where(due_work.c.id.in_(pick))
                .values(
                    state=WorkState.RUNNING,
                    lease_owner=owner,
                    lease_until=now + lease,
                    attempts=due_work.c.attempts + 1,
                    fence=due_work.c.fence + 1,
                )
                .returning(*[due_work.c[f.name] for f in fields(WorkRow)])
            )
            rows = sorted(
                (WorkRow(*row) for row in claimed),
                key=lambda r: (r.kind != "expire", r.due_at, r.id),
            )
            over = [replace(r, lease_owner=taken[r.id]) for r in rows if r.id in taken]
            # (A task being polled is a read: taking it over is safe as it is.)
            creates = [r.listing_id for r in over if r.kind == "post" and r.task_id is None]
            if creates:  # the last run died mid-create: the listing may exist; look first
                conn.execute(
                    update(listings)
                    .where(among(conn, listings.c.id, creates))
                    .values(reconcile=True, **_CHANGED)
                )
        return rows, over

    def lapse(self, owner: str, now: datetime) -> int:
        """End ``owner``'s leases now: it stopped with calls cut short, whose outcome is
        unknown. The next run takes that work over at once (a create is looked up first)."""
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    update(due_work)
                    .where(due_work.c.state == WorkState.RUNNING, due_work.c.lease_owner == owner)
                    .values(lease_until=now - timedelta(seconds=1))
                ).rowcount
            )

    def release(self, work_ids: Sequence[int], owner: str | None = None) -> None:
        """Give claimed work back untouched (its board is skipped, or its posting is held);
        with ``owner``, only what that owner still holds (never work another run took over)."""
        if work_ids:
            with self.engine.begin() as conn:
                held = (
                    and_(due_work.c.state == WorkState.RUNNING, due_work.c.lease_owner == owner)
                    if owner is not None
                    else true()
                )
                conn.execute(
                    update(due_work)
                    .where(among(conn, due_work.c.id, work_ids), held)
                    .values(state=WorkState.PENDING, lease_owner=None, lease_until=None)
                )

    def renew(self, owner: str, held: Mapping[int, int], until: datetime) -> set[int]:
        """Extend the leases of work ``owner`` still holds (work id -> the fence it was
        claimed with) to ``until``. Returns the ids renewed: any other was taken over."""
        if not held:
            return set()
        renewed: list[tuple[int, int]] = []
        with self.engine.begin() as conn:
            for part in _chunks(sorted(held)):
                renewed += [
                    (i, f)
                    for i, f in conn.execute(
                        update(due_work)
                        .where(
                            among(conn, due_work.c.id, part),
                            due_work.c.state == WorkState.RUNNING,
                            due_work.c.lease_owner == owner,
                        )
                        .values(lease_until=until)
                        .returning(due_work.c.id, due_work.c.fence)
                    )
                ]
        return {work_id for work_id, fence in renewed if held[work_id] == fence}

    def record(self, outcomes: Sequence[Outcome]) -> list[str]:
        """Write the results of executed work, in one transaction when it can.

        An outcome carrying a fence is written only while its claim still holds the work
        (the row is running under that fence); otherwise the worker had lost its lease and
        another took the work over: only a *stale attempt* event is written, and a note
        returned. (Nothing else is owed: a call leaves only while its lease covers its whole
        deadline, so the board received it before the other worker could send anything.)
        If the batch cannot be written, each outcome is written alone, and one that still
        fails is written in its essentials (state, board id, what was sent), so one bad value
        never discards the record of calls already made. Returns a note per outcome that
        was stale or not written whole.
        """
        if not outcomes:
            return []
        try:
            return self._record(outcomes)
        except Exception:
            pass
        notes = []
        for outcome in outcomes:
            try:
                notes += self._record([outcome])
            except Exception as exc:
                notes.append(
                    f"listing #{outcome.listing_id}: recorded partly ({type(exc).__name__}: {exc})"
                )
                notes += self._record([outcome.essentials(f"{type(exc).__name__}: {exc}")])
        return notes

    def _record(self, outcomes: Sequence[Outcome]) -> list[str]:
        with self.engine.begin() as conn:
            stale = self._stale_of(conn, outcomes)  # (locks the work rows first, as claims do)
            current = [o for o in outcomes if id(o) not in stale]
            ids = sorted({o.listing_id for o in current})
            if self.engine.dialect.name == "postgresql":  # lock in id order: no deadlock
                self._versions(conn, ids)
            _update_many(
                conn,
                listings,
                sorted(((o.listing_id, o.listing) for o in current), key=lambda change: change[0]),
                bump=True,
            )
            _update_many(
                conn,
                due_work,
                [
                    (o.work_id, {**o.work, "lease_owner": None, "lease_until": None})
                    for o in current
                ],
            )
            trail = [e for o in current for e in o.events]
            trail += [e for o in outcomes if id(o) in stale and (e := o.stale_event())]
            self._add_events(conn, trail, self.actor)
        return [
            f"listing #{o.listing_id}: a stale attempt (this worker lost its lease on work "
            f"#{o.work_id} to another): not recorded"
            for o in outcomes
            if id(o) in stale
        ]

    def _stale_of(self, conn: Any, outcomes: Sequence[Outcome]) -> set[int]:
        """The outcomes (by ``id()``) whose claim no longer holds their work."""
        fenced = [o for o in outcomes if o.fence is not None]
        if not fenced:
            return set()
        held: dict[int, tuple[int, str]] = {}
        for part in _chunks(sorted({o.work_id for o in fenced})):
            query = (
                select(due_work.c.id, due_work.c.fence, due_work.c.state)
                .where(among(conn, due_work.c.id, part))
                .order_by(due_work.c.id)
            )
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update()
            held.update({i: (f, s) for i, f, s in conn.execute(query)})
        return {id(o) for o in fenced if held.get(o.work_id) != (o.fence, WorkState.RUNNING)}

    def add_events(self, items: Sequence[Event]) -> None:
        with self.engine.begin() as conn:
            self._add_events(conn, items, self.actor)

    @staticmethod
    def _add_events(conn: Any, items: Sequence[Event], actor: str | None = None) -> None:
        if items:
            _insert_rows(
                conn,
                events,
                [
                    {**{f.name: getattr(e, f.name) for f in fields(e)}, "actor": e.actor or actor}
                    for e in items
                ],
                skip_conflicts=False,
            )

    def history(self, posting_id: str) -> list[Event]:
        rows = self._select(
            select(events).where(events.c.posting_id == posting_id).order_by(events.c.id)
        )
        return [_row(Event, r) for r in rows]

    # -- quota ----------------------------------------------------------------------------
    def quota_used(self, board: str, day: str) -> int:
        rows = self._select(
            select(quota.c.used).where(and_(quota.c.board == board, quota.c.day == day))
        )
        return int(rows[0]["used"]) if rows else 0

    def use_quota(self, board: str, day: str, calls: int) -> None:
        """Count calls against the day's quota (an upsert: safe when two runs race)."""
        statement = self._insert(quota).values(board=board, day=day, used=calls)
        statement = statement.on_conflict_do_update(
            index_elements=[quota.c.board, quota.c.day],
            set_={"used": quota.c.used + statement.excluded.used},
        )
        with self.engine.begin() as conn:
            conn.execute(statement)

    # -- what file boards last wrote --------------------------------------------------------
    def board_files(self) -> dict[str, tuple[str, list[str]]]:
        """Per feed or page board: the fingerprint of what it last wrote, and its files."""
        rows = self._select(select(board_files))
        return {r["board"]: (r["fingerprint"], r["files"].splitlines()) for r in rows}

    def set_board_files(
        self, board: str, fingerprint: str, names: Sequence[str], now: datetime
    ) -> None:
        statement = self._insert(board_files).values(
            board=board, fingerprint=fingerprint, files="\n".join(names), written_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=[board_files.c.board],
            set_={
                "fingerprint": statement.excluded.fingerprint,
                "files": statement.excluded.files,
                "written_at": statement.excluded.written_at,
            },
        )
        with self.engine.begin() as conn:
            conn.execute(statement)

    # -- helpers --------------------------------------------------------------------------
    def _insert(self, table: Any) -> Any:
        """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL alike)."""
        return _dialect_insert(self.engine.dialect.name, table)

    def _select(self, query: Any) -> list[RowMapping]:
        with self.reads.connect() as conn:
            return list(conn.execute(query).mappings())


def _os_user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (containers)
        return None


def _live_spans(trail: Sequence[Event]) -> list[tuple[str, datetime, datetime | None]]:
    """Per board, the intervals a posting was out there: from each post that went out to
    the expire that took it down (None: still live)."""
    spans: list[tuple[str, datetime, datetime | None]] = []
    since: dict[str, datetime] = {}
    for event in trail:
        if event.outcome != "ok":
            continue
        if event.action == "post" and event.board not in since:
            since[event.board] = event.time
        elif event.action == "expire" and event.board in since:
            spans.append((event.board, since.pop(event.board), event.time))
    spans += [(board, start, None) for board, start in since.items()]
    return sorted(spans, key=lambda s: (s[1], s[0]))


def _replan(conn: Any, posting_ids: Sequence[str]) -> None:
    """These postings changed: their listings are planned again by the next tick."""
    for part in _chunks(posting_ids):
        conn.execute(
            update(listings)
            .where(among(conn, listings.c.posting_id, part))
            .values(next_due_at=REPLAN)
        )


def _arrays(table: Any, rows: Sequence[dict[str, Any]], names: Sequence[str]) -> Any:
    """PostgreSQL: ``rows`` as ``unnest(<one array parameter per column>)``, a derived
    table with columns ``names`` (``b_id`` stands for ``id``). One statement whatever the
    number of rows, with a short text: an executemany sends pages of rows with a placeholder
    per value, whose text psycopg parses again each time (10,000 rows into due_work: 0.7 s,
    most of it that; 0.3 s this way)."""
    arrays = [
        bindparam(
            None,
            [row[name] for row in rows],
            type_=ARRAY(table.c["id" if name == "b_id" else name].type),
        )
        for name in names
    ]
    return func.unnest(*arrays).table_valued(*names).render_derived()


def _dialect_insert(dialect: str, table: Any) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _insert_rows(
    conn: Any,
    table: Any,
    rows: Sequence[dict[str, Any]],
    *,
    skip_conflicts: bool = True,
    returning: bool = False,
) -> list[Any]:
    """Insert rows (all with the same keys); ``skip_conflicts``: a row that would break a
    unique index is left out; ``returning``: the ids of the rows inserted."""
    if not rows:
        return []
    arrays, names = conn.dialect.name == "postgresql", list(rows[0])
    statement = _dialect_insert(conn.dialect.name, table)
    if arrays:
        statement = statement.from_select(names, select(*_arrays(table, rows, names).c))
    statement = statement.on_conflict_do_nothing() if skip_conflicts else statement
    statement = statement.returning(table.c.id) if returning else statement
    found = conn.execute(statement, *(() if arrays else (rows,)))
    return list(found.all()) if returning else []


def _update_many(
    conn: Any, table: Any, changes: Sequence[tuple[Any, Mapping[str, Any]]], bump: bool = False
) -> None:
    """Update rows by id, one statement per set of changed columns (``bump``, listings
    only: and :data:`_CHANGED`): an executemany, or on PostgreSQL one ``UPDATE ... FROM
    unnest(...)`` (see :func:`_arrays`) when no id comes twice."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in changes:
        if values:
            groups.setdefault(tuple(sorted(values)), []).append({**values, "b_id": row_id})
    for columns, params in groups.items():
        arrays = conn.dialect.name == "postgresql" and len({p["b_id"] for p in params}) == len(
            params
        )
        source = _arrays(table, params, ("b_id", *columns)) if arrays else None
        setting: dict[str, Any] = {
            name: source.c[name] if source is not None else bindparam(name) for name in columns
        }
        if bump:  # a changed listing: planned again by the next tick
            setting.update(_CHANGED)
        key = source.c.b_id if source is not None else bindparam("b_id")
        statement = update(table).where(table.c.id == key).values(setting)
        conn.execute(statement, *(() if arrays else (params,)))


def _dead_owners(rows: Iterable[RowMapping]) -> list[str]:
    """Lease owners of this machine and PID namespace whose process no longer exists."""
    here = _machine()
    dead = []
    for row in rows:
        owner = row["lease_owner"] or ""
        name, _, pid = owner.rpartition(":")
        if name == here and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            dead.append(owner)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
