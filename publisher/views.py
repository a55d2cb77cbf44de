"""What the command line and the web app both show of the ledger: listing rows as a person
reads them, with local times."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from publisher.states import Hold, ListingState

if TYPE_CHECKING:
    from publisher.adapter import RefreshPolicy
    from publisher.engine import Engine
    from publisher.ledger import ListingRow
    from publisher.schema import Posting

__all__ = ["hold_text", "local", "status_rows"]


def local(when: datetime | None, zone: str) -> str:
    if when is None:
        return "-"
    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _next_refresh(row: ListingRow, policies: dict[str, RefreshPolicy]) -> datetime | None:
    policy = policies.get(row.board)
    if (
        row.state != ListingState.LIVE
        or policy is None
        or policy.every is None
        or (policy.max_refreshes is not None and row.refresh_count >= policy.max_refreshes)
    ):
        return None
    due = policy.next_due(row.posted_at, row.refreshed_at) if row.posted_at else None
    return due if due and (row.expires_at is None or due < row.expires_at) else None


def status_rows(engine: Engine, posting_id: str | None) -> list[dict[str, Any]]:
    listings = engine.ledger.listings(posting_id)
    specs = engine.ledger.specs(r.posting_id for r in listings if r.expires_at is None)
    zones = {pid: row.timezone for pid, row in engine.ledger.postings().items()}
    policies = engine.policies()
    rows = []
    for row in listings:
        rows.append(
            {
                "posting": row.posting_id,
                "board": row.board,
                "state": row.state,
                "board_id": row.board_id,
                "url": row.url,
                "posted_at": row.posted_at,
                "refreshed_at": row.refreshed_at,
                "next_refresh_at": _next_refresh(row, policies),
                "expires_at": row.expires_at or _planned_expiry(specs.get(row.posting_id)),
                "last_error": row.last_error,
                "hold": hold_text(row, zones.get(row.posting_id, "UTC")),
                "_zone": zones.get(row.posting_id, "UTC"),
                "_publishes": _planned_start(specs.get(row.posting_id))
                if row.state == ListingState.SCHEDULED
                else None,
            }
        )
    return rows


def hold_text(row: ListingRow, zone: str = "UTC") -> str | None:
    """Why a listing stays closed, and how to change that (None: it follows its file)."""
    if row.hold != Hold.MANUAL:
        return None
    when = f" at {local(row.expired_at, zone)}" if row.expired_at else ""
    return f"closed by jobpub expire{when}; jobpub reopen {row.posting_id} to publish again"


def _planned_expiry(posting: Posting | None) -> datetime | None:
    return posting.expiry_time() if posting else None


def _planned_start(posting: Posting | None) -> datetime | None:
    return posting.publish_time() if posting else None
