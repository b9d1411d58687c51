"""Tables of the report block: one `report_job` row per export or import job.

A job's file lives in the file block (a `stored_file` row with purpose `report`, or the
uploaded sheet of an import); the job keeps only its id. `lease_until` is how a worker holds a
running job: it renews the lease while it works, and a job whose lease ran out belongs to a
worker that died, so another worker starts it again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tessera.lib.db import Base, BigIntId, UTCDateTime, utcnow

MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


class ReportJobDO(Base):
    __tablename__ = "report_job"
    __table_args__ = (
        Index("ix_report_job_status_lease_until", "status", "lease_until"),
        Index("ix_report_job_owner_id_created_at", "owner_id", "created_at"),
        Index("ix_report_job_expires_at", "expires_at"),
        MYSQL_TABLE,
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigIntId)
    direction: Mapped[str] = mapped_column(String(8))  # export | import
    kind: Mapped[str] = mapped_column(String(16))  # orders | products | users
    format: Mapped[str] = mapped_column(String(8))  # xlsx | csv
    # JSON: the export's filters, or the import's mode and file name.
    params: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16))
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    worker_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # The result file (export, or the annotated sheet of an import) in the file block.
    file_id: Mapped[str | None] = mapped_column(String(32), default=None)
    file_name: Mapped[str | None] = mapped_column(String(255), default=None)
    # An import's uploaded sheet, kept until the job is done.
    source_file_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # JSON: an import's outcome (counts and errors).
    result: Mapped[str | None] = mapped_column(Text, default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_detail: Mapped[str | None] = mapped_column(String(1000), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class OrderDocumentDO(Base):
    """The latest generated invoice or packing slip of an order, and the order state it shows.

    The PDF itself is an order document in the file block (`file_id`); when the order's
    status moves on, the document is rendered again and the old file deleted.
    """

    __tablename__ = "report_order_document"
    __table_args__ = (UniqueConstraint("order_id", "kind"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigIntId)
    kind: Mapped[str] = mapped_column(String(16))  # invoice | packing_slip
    file_id: Mapped[str] = mapped_column(String(32))
    # What the document shows: re-rendered when the order's status or version differs.
    order_status: Mapped[str] = mapped_column(String(24))
    order_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
