"""Changes waiting for approval (the web app's [web] require_approval).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("posting_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("base", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_changes_posting", "changes", ["posting_id", "id"])
    op.create_index("ix_changes_state", "changes", ["state"])


def downgrade() -> None:
    op.drop_index("ix_changes_state", table_name="changes")
    op.drop_index("ix_changes_posting", table_name="changes")
    op.drop_table("changes")
