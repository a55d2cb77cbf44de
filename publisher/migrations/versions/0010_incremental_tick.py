"""The incremental tick: each listing's next due time (indexed), each file's stat
signature, and the engine's own state (plan fingerprint, the full plan's turn).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 10:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("listings") as batch:
        batch.add_column(sa.Column("next_due_at", sa.DateTime(), nullable=True))
    op.create_index("ix_listings_next_due", "listings", ["next_due_at"])
    op.create_index("ix_listings_state", "listings", ["state"])
    op.create_index("ix_listings_board", "listings", ["board"])
    with op.batch_alter_table("postings") as batch:
        batch.add_column(sa.Column("source_stat", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("plan_pending", sa.Boolean(), nullable=True))
    op.create_index(
        "ix_postings_plan_pending",
        "postings",
        ["plan_pending"],
        sqlite_where=sa.text("plan_pending IS NOT NULL"),
        postgresql_where=sa.text("plan_pending IS NOT NULL"),
    )
    op.create_index(
        "ix_postings_files",
        "postings",
        ["id"],
        sqlite_where=sa.text("source = 'file'"),
        postgresql_where=sa.text("source = 'file'"),
    )
    op.create_table(
        "engine_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("engine_state")
    op.drop_index("ix_postings_files", table_name="postings")
    op.drop_index("ix_postings_plan_pending", table_name="postings")
    with op.batch_alter_table("postings") as batch:
        batch.drop_column("plan_pending")
        batch.drop_column("source_stat")
    op.drop_index("ix_listings_board", table_name="listings")
    op.drop_index("ix_listings_state", table_name="listings")
    op.drop_index("ix_listings_next_due", table_name="listings")
    with op.batch_alter_table("listings") as batch:
        batch.drop_column("next_due_at")
