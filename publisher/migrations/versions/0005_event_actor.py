"""Who did what: every event records its actor (the OS user of a CLI run, the web app's
user). Older events have none.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("actor")
