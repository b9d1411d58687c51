"""Tables of the realtime block: chat rooms, their members (with read markers) and messages.

A support room belongs to one order (unique `order_id`) and records the order's owner, so
access checks need no call to the order block. Message ids grow with time within the whole
table, which makes them the keyset for paging and the read markers. User ids are plain
indexed columns: blocks share no foreign keys.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tessera.lib.db import Base, BigIntId, UTCDateTime, utcnow

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}
UserId = BigInteger().with_variant(Integer(), "sqlite")

SUPPORT, GROUP = "support", "group"


class ChatRoomDO(Base):
    __tablename__ = "chat_room"
    __table_args__ = (MYSQL_TABLE,)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # support | group
    name: Mapped[str | None] = mapped_column(String(100), default=None)
    order_id: Mapped[int | None] = mapped_column(UserId, unique=True, default=None)
    # The customer of a support room (the order's owner); None for group rooms.
    owner_id: Mapped[int | None] = mapped_column(UserId, default=None)
    created_by: Mapped[int] = mapped_column(UserId)
    last_message_id: Mapped[int] = mapped_column(UserId, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatMemberDO(Base):
    """Membership (group rooms) or participation (support rooms), with a read marker."""

    __tablename__ = "chat_member"
    __table_args__ = (Index("ix_chat_member_user_id", "user_id"), MYSQL_TABLE)

    room_id: Mapped[int] = mapped_column(
        UserId, ForeignKey("chat_room.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(UserId, primary_key=True)
    last_read_message_id: Mapped[int] = mapped_column(UserId, default=0)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatMessageDO(Base):
    __tablename__ = "chat_message"
    __table_args__ = (
        Index("ix_chat_message_room_id_id", "room_id", "id"),
        # A client's retry of the same send (same client_ref) stores one message.
        UniqueConstraint("room_id", "sender_id", "client_ref"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(UserId, ForeignKey("chat_room.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(UserId)
    sender_username: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text)
    client_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
