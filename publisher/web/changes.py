"""Changes waiting for approval (``[web] require_approval``): a recruiter's edit (the whole
new file and the digest of the file it was made on) or reopen, kept in the ledger's
``changes`` table until an approver approves or rejects it, or its author withdraws it.
A change is decided once: the state moves from ``pending`` in one conditional update."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from publisher import clock
from publisher.database import reading
from publisher.tables import changes

__all__ = ["Change", "Changes"]


@dataclass(frozen=True)
class Change:
    id: int
    posting_id: str
    kind: str  # edit reopen
    text: str
    base: str
    author: str
    created_at: datetime
    state: str  # pending approved rejected withdrawn
    decided_by: str | None
    decided_at: datetime | None


class Changes:
    """The ``changes`` table of the ledger at ``db``."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    def propose(
        self, posting_id: str, kind: str, author: str, text: str = "", base: str = ""
    ) -> int:
        with self.db.begin() as conn:
            found = conn.execute(
                insert(changes).values(
                    posting_id=posting_id,
                    kind=kind,
                    text=text,
                    base=base,
                    author=author,
                    created_at=clock.now(),
                    state="pending",
                )
            )
            return int(found.inserted_primary_key[0])  # type: ignore[index]

    def get(self, change_id: int) -> Change | None:
        found = self._select(select(changes).where(changes.c.id == change_id))
        return found[0] if found else None

    def pending(self) -> list[Change]:
        return self._select(
            select(changes).where(changes.c.state == "pending").order_by(changes.c.id)
        )

    def of(self, posting_id: str) -> list[Change]:
        return self._select(
            select(changes).where(changes.c.posting_id == posting_id).order_by(changes.c.id)
        )

    def decide(self, change_id: int, state: str, by: str) -> bool:
        """Move a pending change to ``state``; False when it was no longer pending."""
        with self.db.begin() as conn:
            done = conn.execute(
                update(changes)
                .where(changes.c.id == change_id, changes.c.state == "pending")
                .values(state=state, decided_by=by, decided_at=clock.now())
            )
            return done.rowcount == 1

    def _select(self, query: object) -> list[Change]:
        with reading(self.db).connect() as conn:
            rows = conn.execute(query).mappings()  # type: ignore[call-overload]
            return [Change(**{f.name: r[f.name] for f in fields(Change)}) for r in rows]
