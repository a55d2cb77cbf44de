"""The ledger's words as enums: listing states, work states, actions, event outcomes and
holds. Each is a ``StrEnum``, so the value stored and shown is the word itself (the JSON
outputs and the spec name these words)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ActionKind", "EventOutcome", "Hold", "ListingState", "WorkState"]


class ListingState(StrEnum):
    """Where a posting stands on one board (``jobpub status``)."""

    SCHEDULED = "scheduled"  # its publish time has not come
    PENDING = "pending"  # sent; the board confirms later
    LIVE = "live"
    FAILED = "failed"  # a permanent failure that needs a person
    EXPIRED = "expired"


class ActionKind(StrEnum):
    """What is done to a listing (``plan``, ``history``)."""

    POST = "post"
    UPDATE = "update"
    REFRESH = "refresh"
    EXPIRE = "expire"
    RECONCILE = "reconcile"  # a look-up by our reference (history only)


class EventOutcome(StrEnum):
    OK = "ok"
    RETRY = "retry"
    FAILED = "failed"
    STALE = "stale"  # a worker that had lost its lease: what it saw, not its outcome


class WorkState(StrEnum):
    """A unit of due work."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Hold(StrEnum):
    """Why an expired listing stays or comes back, whatever its file says."""

    MANUAL = "manual"  # closed by jobpub expire; only jobpub reopen lifts it
    GONE = "gone"  # its file or board was removed; restoring it publishes again
    REOPEN = "reopen"  # jobpub reopen: publish again
