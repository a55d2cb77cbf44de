"""The ledger's tables (SQLAlchemy Core). Alembic migrations in ``publisher/migrations``
create and upgrade them; change both together.

Times are stored as UTC. SQLite keeps no zone, so :class:`UTCDateTime` strips it on the way
in and puts it back on the way out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)

__all__ = [
    "REPLAN",
    "UTCDateTime",
    "board_files",
    "changes",
    "due_work",
    "engine_state",
    "events",
    "incidents",
    "listings",
    "metadata",
    "postings",
    "quota",
    "revisions",
    "workers",
]


#: ``listings.next_due_at`` of a listing changed since it was planned: due at once.
REPLAN = datetime(1970, 1, 1, tzinfo=UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC (the same on SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the ledger stores aware datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

#: One row per posting the ledger knows: its latest valid revision and where it came from.
postings = Table(
    "postings",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("spec", Text, nullable=False),  # the canonical posting as JSON (defaults applied)
    Column("spec_hash", String(64), nullable=False),  # sha256 of spec: change detection
    Column("source", String(8), nullable=False),  # "file" or "queue"
    Column("timezone", String(64), nullable=False),  # for showing its times
    Column("path", Text),  # the posting file, for "file"
    Column("source_hash", String(64)),  # of the file's bytes + config: unchanged -> no re-check
    Column("source_stat", String(80)),  # size:mtime_ns:inode when source_hash was taken
    Column("plan_pending", Boolean),  # recorded, never planned yet (NULL once planned)
    Column("removed_at", UTCDateTime),  # the file was deleted
    Column("updated_at", UTCDateTime, nullable=False),
)

# Partial: almost every posting has none, and SQLite's statistics (ANALYZE) would otherwise
# rate the index too unselective to use.
_PENDING = postings.c.plan_pending.is_not(None)
Index(
    "ix_postings_plan_pending",
    postings.c.plan_pending,
    sqlite_where=_PENDING,
    postgresql_where=_PENDING,
)
# A tick reads the files' postings only (queued ones when planned): partial, so that a
# ledger of queued postings is not scanned.
_FILES = postings.c.source == "file"
Index("ix_postings_files", postings.c.id, sqlite_where=_FILES, postgresql_where=_FILES)

#: One row per posting x board: what is (or is about to be) on the board.
listings = Table(
    "listings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("posting_id", String(64), ForeignKey("postings.id"), nullable=False),
    Column("board", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # scheduled pending live failed expired
    Column("external_ref", String(160), nullable=False),
    Column("board_id", Text),
    Column("url", Text),
    Column("revision", Integer),  # the posting revision last sent (or attempted)
    Column("content_hash", String(64)),  # listing_hash() of what was last sent
    Column("posted_at", UTCDateTime),
    Column("refreshed_at", UTCDateTime),
    Column("refresh_count", Integer, nullable=False, default=0),
    Column("expires_at", UTCDateTime),
    Column("expired_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("reconcile", Boolean, nullable=False, default=False),  # outcome unknown: look up
    Column("notify", String(16)),  # a page change not yet announced (updated / removed)
    Column("changed_at", UTCDateTime, nullable=False),
    # Bumped by every write of the listing: work is queued only against the version it was
    # planned on, so a run that read the listing before another run changed it queues nothing.
    Column("version", Integer, nullable=False, default=0, server_default="0"),
    # Why an expired listing stays or comes back, whatever the file says: "manual" (closed by
    # jobpub expire: only jobpub reopen clears it), "gone" (its file or board was removed:
    # restoring it publishes again), "reopen" (jobpub reopen: publish again).
    Column("hold", String(16)),
    # When the next tick must plan this listing again: its next post, refresh or expiry as
    # planned; REPLAN (long past) when something changed it (every write that bumps version
    # sets it), so "due" is one index range, never an OR with IS NULL that SQLite's
    # statistics can turn into a scan of the table.
    Column("next_due_at", UTCDateTime, default=REPLAN),
    UniqueConstraint("posting_id", "board", name="uq_listing_posting_board"),
)
Index("ix_listings_next_due", listings.c.next_due_at)
# A tick counts failed listings and lists the boards in use: from these, not the table.
Index("ix_listings_state", listings.c.state)
Index("ix_listings_board", listings.c.board)

#: Durable work: an action on a listing, due at a time, claimed under a lease.
due_work = Table(
    "due_work",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("listing_id", Integer, ForeignKey("listings.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # post update refresh expire
    Column("reason", Text, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("state", String(16), nullable=False),  # pending running done failed cancelled
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", String(200)),
    Column("lease_until", UTCDateTime),
    # Made once per unit of work (<ref>:<action>:r<revision>:<seq>), sent with every attempt
    # of it, and unique: the same change can never be queued twice.
    Column("idempotency_key", String(240), nullable=False),
    Column("revision", Integer),  # of the posting when planned (sent later: a new key)
    Column("hold", String(16)),  # an expire's reason to keep the listing so (listings.hold)
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    # A board that finishes actions later (asynchronous results): its task id(s) for this
    # work, when to stop polling (the board's task lifetime), polls made so far, and whether
    # the action was a probe (an update sent to learn if a create reached the board).
    # The next poll is due_at.
    Column("task_id", Text),
    Column("task_until", UTCDateTime),
    Column("polls", Integer, nullable=False, default=0, server_default="0"),
    Column("probe", Boolean, nullable=False, default=False, server_default=false()),
    # The fencing token: each claim takes the next one; an outcome is written only by the
    # claim that still holds it (a worker paused past its lease records a stale attempt).
    Column("fence", Integer, nullable=False, default=0, server_default="0"),
)
Index("ix_due_work_state_due", due_work.c.state, due_work.c.due_at)
# The claim's: open work only. Done and cancelled rows are kept for ever; through this index
# a claim reads what is open, whatever SQLite's statistics say of the table.
_OPEN = due_work.c.state.in_(("pending", "running"))
Index("ix_due_work_open", due_work.c.due_at, sqlite_where=_OPEN, postgresql_where=_OPEN)
Index("uq_due_work_key", due_work.c.idempotency_key, unique=True)
Index("ix_due_work_listing_kind", due_work.c.listing_id, due_work.c.kind)
# At most one unfinished piece of work per listing: two syncs racing to queue the same
# action collide here, and the loser skips it.
_OPEN = due_work.c.state.in_(["pending", "running"])
Index(
    "uq_due_work_open_listing",
    due_work.c.listing_id,
    unique=True,
    sqlite_where=_OPEN,
    postgresql_where=_OPEN,
)

#: Append-only audit trail of every board call (never a secret: reasons are the board's).
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", UTCDateTime, nullable=False),
    Column("posting_id", String(64), nullable=False),
    Column("board", String(64), nullable=False),
    Column("action", String(16), nullable=False),  # post update refresh expire reconcile
    Column("outcome", String(8), nullable=False),  # ok retry failed
    Column("http_status", Integer),
    Column("detail", Text, nullable=False),
    Column("actor", String(100)),  # who: the OS user of a CLI run, the web app's user
)
Index("ix_events_posting", events.c.posting_id, events.c.id)

#: Calls made against a board's daily quota (a page board's pings), per quota day.
quota = Table(
    "quota",
    metadata,
    Column("board", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("used", Integer, nullable=False),
)

#: Every valid content a posting has had (record keeping: several laws want posted versions
#: kept for years): written when the revision is, never changed.
revisions = Table(
    "revisions",
    metadata,
    Column("posting_id", String(64), ForeignKey("postings.id"), primary_key=True),
    Column("revision", Integer, primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("spec", Text, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

#: Changes the web app's recruiters made that wait for an approver ([web] require_approval):
#: an edit (the whole new file, and the digest of the file it was made on) or a reopen.
changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("posting_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # edit reopen
    Column("text", Text, nullable=False),
    Column("base", String(64), nullable=False),  # SHA-256 of the file edited ("" = new)
    Column("author", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("state", String(10), nullable=False),  # pending approved rejected withdrawn
    Column("decided_by", String(100)),
    Column("decided_at", UTCDateTime),
)
Index("ix_changes_posting", changes.c.posting_id, changes.c.id)
Index("ix_changes_state", changes.c.state)

#: What each feed or page board last wrote: a fingerprint of everything its files are made
#: from (its listings, their postings' content, the config, the code) and the files' names.
#: A board whose fingerprint is unchanged and whose files are all there is not rendered.
board_files = Table(
    "board_files",
    metadata,
    Column("board", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("files", Text, nullable=False),  # one relative path per line
    Column("written_at", UTCDateTime, nullable=False),
)

#: Incidents people are told about ([notify]), once each: open while the condition lasts
#: (resolved_at NULL), notified_at set once a channel took the message.
incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),  # failed:<posting>:<board>, auth:<board>
    Column("message", Text, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("notified_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
)
# One open incident per key: two workers noticing the same failure open it once.
_OPEN_INCIDENT = incidents.c.resolved_at.is_(None)
Index(
    "uq_incidents_open",
    incidents.c.key,
    unique=True,
    sqlite_where=_OPEN_INCIDENT,
    postgresql_where=_OPEN_INCIDENT,
)

#: Small facts about the engine's own work: the fingerprint the last full plan was made
#: with, and whose turn the periodic full plan is (``until``: a lease).
engine_state = Table(
    "engine_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("until", UTCDateTime),
)

#: The ``jobpub run`` workers sharing this ledger: each beats while it runs (``status``).
workers = Table(
    "workers",
    metadata,
    Column("owner", String(200), primary_key=True),  # host:pid, as in due_work.lease_owner
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
    Column("ticks", Integer, nullable=False, default=0),
    Column("last_tick", Text),  # what the last tick did, in a few words
    Column("stopped_at", UTCDateTime),
)
