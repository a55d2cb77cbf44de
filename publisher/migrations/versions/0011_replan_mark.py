"""Listings changed since their plan are marked by a next due time long past (1970-01-01)
instead of NULL, so that a tick finds the due and the changed listings in one index range;
the claim reads open work through a partial index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 13:00:00
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_listings = sa.table("listings", sa.column("next_due_at", sa.DateTime()))
_REPLAN = datetime(1970, 1, 1)  # publisher.tables.REPLAN, stored as naive UTC


def upgrade() -> None:
    op.execute(
        _listings.update().where(_listings.c.next_due_at.is_(None)).values(next_due_at=_REPLAN)
    )
    op.create_index(
        "ix_due_work_open",
        "due_work",
        ["due_at"],
        sqlite_where=sa.text("state IN ('pending', 'running')"),
        postgresql_where=sa.text("state IN ('pending', 'running')"),
    )


def downgrade() -> None:
    op.drop_index("ix_due_work_open", table_name="due_work")
    op.execute(
        _listings.update().where(_listings.c.next_due_at == _REPLAN).values(next_due_at=None)
    )
