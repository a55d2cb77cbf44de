"""Feed and page boards through the engine: their files are rendered from the ledger once
per sync and written only where they changed; page changes are announced within the
board's daily quota, counted per day in the time zone the board declares (the board's own
protocol — what a ping looks like — stays in its adapter)
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from publisher.adapter import FeedItem, FileAdapter
from publisher.errors import AnnounceFailed, BoardError, PublisherError
from publisher.files import write_files
from publisher.ledger import Event, Ledger, ListingRow
from publisher.schema import Posting
from publisher.states import ListingState

__all__ = [
    "REMOVED",
    "UPDATED",
    "BoardFiles",
    "announce",
    "fingerprint",
    "output_dir",
    "unchanged",
    "write_board_files",
]

#: A page change waiting to be announced (``listings.notify``): board-neutral words; the
#: adapter turns them into its own protocol.
UPDATED, REMOVED = "updated", "removed"

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def output_dir(adapter: FileAdapter[Any]) -> Path:
    return Path(str(getattr(adapter.settings, "output_dir", "public")))


class BoardFiles(NamedTuple):
    changed: list[str]  # the files whose bytes changed (written)
    names: list[str]  # every file the board has


def _shown(rows: Sequence[ListingRow]) -> list[ListingRow]:
    """The listings a board's files show: live or pending ones, and those once published."""
    return [
        r
        for r in rows
        if r.state in (ListingState.LIVE, ListingState.PENDING)
        or (r.state in (ListingState.FAILED, ListingState.EXPIRED) and r.posted_at is not None)
    ]


def fingerprint(
    adapter: FileAdapter[Any],
    rows: Sequence[ListingRow],
    digests: Mapping[str, str | None],
    settings: bytes,
) -> str:
    """A digest of everything the board's files are made of: the listings they show, the
    content of those postings (``digests``: posting id -> content hash), the configuration
    (``settings``) and the code that renders them (jobpub's version and the board's package
    files). Rendering reads no clock, so equal fingerprints mean equal files."""
    found = hashlib.sha256(settings)
    found.update(_code_stamp(type(adapter).__module__).encode())
    for r in sorted(_shown(rows), key=lambda row: row.id):
        found.update(
            repr(
                (
                    r.id,
                    r.posting_id,
                    str(r.state),
                    r.posted_at,
                    r.expires_at,
                    r.refreshed_at,
                    r.changed_at,
                    digests.get(r.posting_id),
                )
            ).encode()
        )
    return found.hexdigest()


@cache
def _code_stamp(module: str) -> str:
    """jobpub's version, and the size and modification time of every file of the package
    the board's module is in (templates included): editing them re-renders the board."""
    from publisher import __version__

    spec = importlib.util.find_spec(module)
    folder = Path(spec.origin).parent if spec and spec.origin else None
    stamps = [__version__]
    if folder is not None:
        stamps += [
            f"{p.relative_to(folder)}:{s.st_size}:{s.st_mtime_ns}"
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix != ".pyc"
            for s in [p.stat()]
        ]
    return "\n".join(stamps)


def unchanged(root: Path, stored: tuple[str, list[str]] | None, current: str) -> bool:
    """Whether the board wrote files from ``current`` last time and they are all there."""
    return (
        stored is not None
        and stored[0] == current
        and all((root / name).is_file() for name in stored[1])
    )


def write_board_files(
    adapter: FileAdapter[Any], rows: Sequence[ListingRow], postings: Mapping[str, Posting]
) -> BoardFiles:
    """Render the board's files from its listings and write the ones that changed.

    The build date is the newest listing change, so an unchanged board renders the same
    bytes on every sync.
    """
    shown = _shown(rows)
    live = [
        FeedItem(postings[r.posting_id], r.posted_at, r.expires_at, r.refreshed_at or r.changed_at)
        for r in shown
        if r.state != ListingState.EXPIRED
    ]
    closed = [
        FeedItem(postings[r.posting_id], r.posted_at, r.expires_at)
        for r in shown
        if r.state == ListingState.EXPIRED
    ]
    # Only listings the files show count: a posting queued for later changes nothing here.
    built = max((r.changed_at for r in shown if r.changed_at), default=EPOCH)
    files = adapter.render_files(live, closed, built)
    try:
        return BoardFiles(write_files(output_dir(adapter), files), sorted(files))
    except OSError as exc:
        raise PublisherError(
            f"{adapter.name}: cannot write {output_dir(adapter)}: {exc.strerror or exc}"
        ) from None


async def announce(
    adapter: FileAdapter[Any],
    rows: Sequence[ListingRow],
    postings: Mapping[str, Posting],
    ledger: Ledger,
    now: datetime,
) -> str | None:
    """Announce changed pages, oldest first, within today's quota; returns a note."""
    waiting = sorted((r for r in rows if r.notify), key=lambda r: (r.changed_at or EPOCH, r.id))
    if not waiting or not adapter.announces:
        return None
    zone = ZoneInfo(adapter.quota_zone)
    day = now.astimezone(zone).date().isoformat()
    quota = adapter.daily_announcements
    budget = len(waiting) if quota is None else quota - ledger.quota_used(adapter.name, day)
    if budget <= 0:
        return (
            f"{adapter.name}: today's quota of {quota} announcements is used; "
            f"{len(waiting)} wait for tomorrow ({adapter.quota_zone} time)"
        )
    batch = [r for r in waiting if r.notify == UPDATED][:budget]
    batch += [r for r in waiting if r.notify == REMOVED][: budget - len(batch)]
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
        ledger.add_events(
            [
                Event(now, r.posting_id, adapter.name, _action(r), "ok", f"announced ({r.notify})")
                for r in sent
            ]
        )
        ledger.clear_notify([r.id for r in sent])
    if failure is not None:
        ledger.add_events(
            [
                Event(
                    now,
                    r.posting_id,
                    adapter.name,
                    _action(r),
                    "retry",
                    f"announce ({r.notify}): {failure.reason}",
                    failure.status,
                )
                for r in batch[calls:]
            ]
        )
        return (
            f"{adapter.name}: {calls} page change(s) announced, then announcing failed "
            f"({failure}); the rest will be tried again next sync"
        )
    left = len(waiting) - len(sent)
    return f"{adapter.name}: {len(sent)} page change(s) announced" + (
        f", {left} wait for quota" if left else ""
    )


def _action(row: ListingRow) -> str:
    return "post" if row.notify == UPDATED else "expire"
