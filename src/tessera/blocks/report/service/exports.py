"""Exports: a direct download for small ones, a job for large ones, and the job's work.

Both paths run the same pipeline: keyset pages from the owning block's service ->
`TableStream` (the writer in a thread) -> bytes. A direct download streams them to the client;
a job streams them into storage as a file of the file block (`store_generated_file`), so
neither the rows nor the file are ever held in memory.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from tessera.blocks.file import service as file_service
from tessera.blocks.report import dao
from tessera.blocks.report.events import JOB_QUEUED
from tessera.blocks.report.model.do import ReportJobDO
from tessera.blocks.report.model.dto import ExportIn, JobAccepted
from tessera.blocks.report.service.common import MEDIA_TYPES, job_event, job_url, log, stamp
from tessera.blocks.report.service.sources import SOURCES, Source
from tessera.lib.db import utcnow
from tessera.lib.errors import PayloadTooLarge
from tessera.lib.office import SheetWriter, TableStream, open_csv, open_xlsx
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.tasks import publish


@dataclass(frozen=True)
class DirectExport:
    file_name: str
    media_type: str
    chunks: AsyncIterator[bytes]


def writer_factory(
    runtime: Runtime, source: Source, fmt: str
) -> Callable[[IO[bytes]], SheetWriter]:
    settings = runtime.settings.report
    zone = settings.zone
    if fmt == "csv":
        return lambda target: open_csv(target, source.columns, zone=zone)
    return lambda target: open_xlsx(
        target, source.columns, engine=settings.xlsx_engine, sheet_name=source.sheet_name, zone=zone
    )


def file_name(kind: str, fmt: str) -> str:
    return f"{kind}-{stamp(utcnow())}.{fmt}"


async def export_directly(
    *, runtime: Runtime, principal: Principal, kind: str, fmt: str, filters: Any
) -> DirectExport:
    """Stream a small export to the client; above `report.direct_export_max_rows`, 413."""
    source = SOURCES[kind]
    filters = source.authorize(principal, filters)
    limit = runtime.settings.report.direct_export_max_rows
    count = await source.count(runtime, filters)
    if count > limit:
        raise PayloadTooLarge(
            f"This export has {count} rows; direct downloads stop at {limit}. Start a job "
            "with POST /api/v1/reports/exports and download its file when it is done.",
            code="report.export_too_large",
        )
    batches = source.rows(runtime, filters, runtime.settings.report.batch_rows)
    stream = TableStream(batches, writer_factory(runtime, source, fmt))
    log.info("export_direct", kind=kind, format=fmt, rows=count, user_id=principal.id)
    return DirectExport(
        file_name=file_name(kind, fmt), media_type=MEDIA_TYPES[fmt], chunks=stream.__aiter__()
    )


async def create_export(
    *, runtime: Runtime, principal: Principal, request: ExportIn
) -> JobAccepted:
    """Queue an export job; the worker runs it (`report.job_queued` wakes it)."""
    source = SOURCES[request.kind]
    filters = source.authorize(principal, request.filters)
    job = ReportJobDO(
        id=uuid.uuid4().hex,
        owner_id=principal.id,
        direction="export",
        kind=request.kind,
        format=request.format,
        params=json.dumps({"filters": filters.model_dump(mode="json", exclude_none=True)}),
        status=dao.QUEUED,
        rows_done=0,
        attempts=0,
        created_at=utcnow(),
    )
    async with runtime.db.transaction() as uow:
        await dao.add_job(uow.session, job)
        await publish(uow, runtime.events, JOB_QUEUED, job_event(job), aggregate_id=job.id)
    log.info("export_queued", job_id=job.id, kind=job.kind, format=job.format)
    return JobAccepted(id=job.id, status="queued", url=job_url(job))


Progress = Callable[[int, int | None], Any]


async def run_export(
    runtime: Runtime, job: ReportJobDO, progress: Progress
) -> tuple[str, str, int]:
    """The job's work: rows -> writer -> stored file. Returns (file id, file name, rows).

    `progress(rows_done, rows_total)` is awaited after every chunk; it raises to stop the job
    (cancelled, or the lease was lost), which aborts the writer and discards the stored bytes.
    """
    source = SOURCES[job.kind]
    params = json.loads(job.params or "{}")
    filters = source.filters.model_validate(params.get("filters", {}))
    total = await source.count(runtime, filters)
    await progress(0, total)
    batches = source.rows(runtime, filters, runtime.settings.report.batch_rows)
    stream = TableStream(batches, writer_factory(runtime, source, job.format))

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in stream:
            yield chunk
            await progress(stream.rows_written, total)

    name = file_name(job.kind, job.format)
    stored = await file_service.store_generated_file(
        runtime=runtime,
        owner_id=job.owner_id,
        chunks=chunks(),
        name=name,
        content_type=MEDIA_TYPES[job.format],
        purpose="report",
    )
    return stored.id, name, stream.rows_written


def expiry(runtime: Runtime) -> timedelta:
    return timedelta(days=runtime.settings.report.file_ttl_days)
