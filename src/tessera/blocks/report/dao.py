"""Queries of the report block: jobs, and how a worker claims, renews and finishes one.

Every state change of a running job is an UPDATE conditioned on the worker that holds it
(`worker_id`) and its status, so a worker that lost its lease (or a cancelled job) finds out
from the row count instead of overwriting someone else's work. Functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.report.model.do import OrderDocumentDO, ReportJobDO

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "expired",
)
ACTIVE = (QUEUED, RUNNING)
DONE = (SUCCEEDED, FAILED, CANCELLED)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def add_job(session: AsyncSession, job: ReportJobDO) -> None:
    session.add(job)
    await session.flush()


async def get_job(session: AsyncSession, job_id: str) -> ReportJobDO | None:
    return await session.get(ReportJobDO, job_id)


async def list_jobs(
    session: AsyncSession,
    *,
    owner_id: int | None,
    direction: str | None,
    offset: int,
    limit: int,
) -> tuple[list[ReportJobDO], int]:
    query = select(ReportJobDO)
    if owner_id is not None:
        query = query.where(ReportJobDO.owner_id == owner_id)
    if direction is not None:
        query = query.where(ReportJobDO.direction == direction)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(ReportJobDO.created_at.desc(), ReportJobDO.id).offset(offset).limit(limit)
    )
    return list(rows.scalars()), int(total or 0)


def _claimable(now: datetime) -> Any:
    return or_(
        ReportJobDO.status == QUEUED,
        (ReportJobDO.status == RUNNING) & (ReportJobDO.lease_until < now),
    )


async def any_claimable(session: AsyncSession, now: datetime) -> bool:
    found = await session.scalar(select(ReportJobDO.id).where(_claimable(now)).limit(1))
    return found is not None


async def claim_next(
    session: AsyncSession, *, now: datetime, lease_until: datetime, worker_id: str, lock: bool
) -> ReportJobDO | None:
    """Take the oldest queued job, or one whose worker's lease ran out (it died)."""
    query = select(ReportJobDO).where(_claimable(now)).order_by(ReportJobDO.created_at).limit(1)
    if lock:
        query = query.with_for_update(skip_locked=True)
    job = await session.scalar(query)
    if job is None:
        return None
    job.status = RUNNING
    job.worker_id = worker_id
    job.lease_until = lease_until
    job.attempts += 1
    job.rows_done = 0
    job.started_at = now
    await session.flush()
    return job


async def renew(
    session: AsyncSession,
    *,
    job_id: str,
    worker_id: str,
    lease_until: datetime,
    rows_done: int,
    rows_total: int | None,
) -> bool:
    """Extend the lease and record progress; False if the job was cancelled or taken over."""
    values: dict[str, Any] = {"lease_until": lease_until, "rows_done": rows_done}
    if rows_total is not None:
        values["rows_total"] = rows_total
    result = await session.execute(
        update(ReportJobDO)
        .where(
            ReportJobDO.id == job_id,
            ReportJobDO.worker_id == worker_id,
            ReportJobDO.status == RUNNING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def finish(
    session: AsyncSession, *, job_id: str, worker_id: str, values: dict[str, Any]
) -> bool:
    result = await session.execute(
        update(ReportJobDO)
        .where(
            ReportJobDO.id == job_id,
            ReportJobDO.worker_id == worker_id,
            ReportJobDO.status == RUNNING,
        )
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def cancel(session: AsyncSession, *, job_id: str, now: datetime) -> bool:
    result = await session.execute(
        update(ReportJobDO)
        .where(ReportJobDO.id == job_id, ReportJobDO.status.in_(ACTIVE))
        .values(status=CANCELLED, finished_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def release(session: AsyncSession, *, job_ids: Sequence[str], worker_id: str) -> None:
    """Hand running jobs back to the queue (a worker shutting down cleanly)."""
    if not job_ids:
        return
    await session.execute(
        update(ReportJobDO)
        .where(
            ReportJobDO.id.in_(list(job_ids)),
            ReportJobDO.worker_id == worker_id,
            ReportJobDO.status == RUNNING,
        )
        .values(status=QUEUED, lease_until=None, worker_id=None, attempts=ReportJobDO.attempts - 1)
        .execution_options(synchronize_session=False)
    )


async def expired(session: AsyncSession, *, now: datetime, limit: int) -> list[ReportJobDO]:
    rows = await session.execute(
        select(ReportJobDO)
        .where(ReportJobDO.status.in_(DONE), ReportJobDO.expires_at < now)
        .order_by(ReportJobDO.expires_at)
        .limit(limit)
    )
    return list(rows.scalars())


async def get_document(session: AsyncSession, order_id: int, kind: str) -> OrderDocumentDO | None:
    return await session.scalar(
        select(OrderDocumentDO).where(
            OrderDocumentDO.order_id == order_id, OrderDocumentDO.kind == kind
        )
    )


async def add_document(session: AsyncSession, document: OrderDocumentDO) -> None:
    session.add(document)
    await session.flush()
