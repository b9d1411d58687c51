"""What the report use cases share: permissions, media types, the job's public shape, and
who may see a job (its owner, or holders of `report:read:any`; anyone else gets 404)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import structlog

from tessera.blocks.report import dao
from tessera.blocks.report.events import JobEvent
from tessera.blocks.report.model.do import ReportJobDO
from tessera.blocks.report.model.dto import ImportResult, JobError, JobOut
from tessera.lib.errors import NotFound
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal

log = structlog.get_logger("tessera.report")

READ_ANY = "report:read:any"
ORDER_READ_ANY = "order:read:any"
ORDER_MANAGE = "order:manage"
PRODUCT_MANAGE = "product:manage"
USER_MANAGE = "user:manage"

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
PDF_TYPE = "application/pdf"
MEDIA_TYPES = {"xlsx": XLSX_TYPE, "csv": CSV_TYPE}


def job_url(job: ReportJobDO) -> str:
    return f"/api/v1/reports/{job.direction}s/{job.id}"


def has_file(job: ReportJobDO) -> bool:
    """An export's file once it succeeded; an import's annotated sheet also when it failed."""
    ready = (dao.SUCCEEDED,) if job.direction == "export" else (dao.SUCCEEDED, dao.FAILED)
    return job.file_id is not None and job.status in ready


def file_url(job: ReportJobDO) -> str | None:
    if not has_file(job):
        return None
    suffix = "file" if job.direction == "export" else "annotated.xlsx"
    return f"{job_url(job)}/{suffix}"


def job_out(job: ReportJobDO) -> JobOut:
    result = ImportResult.model_validate_json(job.result) if job.result else None
    if result is not None and has_file(job):
        result = result.model_copy(update={"annotated_url": file_url(job)})
    error = JobError(code=job.error_code, detail=job.error_detail or "") if job.error_code else None
    params: dict[str, Any] = json.loads(job.params or "{}")
    return JobOut(
        id=job.id,
        direction=job.direction,
        kind=job.kind,
        format=job.format,
        status=job.status,
        rows_done=job.rows_done,
        rows_total=job.rows_total,
        params=params,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        expires_at=job.expires_at,
        file_url=file_url(job),
        error=error,
        result=result,
    )


def job_event(job: ReportJobDO, **changes: Any) -> JobEvent:
    values: dict[str, Any] = {
        "job_id": job.id,
        "owner_id": job.owner_id,
        "direction": job.direction,
        "kind": job.kind,
        "status": job.status,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "file_url": file_url(job),
        "error_code": job.error_code,
    }
    values.update(changes)
    return JobEvent(**values)


def job_not_found() -> NotFound:
    return NotFound("No such job.", code="report.job_not_found")


def may_see(principal: Principal, job: ReportJobDO) -> bool:
    return job.owner_id == principal.id or principal.has(READ_ANY)


async def visible_job(
    runtime: Runtime, principal: Principal, job_id: str, direction: str
) -> ReportJobDO:
    async with runtime.db.read() as session:
        job = await dao.get_job(session, job_id)
    if job is None or job.direction != direction or not may_see(principal, job):
        raise job_not_found()
    return job


def stamp(moment: datetime) -> str:
    """A compact timestamp for file names: 20261201-0830."""
    return moment.strftime("%Y%m%d-%H%M%S")
