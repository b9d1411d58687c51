"""notify block: the message log, notification settings, permission notify:read

Revision ID: notify_0001
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tessera.lib.db import UTCDateTime

revision: str = "notify_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("notify",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("source_event_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint(
            "source_event_id", "channel", name=op.f("uq_notification_source_event_id_channel")
        ),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_notification_status", ["status"], unique=False)
        batch_op.create_index("ix_notification_user_id", ["user_id"], unique=False)

    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("mail_events", sa.String(length=255), nullable=False),
        sa.Column("sms_events", sa.String(length=255), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_settings_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_settings")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    _grant_permission()


PERMISSION = "notify:read"
GRANTED_TO = ("admin", "staff")


def _grant_permission() -> None:
    # Ids are looked up by name: other blocks' migrations add permissions in any order.
    op.execute(
        sa.text("INSERT INTO permission (code, description) VALUES (:code, :text)").bindparams(
            code=PERMISSION, text="Read the log of sent mail and SMS"
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
    op.drop_table("notification_settings")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_user_id")
        batch_op.drop_index("ix_notification_status")
        batch_op.drop_index("ix_notification_created_at")

    op.drop_table("notification")
