"""Asynchronous board results: a unit of work the board accepted and finishes later keeps
the board's task id, when to give up on it (the board's task lifetime), how often it was
polled, and whether it was sent to find out if a create had reached the board (a probe).
The next poll is the row's ``due_at`` (already indexed with its state).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_id", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("task_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("polls", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("probe", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.drop_column("probe")
        batch_op.drop_column("polls")
        batch_op.drop_column("task_until")
        batch_op.drop_column("task_id")
