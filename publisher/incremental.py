"""What makes a tick cost what changed, not what exists (engine.md: the ledger is the
schedule). Each listing keeps ``next_due_at``, the next time its plan has something to do
(a post, refresh or expiry), long past (REPLAN) when a write changed it; a posting file
keeps the stat signature it had when hashed. A tick then plans only the postings whose file
changed, whose listings are due or changed, and the queued, held and deleted ones — reading
neither the other listings nor the other postings' content.

A full plan (every posting and listing) is made when the engine's fingerprint (jobpub's
version, the boards, the config) differs from the one the last full plan was made with, on
``sync --full`` and ``--retry-failed``, and every so many ticks of ``run``, by one worker at
a time (:func:`take_turn`)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, or_, select, true, update

from publisher.ledger import Ledger, ListingRow, _chunks, among
from publisher.planner import Action
from publisher.tables import REPLAN, engine_state, listings, postings

__all__ = [
    "NEVER",
    "RACY",
    "clock_went_back",
    "due_postings",
    "next_due",
    "plan_fingerprint",
    "planned",
    "save_next_due",
    "set_plan_fingerprint",
    "set_stats",
    "stat_of",
    "take_turn",
]

#: Nothing planned for the listing: only a change plans it again.
NEVER = datetime(9999, 1, 1, tzinfo=UTC)
#: A file modified this recently may change again within its timestamp's resolution: hashed
#: whatever its stat says (git's "racy clean" rule).
RACY = 2.0


def stat_of(path: Path) -> str | None:
    """``size:mtime_ns:inode``, or None for a file modified within :data:`RACY` seconds."""
    try:
        st = path.stat()
    except OSError:
        return None
    if time.time() - st.st_mtime < RACY:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def set_stats(ledger: Ledger, stats: Mapping[str, str | None]) -> None:
    """Remember each posting file's stat signature (posting id -> signature)."""
    if stats:
        with ledger.engine.begin() as conn:
            conn.execute(
                update(postings)
                .where(postings.c.id == bindparam("b_id"))
                .values(source_stat=bindparam("stat")),
                [{"b_id": pid, "stat": stat} for pid, stat in stats.items()],
            )


def due_postings(ledger: Ledger, now: datetime) -> set[str]:
    """Postings never planned, with a listing changed since its plan, or whose next action
    is due."""
    # One range of ix_listings_next_due (changed listings are long past: REPLAN). No
    # DISTINCT: SQLite would answer it by walking the (posting, board) index, every listing.
    query = select(listings.c.posting_id).where(listings.c.next_due_at <= now)
    pending = select(postings.c.id).where(postings.c.plan_pending == true())
    with ledger.reads.connect() as conn:
        return set(conn.execute(query).scalars()) | set(conn.execute(pending).scalars())


def planned(ledger: Ledger, posting_ids: Iterable[str] | None) -> None:
    """These postings (None: all) have been planned: their listings exist."""
    statement = update(postings).where(postings.c.plan_pending == true()).values(plan_pending=None)
    with ledger.engine.begin() as conn:
        if posting_ids is None:
            conn.execute(statement)
            return
        for part in _chunks(sorted(set(posting_ids))):
            conn.execute(statement.where(among(conn, postings.c.id, part)))


def next_due(
    rows: Sequence[ListingRow], actions: Sequence[Action], now: datetime
) -> list[tuple[int, int, datetime]]:
    """(listing id, version planned on, next due) for the planned listings: the earliest
    action's due time; REPLAN (plan again next tick) when one is due now; NEVER when none.
    Left out: listings whose stored next due says so already (the same time, or a time
    past when one is due now: the tick that runs it marks the listing changed anyway)."""
    earliest: dict[int, datetime] = {}
    for action in actions:
        if action.listing_id is not None:
            seen = earliest.get(action.listing_id)
            earliest[action.listing_id] = action.due if seen is None else min(seen, action.due)
    out = []
    for row in rows:
        due = earliest.get(row.id, NEVER)
        new, stored = REPLAN if due <= now else due, row.next_due_at
        if stored is None or not (stored == new or (new == REPLAN and stored <= now)):
            out.append((row.id, row.version, new))
    return out


def save_next_due(ledger: Ledger, items: Sequence[tuple[int, int, datetime]]) -> None:
    """Keep each listing's next due time, unless the listing changed since it was planned
    (its version moved on, and its write set next_due_at to REPLAN: it is planned again)."""
    params = [{"b_id": i, "b_version": v, "due": d} for i, v, d in items]
    with ledger.engine.begin() as conn:
        for part in _chunks(params, 1000):
            conn.execute(
                update(listings)
                .where(
                    listings.c.id == bindparam("b_id"), listings.c.version == bindparam("b_version")
                )
                .values(next_due_at=bindparam("due")),
                list(part),
            )


def plan_fingerprint(ledger: Ledger) -> str | None:
    with ledger.reads.connect() as conn:
        return conn.execute(
            select(engine_state.c.value).where(engine_state.c.key == "plan")
        ).scalar_one_or_none()


def set_plan_fingerprint(ledger: Ledger, value: str) -> None:
    with ledger.engine.begin() as conn:
        done = conn.execute(
            update(engine_state).where(engine_state.c.key == "plan").values(value=value)
        ).rowcount
        if not done:
            conn.execute(
                ledger._insert(engine_state).on_conflict_do_nothing(),
                [{"key": "plan", "value": value}],
            )


#: How far behind the latest time a run has seen the clock may be (a fleet's clocks differ
#: a little) before the engine takes it as a clock set back.
CLOCK_SLACK = timedelta(minutes=5)


def clock_went_back(ledger: Ledger, now: datetime) -> timedelta | None:
    """How far ``now`` is behind the latest time any run has seen (None: not behind by more
    than :data:`CLOCK_SLACK`). The latest time is kept to the minute; a clock found behind
    sets it back, so only the first run after the correction answers."""
    query = select(engine_state.c.until).where(engine_state.c.key == "clock")
    with ledger.reads.connect() as conn:
        seen = conn.execute(query).scalar_one_or_none()
    if seen is not None and seen - CLOCK_SLACK <= now < seen + timedelta(minutes=1):
        return None
    with ledger.engine.begin() as conn:
        if seen is None:
            conn.execute(
                ledger._insert(engine_state).on_conflict_do_nothing(),
                [{"key": "clock", "value": "", "until": now}],
            )
            return None
        conn.execute(update(engine_state).where(engine_state.c.key == "clock").values(until=now))
    return seen - now if now < seen - CLOCK_SLACK else None


def take_turn(ledger: Ledger, name: str, owner: str, now: datetime, every: timedelta) -> bool:
    """Whether ``owner`` takes this turn of ``name`` (one worker per ``every``)."""
    with ledger.engine.begin() as conn:
        conn.execute(
            ledger._insert(engine_state).on_conflict_do_nothing(),
            [{"key": name, "value": "", "until": None}],
        )
        taken = conn.execute(
            update(engine_state)
            .where(
                engine_state.c.key == name,
                or_(engine_state.c.until.is_(None), engine_state.c.until <= now),
            )
            .values(value=owner, until=now + every)
        ).rowcount
    return bool(taken)
