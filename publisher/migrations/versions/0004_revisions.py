"""Record keeping: every valid revision of a posting is kept (content and when it was
recorded), so an employer can show what was posted, where and when. Existing ledgers start
with each posting's current revision.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 05:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revisions",
        sa.Column("posting_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["posting_id"], ["postings.id"]),
        sa.PrimaryKeyConstraint("posting_id", "revision"),
    )
    op.execute(
        sa.text(
            "INSERT INTO revisions (posting_id, revision, content_hash, spec, "
            "recorded_at) SELECT id, revision, content_hash, spec, updated_at "
            "FROM postings"
        )
    )


def downgrade() -> None:
    op.drop_table("revisions")
