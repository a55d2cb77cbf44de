"""The planner: desired state (valid postings) against the ledger -> actions with reasons.

Pure: no I/O, no clock. Each listing gets at most one action due now, chosen in the order
expire > update > refresh > post; later ones are listed as upcoming with their due time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from publisher.adapter import RefreshPolicy
from publisher.ledger import ListingRow, WorkRow, listing_hash
from publisher.schema import Posting
from publisher.states import ActionKind, Hold, ListingState, WorkState

__all__ = ["Action", "Desired", "plan"]

ACTIVE = (ListingState.LIVE, ListingState.PENDING)


@dataclass(frozen=True)
class Desired:
    """A valid posting as it should be published, with its ledger revision."""

    posting: Posting
    revision: int
    digest: str  # content hash, for listing_hash()
    #: board -> listing_hash (worked out once: the plan and the job both need it)
    hashes: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def board_hash(self, board: str) -> str:
        found = self.hashes.get(board)
        if found is None:
            found = self.hashes[board] = listing_hash(self.digest, self.posting, board)
        return found


@dataclass(frozen=True)
class Action:
    posting: str
    board: str
    action: str  # post update refresh expire
    reason: str
    due: datetime
    listing_id: int | None = None
    work_id: int | None = None  # an open work row this action continues
    cancel: int | None = None  # an open work row this action supersedes
    hold: str | None = None  # why the listing stays closed after this expire (Hold)
    said: bool = False  # the reason goes into the listing's history when queued

    def as_json(self) -> dict[str, str]:
        return {
            "posting": self.posting,
            "board": self.board,
            "action": self.action,
            "reason": self.reason,
            "due": self.due.astimezone(UTC).isoformat(),
        }


def _days(delta: timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:g} day{'s' if days != 1 else ''}"


def _listing_actions(
    d: Desired,
    board: str,
    listing: ListingRow | None,
    policy: RefreshPolicy,
    now: datetime,
    retry_failed: bool,
    default_duration: timedelta,
) -> list[Action]:
    posting, revision = d.posting, d.revision
    start, end = posting.publish_time(), posting.expiry_time()
    state = listing.state if listing else None
    on_board = listing is not None and (
        state in ACTIVE
        or (
            state == ListingState.FAILED
            and (listing.board_id is not None or listing.posted_at is not None)
        )
    )
    if (
        listing is not None
        and state == ListingState.PENDING
        and listing.reconcile
        and listing.board_id is None
    ):
        on_board = False  # a create the board never confirmed: it is still to be settled
    changed = listing is not None and listing.content_hash != d.board_hash(board)

    what = (
        f"content changed (revision {listing.revision} -> {revision})"
        if listing is not None and listing.revision != revision
        else "board settings changed"
    )

    def act(kind: str, reason: str, due: datetime, hold: str | None = None) -> Action:
        return Action(
            posting.id, board, kind, reason, due, listing.id if listing else None, hold=hold
        )

    if posting.status == "closed":
        return (
            [act(ActionKind.EXPIRE, "posting closed (status: closed)", now)]
            if state in (ListingState.SCHEDULED, *ACTIVE) or on_board
            else []
        )
    if listing is not None and listing.hold == Hold.MANUAL:  # only jobpub reopen clears it
        return (
            [act(ActionKind.EXPIRE, "closed by jobpub expire", now, Hold.MANUAL)]
            if state in (ListingState.SCHEDULED, *ACTIVE) or on_board
            else []
        )
    if not on_board:
        if state == ListingState.FAILED and not (changed or retry_failed):
            return []
        back = listing is not None and listing.hold in (Hold.GONE, Hold.REOPEN)
        early = _expired_early(listing, end, now)
        if early is not None:
            return [replace(act(ActionKind.POST, early, now), said=True)]
        if state == ListingState.EXPIRED and not changed and not back:
            return []
        if end is not None and end <= now:
            return (
                [act(ActionKind.EXPIRE, "expires_at passed before it was published", now)]
                if state == ListingState.SCHEDULED
                else []
            )
        if state == ListingState.FAILED:
            reason = (
                "retrying after a failure" if retry_failed else "content changed after a failure"
            )
        elif state == ListingState.EXPIRED and listing is not None and listing.hold == Hold.REOPEN:
            reason = "reopened by jobpub reopen"
        elif state == ListingState.EXPIRED and back:
            reason = "posting restored (its file or board is back)"
        elif state == ListingState.EXPIRED:
            reason = f"reopened: {what}"
        elif start is None:
            reason = "new posting (no publish_at: as soon as synced)"
        else:
            reason = "publish_at reached" if start <= now else "publish_at"
        return [act(ActionKind.POST, reason, start if start is not None and start > now else now)]

    assert listing is not None
    posted = listing.posted_at or now
    expires = end or posted + default_duration
    why_end = (
        "expires_at"
        if end
        else f"default_duration_days ({_days(default_duration)} without expires_at)"
    )
    if expires <= now:
        return [act(ActionKind.EXPIRE, f"{why_end} reached", expires)]
    actions = []
    if changed:
        actions.append(act(ActionKind.UPDATE, what, now))
    elif state == ListingState.FAILED and retry_failed:
        actions.append(act(ActionKind.UPDATE, "retrying after a failure", now))
    elif (
        state != ListingState.FAILED
        and policy.every is not None
        and (policy.max_refreshes is None or listing.refresh_count < policy.max_refreshes)
    ):
        due = policy.next_due(posted, listing.refreshed_at)
        if due is not None and due < expires:
            actions.append(
                act(ActionKind.REFRESH, f"refresh policy: every {_days(policy.every)}", due)
            )
    actions.append(act(ActionKind.EXPIRE, why_end, expires))
    return actions


def _expired_early(listing: ListingRow | None, end: datetime | None, now: datetime) -> str | None:
    """Why a listing jobpub expired by itself (not held: no ``expire``, no removed file)
    goes up again: its posting's own ``expires_at`` is still ahead by the clock now, so the
    clock that expired it was ahead (a board that cannot reopen gets it as a new job)."""
    if (
        listing is None
        or listing.state != ListingState.EXPIRED
        or listing.hold is not None
        or end is None
        or end <= now
        or listing.expired_at is None
    ):
        return None
    return (
        f"expired {listing.expired_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC by a clock that "
        f"was ahead: its expires_at ({end.astimezone(UTC):%Y-%m-%d %H:%M} UTC) is still "
        "to come; published again"
    )


def plan(
    desired: Mapping[str, Desired],
    listings: Iterable[ListingRow],
    work: Mapping[int, WorkRow],
    policies: Mapping[str, RefreshPolicy],
    now: datetime,
    *,
    held: Iterable[str] = (),
    removed: Iterable[str] = (),
    retry_failed: bool = False,
    default_duration: timedelta = timedelta(days=30),
) -> list[Action]:
    """Every action, due now or later, per posting x board, sorted by due time."""
    by_posting: dict[str, dict[str, ListingRow]] = {}
    for row in listings:
        by_posting.setdefault(row.posting_id, {})[row.board] = row
    held = set(held)
    actions: list[Action] = []
    for posting_id, d in desired.items():
        current = by_posting.get(posting_id, {})
        for board in d.posting.boards:
            policy = policies.get(board, RefreshPolicy())
            found = _listing_actions(
                d, board, current.get(board), policy, now, retry_failed, default_duration
            )
            if posting_id in held:  # invalid file: nothing new, but it still ends on time
                found = [a for a in found if a.action == ActionKind.EXPIRE]
            actions += found
        for board, row in current.items():
            if board not in d.posting.boards and posting_id not in held:
                actions += _ending(row, "board removed from the posting", now)
    for posting_id in set(removed) - held - set(desired):
        for row in by_posting.get(posting_id, {}).values():
            actions += _ending(row, "posting file deleted", now)
    joined = [j for a in actions if (j := _with_work(a, work)) is not None]
    # A row one of the listing's actions continues is not superseded by its later ones (an
    # update queued by another worker, not yet claimed, and the listing's expiry to come).
    going = {a.work_id for a in joined if a.work_id is not None}
    joined = [replace(a, cancel=None) if a.cancel in going else a for a in joined]
    return sorted(joined, key=lambda a: (a.due, a.posting, a.board))


def _ending(row: ListingRow, reason: str, now: datetime) -> list[Action]:
    """The posting's file or this board is gone: expire; restoring it publishes again."""
    if row.state == ListingState.EXPIRED:
        return []
    return [
        Action(row.posting_id, row.board, ActionKind.EXPIRE, reason, now, row.id, hold=Hold.GONE)
    ]


def _with_work(action: Action, work: Mapping[int, WorkRow]) -> Action | None:
    """Join an action to the listing's open work row: continue it, or supersede it."""
    row = work.get(action.listing_id) if action.listing_id is not None else None
    if row is None:
        return action
    if row.task_id is not None:
        return None  # the board is still finishing this listing's last action: wait for it
    if row.kind == action.action and row.hold == action.hold:
        reason = (
            action.reason
            if row.attempts == 0
            else f"{action.reason}; retry {row.attempts} ({row.last_error or 'interrupted'})"
        )
        return replace(action, reason=reason, due=max(row.due_at, action.due), work_id=row.id)
    if row.state == WorkState.RUNNING:
        return None  # another run holds this listing now
    return replace(action, cancel=row.id)
