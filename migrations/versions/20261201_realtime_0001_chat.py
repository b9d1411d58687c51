"""realtime block: chat rooms, members with read markers, messages; permission chat:manage
for admin and staff

Revision ID: realtime_0001
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tessera.lib.db import UTCDateTime

revision: str = "realtime_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("realtime",)
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MYSQL = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}
PERMISSION = "chat:manage"
GRANTED_TO = ("admin", "staff")


def upgrade() -> None:
    op.create_table(
        "chat_room",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("order_id", BIGINT, nullable=True),
        sa.Column("owner_id", BIGINT, nullable=True),
        sa.Column("created_by", BIGINT, nullable=False),
        sa.Column("last_message_id", BIGINT, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_room")),
        sa.UniqueConstraint("order_id", name=op.f("uq_chat_room_order_id")),
        **MYSQL,
    )
    op.create_table(
        "chat_member",
        sa.Column("room_id", BIGINT, nullable=False),
        sa.Column("user_id", BIGINT, nullable=False),
        sa.Column("last_read_message_id", BIGINT, nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["chat_room.id"],
            name=op.f("fk_chat_member_room_id_chat_room"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("room_id", "user_id", name=op.f("pk_chat_member")),
        **MYSQL,
    )
    with op.batch_alter_table("chat_member", schema=None) as batch_op:
        batch_op.create_index("ix_chat_member_user_id", ["user_id"], unique=False)
    op.create_table(
        "chat_message",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.Column("room_id", BIGINT, nullable=False),
        sa.Column("sender_id", BIGINT, nullable=False),
        sa.Column("sender_username", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("client_ref", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["chat_room.id"],
            name=op.f("fk_chat_message_room_id_chat_room"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_message")),
        sa.UniqueConstraint(
            "room_id",
            "sender_id",
            "client_ref",
            name=op.f("uq_chat_message_room_id_sender_id_client_ref"),
        ),
        **MYSQL,
    )
    with op.batch_alter_table("chat_message", schema=None) as batch_op:
        batch_op.create_index("ix_chat_message_room_id_id", ["room_id", "id"], unique=False)
    # Ids are looked up by name: other blocks' migrations add permissions in any order.
    op.execute(
        sa.text("INSERT INTO permission (code, description) VALUES (:code, :text)").bindparams(
            code=PERMISSION, text="Create group chat rooms and manage their members"
        )
    )
    for role in GRANTED_TO:
        op.execute(
            sa.text(
                "INSERT INTO role_permission (role_id, permission_id) "
                "SELECT r.id, p.id FROM role r, permission p WHERE r.name = :role AND p.code = :code"
            ).bindparams(role=role, code=PERMISSION)
        )


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM role_permission WHERE permission_id IN "
            "(SELECT id FROM permission WHERE code = :code)"
        ).bindparams(code=PERMISSION)
    )
    op.execute(sa.text("DELETE FROM permission WHERE code = :code").bindparams(code=PERMISSION))
    with op.batch_alter_table("chat_message", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_message_room_id_id")
    op.drop_table("chat_message")
    with op.batch_alter_table("chat_member", schema=None) as batch_op:
        batch_op.drop_index("ix_chat_member_user_id")
    op.drop_table("chat_member")
    op.drop_table("chat_room")
