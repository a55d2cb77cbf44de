"""What each feed or page board last wrote (a fingerprint and its files), so an unchanged
board is not rendered again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_files",
        sa.Column("board", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("board"),
    )


def downgrade() -> None:
    op.drop_table("board_files")
