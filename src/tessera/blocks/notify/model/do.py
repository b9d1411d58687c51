"""Tables of the notify block: every message sent (the notification log) and each user's
choice of which order events reach them by mail and SMS.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tessera.lib.db import Base, BigIntId, UTCDateTime, utcnow

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}

QUEUED, SENT, FAILED, DEAD = "queued", "sent", "failed", "dead"


class NotificationDO(Base):
    """One message to one recipient. The worker sends it and records how that went."""

    __tablename__ = "notification"
    __table_args__ = (
        # One message per channel per source event: a re-delivered event queues nothing new.
        UniqueConstraint("source_event_id", "channel"),
        Index("ix_notification_created_at", "created_at"),
        Index("ix_notification_user_id", "user_id"),
        Index("ix_notification_status", "status"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(8))  # mail | sms
    # No foreign key: the log outlives accounts, and user ids are the user block's business.
    user_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), default=None
    )
    recipient: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    # JSON parameters; secret ones (codes, link tokens) are encrypted and wiped once sent.
    params: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default=QUEUED)
    provider_id: Mapped[str | None] = mapped_column(String(255), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    source_event_id: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class NotificationSettingsDO(Base):
    """Which order events a user wants by mail and by SMS (comma-separated topics)."""

    __tablename__ = "notification_settings"
    __table_args__ = MYSQL_TABLE

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    mail_events: Mapped[str] = mapped_column(String(255))
    sms_events: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
