"""``jobpub verify``: drift between the ledger and the boards. Every listing the ledger
holds as live is looked up, by its external reference, on the boards that can be queried
(``reconcile = lookup``); one the board no longer shows (removed by the board, by hand in
its dashboard, or expired early) is drift. It is reported, announced once to ``[notify]``
(``drift:<posting>:<board>``, closed once verify finds it again or it is repaired and
posted), and with ``repair`` the listing is put back to be posted by the next sync (under
the same reference: a board that still holds it closed reopens it).

A listing with work open (an action in flight, or due) is not judged: what the board shows
may be that work's doing. The repair is a versioned write, so a listing that changed
meanwhile is left alone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from publisher.adapter import ApiAdapter
from publisher.errors import BoardError
from publisher.http import board_call
from publisher.ledger import Event, ListingRow
from publisher.notify import Incident, announce
from publisher.states import EventOutcome, ListingState
from publisher.tables import listings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from publisher.engine import Engine

__all__ = ["Drift", "Verified", "verify"]


@dataclass(frozen=True)
class Drift:
    posting: str
    board: str
    external_ref: str
    repaired: bool = False


@dataclass
class Verified:
    checked: dict[str, int] = field(default_factory=dict)  # board -> live listings looked up
    drift: list[Drift] = field(default_factory=list)
    unchecked: dict[str, str] = field(default_factory=dict)  # board -> why not
    notes: list[str] = field(default_factory=list)


async def verify(engine: Engine, boards: Sequence[str] = (), *, repair: bool = False) -> Verified:
    result = Verified()
    busy = {w.listing_id for w in engine.ledger.open_work().values()}
    rows = [
        r
        for r in engine.ledger.listings()
        if r.state == ListingState.LIVE
        and (not boards or r.board in boards)
        and r.board in engine.registry
    ]
    wanted = sorted({r.board for r in rows})
    result.unchecked = engine.skipped_boards(wanted)
    for board in wanted:
        if board in result.unchecked:
            continue
        adapter = engine.adapter(board)
        if not isinstance(adapter, ApiAdapter) or not adapter.can_lookup:
            result.unchecked[board] = "cannot be queried by reference"
            continue
        mine = [r for r in rows if r.board == board and r.id not in busy]
        gone = await _missing(adapter, mine, engine.limit(board).concurrency, result)
        result.checked[board] = len(mine)
        result.drift += [
            Drift(r.posting_id, r.board, r.external_ref, repair and _repair(engine, r))
            for r in gone
        ]
    if engine.config.notify.any:
        current = [
            Incident(
                f"drift:{d.posting}:{d.board}",
                f"{d.posting} is live in the ledger but not on {d.board} "
                f"({d.external_ref}): "
                + (
                    "posted again by the next sync"
                    if d.repaired
                    else "jobpub verify --repair posts it again"
                ),
            )
            for d in result.drift
        ]
        checked = set(result.checked)
        result.notes += await announce(
            engine.ledger,
            engine.config.notify,
            current,
            engine.clock(),
            scope=lambda key: key.startswith("drift:") and key.rpartition(":")[2] in checked,
        )
    return result


async def _missing(
    adapter: ApiAdapter[Any], rows: list[ListingRow], concurrency: int, result: Verified
) -> list[ListingRow]:
    gate = asyncio.Semaphore(concurrency)
    errors: list[str] = []

    async def look(row: ListingRow) -> bool:
        async with gate:
            try:
                found = await board_call(
                    adapter.name, adapter.lookup(row.external_ref), "nothing was changed"
                )
            except BoardError as exc:
                errors.append(str(exc))
                return False
            return found is None

    missing = await asyncio.gather(*(look(r) for r in rows))
    if errors:
        result.notes.append(
            f"{adapter.name}: {len(errors)} lookup(s) failed and were not "
            f"judged (first: {errors[0]})"
        )
    return [r for r, gone in zip(rows, missing, strict=True) if gone]


def _repair(engine: Engine, row: ListingRow) -> bool:
    """Put the listing back to be posted (if nothing changed it meanwhile)."""
    now = engine.clock()
    with engine.ledger.engine.begin() as conn:
        done = (
            conn.execute(
                update(listings)
                .where(listings.c.id == row.id, listings.c.version == row.version)
                .values(
                    state=ListingState.SCHEDULED,
                    board_id=None,
                    url=None,
                    posted_at=None,
                    refreshed_at=None,
                    refresh_count=0,
                    changed_at=now,
                    version=row.version + 1,
                    last_error="not found on the board by jobpub verify: posted again by the next "
                    "sync",
                )
            ).rowcount
            == 1
        )
    if done:
        engine.ledger.add_events(
            [
                Event(
                    now,
                    row.posting_id,
                    row.board,
                    "reconcile",
                    EventOutcome.FAILED,
                    "live in the ledger but not "
                    "found on the board (jobpub verify): repaired, the "
                    "next sync posts it again",
                )
            ]
        )
    return done
