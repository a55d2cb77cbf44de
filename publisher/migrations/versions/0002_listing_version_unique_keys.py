"""Exactly once under races: a version on each listing (work is queued only against the
version it was planned on), idempotency keys unique across all work, and a listing's hold
(closed by hand, or its file removed).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("hold", sa.String(length=16), nullable=True))
    # Keys written before this revision could repeat (ref:action:rN): make each one its own.
    # Page changes waiting to be announced: board-neutral words, not Google's.
    op.execute(sa.text("UPDATE listings SET notify = 'updated' WHERE notify = 'URL_UPDATED'"))
    op.execute(sa.text("UPDATE listings SET notify = 'removed' WHERE notify = 'URL_DELETED'"))
    op.execute(
        sa.text(
            "UPDATE due_work SET idempotency_key = idempotency_key || '-w' || "
            "CAST(id AS VARCHAR(20))"
        )
    )
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("hold", sa.String(length=16), nullable=True))
        batch_op.create_index("uq_due_work_key", ["idempotency_key"], unique=True)
        batch_op.create_index("ix_due_work_listing_kind", ["listing_id", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.drop_index("ix_due_work_listing_kind")
        batch_op.drop_index("uq_due_work_key")
        batch_op.drop_column("hold")
        batch_op.drop_column("revision")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_column("hold")
        batch_op.drop_column("version")
