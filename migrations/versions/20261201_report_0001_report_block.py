"""report block: export and import jobs, generated order documents; report:read:any for admins

Revision ID: report_0001
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tessera.lib.db import UTCDateTime

revision: str = "report_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("report",)
depends_on: str | Sequence[str] | None = None

PERMISSION = "report:read:any"
DESCRIPTION = "See and download every user's export and import jobs"
GRANTED_TO = ("admin",)


def upgrade() -> None:
    op.create_table(
        "report_job",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("worker_id", sa.String(length=64), nullable=True),
        sa.Column("file_id", sa.String(length=32), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("source_file_id", sa.String(length=32), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_detail", sa.String(length=1000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_job")),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    with op.batch_alter_table("report_job", schema=None) as batch_op:
        batch_op.create_index("ix_report_job_expires_at", ["expires_at"], unique=False)
        batch_op.create_index(
            "ix_report_job_owner_id_created_at", ["owner_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_report_job_status_lease_until", ["status", "lease_until"], unique=False
        )
    op.create_table(
        "report_order_document",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_id", sa.String(length=32), nullable=False),
        sa.Column("order_status", sa.String(length=24), nullable=False),
        sa.Column("order_updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_order_document")),
        sa.UniqueConstraint(
            "order_id", "kind", name=op.f("uq_report_order_document_order_id_kind")
        ),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    _grant_permission()


def _grant_permission() -> None:
    bind = op.get_bind()
    bind.execute(
        sa.text("INSERT INTO permission (code, description) VALUES (:code, :description)"),
        {"code": PERMISSION, "description": DESCRIPTION},
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
    op.drop_table("report_order_document")
    with op.batch_alter_table("report_job", schema=None) as batch_op:
        batch_op.drop_index("ix_report_job_status_lease_until")
        batch_op.drop_index("ix_report_job_owner_id_created_at")
        batch_op.drop_index("ix_report_job_expires_at")
    op.drop_table("report_job")
