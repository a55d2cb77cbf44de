"""Fencing tokens: every claim of a unit of work takes the next generation of it, and every
write of its outcome is made only while that generation still holds the work, so a worker
paused past its lease can never record over the worker that took the work over.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fence", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.drop_column("fence")
