"""Feed and page boards through the engine: their files are rendered from the ledger once
per sync and written only where they changed; page changes are announced within the
board's daily quota, counted per day in the time zone the board declares (the board's own
protocol — what a ping looks like — stays in its adapter)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from publisher.adapter import FeedItem, FileAdapter
from publisher.errors import AnnounceFailed, BoardError, PublisherError
from publisher.files import write_files
from publisher.ledger import Event, Ledger, ListingRow
from publisher.schema import Posting
from publisher.states import ListingState

__all__ = ["REMOVED", "UPDATED", "announce", "output_dir", "write_board_files"]

#: A page change waiting to be announced (``listings.notify``): board-neutral words; the
#: adapter turns them into its own protocol.
UPDATED, REMOVED = "updated", "removed"

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def output_dir(adapter: FileAdapter[Any]) -> Path:
    return Path(str(getattr(adapter.settings, "output_dir", "public")))


def write_board_files(adapter: FileAdapter[Any], rows: Sequence[ListingRow],
                      postings: Mapping[str, Posting]) -> list[str]:
    """Render the board's files from its listings; returns the files that changed.

    The build date is the newest listing change, so an unchanged board renders the same
    bytes on every sync.
    """
    shown = [r for r in rows if r.state in (ListingState.LIVE, ListingState.PENDING) or
             (r.state in (ListingState.FAILED, ListingState.EXPIRED)
              and r.posted_at is not None)]
    live = [FeedItem(postings[r.posting_id], r.posted_at, r.expires_at,
                     r.refreshed_at or r.changed_at)
            for r in shown if r.state != ListingState.EXPIRED]
    closed = [FeedItem(postings[r.posting_id], r.posted_at, r.expires_at)
              for r in shown if r.state == ListingState.EXPIRED]
    # Only listings the files show count: a posting queued for later changes nothing here.
    built = max((r.changed_at for r in shown if r.changed_at), default=EPOCH)
    files = adapter.render_files(live, closed, built)
    try:
        return write_files(output_dir(adapter), files)
    except OSError as exc:
        raise PublisherError(f"{adapter.name}: cannot write {output_dir(adapter)}: "
                             f"{exc.strerror or exc}") from None


async def announce(adapter: FileAdapter[Any], rows: Sequence[ListingRow],
                   postings: Mapping[str, Posting], ledger: Ledger, now: datetime) -> str | None:
    """Announce changed pages, oldest first, within today's quota; returns a note."""
    waiting = sorted((r for r in rows if r.notify), key=lambda r: (r.changed_at or EPOCH, r.id))
    if not waiting or not adapter.announces:
        return None
    zone = ZoneInfo(adapter.quota_zone)
    day = now.astimezone(zone).date().isoformat()
    quota = adapter.daily_announcements
    budget = len(waiting) if quota is None else quota - ledger.quota_used(adapter.name, day)
    if budget <= 0:
        return (f"{adapter.name}: today's quota of {quota} announcements is used; "
                f"{len(waiting)} wait for tomorrow ({adapter.quota_zone} time)")
    batch = [r for r in waiting if r.notify == UPDATED][:budget]
    batch += [r for r in waiting if r.notify == REMOVED][:budget - len(batch)]
    updated = [postings[r.posting_id] for r in batch if r.notify == UPDATED]
    removed = [postings[r.posting_id] for r in batch if r.notify == REMOVED]
    failure: BoardError | None = None
    try:
        calls = await adapter.announce(updated, removed, budget)
    except AnnounceFailed as exc:  # the calls made before it still count and are done
        calls, failure = exc.sent, exc
    except BoardError as exc:
        calls, failure = 0, exc
    sent = batch[:calls]
    if calls:
        ledger.use_quota(adapter.name, day, calls)
        ledger.add_events([Event(now, r.posting_id, adapter.name, _action(r), "ok",
                                 f"announced ({r.notify})") for r in sent])
        ledger.clear_notify([r.id for r in sent])
    if failure is not None:
        ledger.add_events([Event(now, r.posting_id, adapter.name, _action(r), "retry",
                                 f"announce ({r.notify}): {failure.reason}", failure.status)
                           for r in batch[calls:]])
        return (f"{adapter.name}: {calls} page change(s) announced, then announcing failed "
                f"({failure}); the rest will be tried again next sync")
    left = len(waiting) - len(sent)
    return f"{adapter.name}: {len(sent)} page change(s) announced" + (
        f", {left} wait for quota" if left else "")


def _action(row: ListingRow) -> str:
    return "post" if row.notify == UPDATED else "expire"
