"""order block: provider trades (one per payment attempt), refunds through the provider, and
the refunded amount of each order

Revision ID: order_0002
Revises: order_0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tessera.lib.db import UTCDateTime

revision: str = "order_0002"
down_revision: str | None = "order_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.Numeric(precision=12, scale=2)


def upgrade() -> None:
    with op.batch_alter_table("customer_order", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("refunded_amount", MONEY, nullable=False, server_default="0.00")
        )

    op.create_table(
        "payment_attempt",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("order_id", BIG_ID, nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("out_trade_no", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=True),
        sa.Column("checkout", sa.Text(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("paid_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["customer_order.id"],
            name=op.f("fk_payment_attempt_order_id_customer_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_attempt")),
        sa.UniqueConstraint("out_trade_no", name=op.f("uq_payment_attempt_out_trade_no")),
        sa.UniqueConstraint(
            "provider", "transaction_id", name=op.f("uq_payment_attempt_provider_transaction_id")
        ),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    with op.batch_alter_table("payment_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_payment_attempt_order_id", ["order_id"], unique=False)
        batch_op.create_index(
            "ix_payment_attempt_status_updated_at", ["status", "updated_at"], unique=False
        )

    op.create_table(
        "payment_refund",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("order_id", BIG_ID, nullable=False),
        sa.Column("attempt_id", BIG_ID, nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("out_refund_no", sa.String(length=64), nullable=False),
        sa.Column("refund_id", sa.String(length=64), nullable=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("settled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["customer_order.id"],
            name=op.f("fk_payment_refund_order_id_customer_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["payment_attempt.id"],
            name=op.f("fk_payment_refund_attempt_id_payment_attempt"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_refund")),
        sa.UniqueConstraint("out_refund_no", name=op.f("uq_payment_refund_out_refund_no")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    with op.batch_alter_table("payment_refund", schema=None) as batch_op:
        batch_op.create_index("ix_payment_refund_order_id", ["order_id"], unique=False)
        batch_op.create_index(
            "ix_payment_refund_status_updated_at", ["status", "updated_at"], unique=False
        )


def downgrade() -> None:
    # Dropping a table drops its indexes (MySQL refuses to drop one a foreign key uses).
    op.drop_table("payment_refund")
    op.drop_table("payment_attempt")
    with op.batch_alter_table("customer_order", schema=None) as batch_op:
        batch_op.drop_column("refunded_amount")
