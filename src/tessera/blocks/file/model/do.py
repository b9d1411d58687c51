"""Tables of the file block: one row per stored file, and the upload intents that let
`tessera files sweep` find bytes a crash left without a row.

Owners and orders are referenced by id only (no foreign keys into other blocks' tables).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tessera.lib.db import Base, UTCDateTime, utcnow

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


class StoredFileDO(Base):
    """Metadata of bytes that were stored; a row exists only once its bytes do."""

    __tablename__ = "stored_file"
    __table_args__ = (
        Index("ix_stored_file_owner_id_created_at", "owner_id", "created_at"),
        Index("ix_stored_file_order_id", "order_id"),
        UniqueConstraint("storage_backend", "storage_key"),
        MYSQL_TABLE,
    )

    # Random, so ids in URLs cannot be enumerated.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(16))
    # Avatars are stored in several sizes: "256", "64".
    variant: Mapped[str | None] = mapped_column(String(16), default=None)
    order_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_backend: Mapped[str] = mapped_column(String(16))
    storage_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StorageIntentDO(Base):
    """Written (and committed) before an upload starts, removed in the transaction that adds
    the file's row: one left behind marks bytes that may be orphaned."""

    __tablename__ = "storage_intent"
    __table_args__ = (Index("ix_storage_intent_created_at", "created_at"), MYSQL_TABLE)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    storage_backend: Mapped[str] = mapped_column(String(16))
    # None while the backend has not named the file yet (FastDFS assigns ids).
    storage_key: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
