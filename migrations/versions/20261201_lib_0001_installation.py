"""installation: the random id that namespaces this database's keys in a shared Redis

Revision ID: lib_0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "lib_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("installation",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "installation",
        sa.Column("singleton", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("installation_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_installation")),
    )
    # Created with the database: a new (or recreated) database is a new installation.
    op.bulk_insert(table, [{"singleton": 1, "installation_id": uuid.uuid4().hex}])


def downgrade() -> None:
    op.drop_table("installation")
