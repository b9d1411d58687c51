"""user block: verified email and phone, TOTP second factor and its recovery codes

Revision ID: user_0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tessera.lib.db import UTCDateTime

revision: str = "user_0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("user",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mfa_recovery_code",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_mfa_recovery_code_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_recovery_code")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    with op.batch_alter_table("mfa_recovery_code", schema=None) as batch_op:
        batch_op.create_index("ix_mfa_recovery_code_user_id", ["user_id"], unique=False)

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("phone_verified_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("mfa_totp_secret", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("mfa_enabled_at", UTCDateTime(), nullable=True))
        batch_op.create_index("ix_user_account_phone", ["phone"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index("ix_user_account_phone")
        batch_op.drop_column("mfa_enabled_at")
        batch_op.drop_column("mfa_totp_secret")
        batch_op.drop_column("phone_verified_at")
        batch_op.drop_column("email_verified_at")

    with op.batch_alter_table("mfa_recovery_code", schema=None) as batch_op:
        batch_op.drop_index("ix_mfa_recovery_code_user_id")

    op.drop_table("mfa_recovery_code")
