"""file block: stored files, upload intents, and the file:read:any permission

Revision ID: file_0001
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tessera.lib.db import UTCDateTime

revision: str = "file_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("file",)
depends_on: str | Sequence[str] | None = None

PERMISSION = "file:read:any"
GRANTED_TO = ("admin", "staff")


def upgrade() -> None:
    op.create_table(
        "stored_file",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("variant", sa.String(length=16), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_backend", sa.String(length=16), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_file")),
        sa.UniqueConstraint(
            "storage_backend",
            "storage_key",
            name=op.f("uq_stored_file_storage_backend_storage_key"),
        ),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stored_file_owner_id_created_at", ["owner_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_stored_file_order_id", ["order_id"], unique=False)

    op.create_table(
        "storage_intent",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("storage_backend", sa.String(length=16), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_intent")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    with op.batch_alter_table("storage_intent", schema=None) as batch_op:
        batch_op.create_index("ix_storage_intent_created_at", ["created_at"], unique=False)

    _grant_permission()


def _grant_permission() -> None:
    bind = op.get_bind()
    bind.execute(
        sa.text("INSERT INTO permission (code, description) VALUES (:code, :description)"),
        {"code": PERMISSION, "description": "Read every user's files"},
    )
    permission_id = bind.execute(
        sa.text("SELECT id FROM permission WHERE code = :code"), {"code": PERMISSION}
    ).scalar_one()
    for role_name in GRANTED_TO:
        role_id = bind.execute(
            sa.text("SELECT id FROM role WHERE name = :name"), {"name": role_name}
        ).scalar_one_or_none()
        if role_id is not None:
            bind.execute(
                sa.text(
                    "INSERT INTO role_permission (role_id, permission_id) VALUES (:role, :perm)"
                ),
                {"role": role_id, "perm": permission_id},
            )


def downgrade() -> None:
    bind = op.get_bind()
    permission_id = bind.execute(
        sa.text("SELECT id FROM permission WHERE code = :code"), {"code": PERMISSION}
    ).scalar_one_or_none()
    if permission_id is not None:
        bind.execute(
            sa.text("DELETE FROM role_permission WHERE permission_id = :perm"),
            {"perm": permission_id},
        )
        bind.execute(sa.text("DELETE FROM permission WHERE id = :perm"), {"perm": permission_id})
    with op.batch_alter_table("storage_intent", schema=None) as batch_op:
        batch_op.drop_index("ix_storage_intent_created_at")
    op.drop_table("storage_intent")
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.drop_index("ix_stored_file_order_id")
        batch_op.drop_index("ix_stored_file_owner_id_created_at")
    op.drop_table("stored_file")
