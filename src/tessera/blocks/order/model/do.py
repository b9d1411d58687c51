"""Tables of the order block: products, orders with their lines and history, payments (the
ledger), provider trades (one per payment attempt) and refunds, idempotency records. Money is
DECIMAL(12,2); stock has a CHECK so it can never go negative.
User ids are plain indexed columns: blocks share no foreign keys, only service calls.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tessera.lib.db import Base, BigIntId, UTCDateTime, utcnow

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}
Money = Numeric(12, 2)


class ProductDO(Base):
    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        Index("ix_product_status_price", "status", "price"),
        Index("ix_product_created_at", "created_at"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderDO(Base):
    __tablename__ = "customer_order"
    __table_args__ = (
        Index("ix_customer_order_user_id_created_at", "user_id", "created_at"),
        Index("ix_customer_order_status_expires_at", "status", "expires_at"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(BigIntId)
    status: Mapped[str] = mapped_column(String(24))
    total: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    shipping_address: Mapped[str | None] = mapped_column(Text, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    # Optimistic concurrency: every transition is UPDATE ... WHERE version = :seen.
    version: Mapped[int] = mapped_column(Integer, default=1)
    payment_method: Mapped[str | None] = mapped_column(String(32), default=None)
    # Sum of the refunds the provider confirmed.
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    carrier: Mapped[str | None] = mapped_column(String(64), default=None)
    tracking_no: Mapped[str | None] = mapped_column(String(64), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    items: Mapped[list[OrderItemDO]] = relationship(
        lazy="selectin", order_by="OrderItemDO.id", cascade="all, delete-orphan"
    )


class OrderItemDO(Base):
    __tablename__ = "order_item"
    __table_args__ = (Index("ix_order_item_order_id", "order_id"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("customer_order.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(BigIntId)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[Decimal] = mapped_column(Money)


class OrderHistoryDO(Base):
    __tablename__ = "order_history"
    __table_args__ = (Index("ix_order_history_order_id", "order_id"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("customer_order.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(24), default=None)
    to_status: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(BigIntId, default=None)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentDO(Base):
    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("provider", "provider_ref"),
        Index("ix_payment_order_id", "order_id"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("customer_order.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    provider_ref: Mapped[str] = mapped_column(String(128))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyRecordDO(Base):
    """The first answer to a (user, Idempotency-Key): replayed for the same request body."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigIntId)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[int] = mapped_column(BigIntId)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentAttemptDO(Base):
    """One provider trade, started by one pay request (`out_trade_no` is Tessera's number for
    it). Status: creating (reserved, provider not answered yet) -> started (payable) -> paid;
    or closed (closed unpaid), failed (the provider refused it), abandoned (the provider's
    answer never came: the trade may exist and is closed by reconciliation), superseded (the
    buyer chose another method: closed by reconciliation)."""

    __tablename__ = "payment_attempt"
    __table_args__ = (
        UniqueConstraint("out_trade_no"),
        # Callbacks are idempotent by (provider, transaction id).
        UniqueConstraint("provider", "transaction_id"),
        Index("ix_payment_attempt_order_id", "order_id"),
        Index("ix_payment_attempt_status_updated_at", "status", "updated_at"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("customer_order.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(32))
    out_trade_no: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    transaction_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # What the buyer needs to pay (QR code URL, redirect, form, JSAPI sheet), as JSON.
    checkout: Mapped[str | None] = mapped_column(Text, default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaymentRefundDO(Base):
    """A refund through the provider (`out_refund_no` is Tessera's number for it). Status:
    requested (reserved; sent, or to be sent, to the provider) -> pending (the provider is
    processing it) -> succeeded | failed. `automatic`: refunds Tessera made itself (a payment
    that arrived after its order was cancelled, or a second payment of one order)."""

    __tablename__ = "payment_refund"
    __table_args__ = (
        UniqueConstraint("out_refund_no"),
        Index("ix_payment_refund_order_id", "order_id"),
        Index("ix_payment_refund_status_updated_at", "status", "updated_at"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("customer_order.id", ondelete="CASCADE"))
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_attempt.id", ondelete="SET NULL"), default=None
    )
    provider: Mapped[str] = mapped_column(String(32))
    out_refund_no: Mapped[str] = mapped_column(String(64))
    refund_id: Mapped[str | None] = mapped_column(String(64), default=None)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
    status: Mapped[str] = mapped_column(String(16))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    actor: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
