"""Jobs: what their owners do with them (see, list, cancel, download) and how a worker runs
them (claim, renew the lease while working, finish, expire the files later).

A worker claims a job by leasing it (`lease_until`); it renews the lease every few seconds
while rows flow, and each renewal also tells it whether the job was cancelled. A worker that
dies stops renewing: once the lease has run out another worker claims the job and starts it
again from the beginning (an xlsx cannot be resumed mid-zip), up to `report.job_max_attempts`
times. A worker that shuts down cleanly hands its jobs back at once (`JobRunner.stop`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from datetime import datetime, timedelta

from tessera.blocks.file import service as file_service
from tessera.blocks.report import dao
from tessera.blocks.report.events import JOB_FINISHED, JOB_PROGRESS
from tessera.blocks.report.model.do import ReportJobDO
from tessera.blocks.report.model.dto import ImportResult, JobOut
from tessera.blocks.report.service.common import (
    READ_ANY,
    has_file,
    job_event,
    job_out,
    log,
    visible_job,
)
from tessera.blocks.report.service.exports import expiry, run_export
from tessera.lib.db import utcnow
from tessera.lib.errors import Conflict, DomainError, Forbidden, Gone
from tessera.lib.pagination import Page, PageParams
from tessera.lib.runtime import Runtime, Slot
from tessera.lib.security import Principal
from tessera.lib.tasks import publish

# How often a running job writes its progress (and renews its lease) at most.
PROGRESS_INTERVAL_SECONDS = 1.0


class JobStopped(Exception):
    """The job was cancelled, or another worker took it over: stop and discard the work."""


# --- what owners do -------------------------------------------------------------------------


async def get_job(*, runtime: Runtime, principal: Principal, job_id: str, direction: str) -> JobOut:
    return job_out(await visible_job(runtime, principal, job_id, direction))


async def list_jobs(
    *,
    runtime: Runtime,
    principal: Principal,
    paging: PageParams,
    direction: str,
    owner_id: int | None,
) -> Page[JobOut]:
    """Your jobs, newest first; with `report:read:any`, anyone's (`owner_id`) or all."""
    if owner_id is None and not principal.has(READ_ANY):
        owner_id = principal.id
    elif owner_id is not None and owner_id != principal.id and not principal.has(READ_ANY):
        raise Forbidden(f"Missing permission {READ_ANY}.", code="auth.permission_denied")
    async with runtime.db.read() as session:
        jobs, total = await dao.list_jobs(
            session, owner_id=owner_id, direction=direction, offset=paging.offset, limit=paging.size
        )
    return Page[JobOut].of([job_out(job) for job in jobs], total, paging)


async def cancel_job(
    *, runtime: Runtime, principal: Principal, job_id: str, direction: str
) -> JobOut:
    """Cancel a queued or running job (a running one stops at its next progress step)."""
    job = await visible_job(runtime, principal, job_id, direction)
    async with runtime.db.transaction() as uow:
        cancelled = await dao.cancel(uow.session, job_id=job.id, now=utcnow())
        if cancelled:
            await publish(
                uow,
                runtime.events,
                JOB_FINISHED,
                job_event(job, status=dao.CANCELLED, file_url=None),
                aggregate_id=job.id,
            )
    if cancelled:
        log.info("job_cancelled", job_id=job.id, by=principal.id)
    return job_out(await visible_job(runtime, principal, job_id, direction))


async def open_job_file(
    *, runtime: Runtime, principal: Principal, job_id: str, direction: str, range_header: str | None
) -> tuple[ReportJobDO, file_service.Download]:
    job = await visible_job(runtime, principal, job_id, direction)
    if job.status == dao.EXPIRED:
        raise Gone("The file of this job has expired; run it again.", code="report.file_expired")
    if not has_file(job) or job.file_id is None:
        raise Conflict(
            f"The job is {job.status}; its file is ready once it succeeded.",
            code="report.job_not_ready",
        )
    download = await file_service.open_generated_file(
        runtime=runtime, file_id=job.file_id, range_header=range_header
    )
    return job, download


async def expire_jobs(*, runtime: Runtime, batch_size: int = 100) -> int:
    """Delete the files of jobs past `expires_at` (periodic job); returns how many expired."""
    async with runtime.db.read() as session:
        jobs = await dao.expired(session, now=utcnow(), limit=batch_size)
    for job in jobs:
        for file_id in (job.file_id, job.source_file_id):
            if file_id is not None:
                await file_service.delete_generated_file(runtime=runtime, file_id=file_id)
        async with runtime.db.transaction() as uow:
            row = await dao.get_job(uow.session, job.id)
            if row is not None:
                row.status = dao.EXPIRED if row.file_id else row.status
                row.file_id = None
                row.source_file_id = None
                row.expires_at = None
    if jobs:
        log.info("jobs_expired", count=len(jobs))
    return len(jobs)


# --- how a worker runs them -----------------------------------------------------------------


class _Lease:
    """Progress reports of one running job: renews the lease, notices cancellation, and
    publishes `report.job_progress` every 5%."""

    def __init__(self, runtime: Runtime, job: ReportJobDO, worker_id: str) -> None:
        self.runtime = runtime
        self.job = job
        self.worker_id = worker_id
        self._last_write = 0.0
        self._last_bucket = -1

    def lease_until(self) -> datetime:
        return utcnow() + timedelta(seconds=self.runtime.settings.report.job_lease_seconds)

    async def __call__(self, rows_done: int, rows_total: int | None) -> None:
        now = time.monotonic()
        bucket = (rows_done * 20 // rows_total) if rows_total else 0
        if now - self._last_write < PROGRESS_INTERVAL_SECONDS and bucket == self._last_bucket:
            return
        self._last_write = now
        self.job.rows_done, self.job.rows_total = rows_done, rows_total
        async with self.runtime.db.transaction() as uow:
            alive = await dao.renew(
                uow.session,
                job_id=self.job.id,
                worker_id=self.worker_id,
                lease_until=self.lease_until(),
                rows_done=rows_done,
                rows_total=rows_total,
            )
            if alive and bucket != self._last_bucket:
                await publish(
                    uow,
                    self.runtime.events,
                    JOB_PROGRESS,
                    job_event(self.job, status=dao.RUNNING),
                    aggregate_id=self.job.id,
                )
        self._last_bucket = bucket
        if not alive:
            raise JobStopped


async def claim_job(runtime: Runtime, worker_id: str) -> ReportJobDO | None:
    """Lease the next due job; jobs interrupted too often are failed on the way."""
    settings = runtime.settings.report
    while True:
        now = utcnow()
        async with runtime.db.read() as session:
            if not await dao.any_claimable(session, now):
                return None  # an idle poll must not take the (SQLite: only) write lock
        async with runtime.db.transaction() as uow:
            job = await dao.claim_next(
                uow.session,
                now=now,
                lease_until=now + timedelta(seconds=settings.job_lease_seconds),
                worker_id=worker_id,
                lock=not runtime.db.is_sqlite,
            )
            if job is None:
                return None
            if job.attempts <= settings.job_max_attempts:
                uow.session.expunge(job)
                if job.attempts > 1:
                    log.warning("job_restarted", job_id=job.id, attempt=job.attempts)
                return job
            job.status = dao.FAILED
            job.error_code = "report.too_many_attempts"
            job.error_detail = "The job was interrupted too often; start it again."
            job.finished_at = now
            job.expires_at = now + timedelta(days=settings.file_ttl_days)
            job.lease_until = None
            await publish(uow, runtime.events, JOB_FINISHED, job_event(job), aggregate_id=job.id)
            log.warning("job_gave_up", job_id=job.id, attempts=job.attempts - 1)


async def run_job(runtime: Runtime, job: ReportJobDO, worker_id: str) -> None:
    """Run one claimed job to its end: succeeded, failed, or stopped (cancelled/taken over)."""
    from tessera.blocks.report.service.imports import ImportRejected, run_import

    lease = _Lease(runtime, job, worker_id)
    log.info("job_started", job_id=job.id, direction=job.direction, kind=job.kind)
    file_id: str | None = None
    values: dict[str, object]
    try:
        if job.direction == "export":
            file_id, export_name, rows = await run_export(runtime, job, lease)
            values = {"file_id": file_id, "file_name": export_name, "rows_done": rows}
        else:
            file_id, import_name, rows, result = await run_import(runtime, job, lease)
            values = {
                "file_id": file_id,
                "file_name": import_name,
                "rows_done": rows,
                "rows_total": ImportResult.model_validate_json(result).rows_total,
                "result": result,
            }
        values["status"] = dao.SUCCEEDED
    except JobStopped:
        log.info("job_stopped", job_id=job.id)
        return
    except ImportRejected as exc:  # strict import with problems: the annotated sheet stays
        file_id = exc.file_id
        values = {
            "status": dao.FAILED,
            "error_code": exc.code,
            "error_detail": exc.detail[:1000],
            "file_id": exc.file_id,
            "file_name": "import-errors.xlsx" if exc.file_id else None,
            "rows_done": 0,
            "rows_total": exc.result.rows_total,
            "result": exc.result.model_dump_json(),
        }
    except asyncio.CancelledError:
        raise
    except DomainError as exc:
        values = {"status": dao.FAILED, "error_code": exc.code, "error_detail": exc.detail[:1000]}
    except Exception as exc:
        log.exception("job_failed", job_id=job.id)
        values = {
            "status": dao.FAILED,
            "error_code": "report.internal_error",
            "error_detail": f"The job failed unexpectedly ({type(exc).__name__}); see the log.",
        }
    now = utcnow()
    values.update(finished_at=now, expires_at=now + expiry(runtime))
    async with runtime.db.transaction() as uow:
        finished = await dao.finish(uow.session, job_id=job.id, worker_id=worker_id, values=values)
        if finished:
            for key, value in values.items():
                setattr(job, key, value)
            await publish(uow, runtime.events, JOB_FINISHED, job_event(job), aggregate_id=job.id)
    if not finished and file_id is not None:
        # Cancelled (or taken over) after the file was stored: nobody will download it.
        await file_service.delete_generated_file(runtime=runtime, file_id=file_id)
    log.info("job_finished", job_id=job.id, status=values["status"], finished=finished)


async def run_jobs(*, runtime: Runtime, worker_id: str | None = None) -> int:
    """Claim and run due jobs one after another until none is left; returns how many ran."""
    worker_id = worker_id or new_worker_id()
    count = 0
    while (job := await claim_job(runtime, worker_id)) is not None:
        await run_job(runtime, job, worker_id)
        count += 1
    return count


def new_worker_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobRunner:
    """The worker side of one process: runs jobs in background tasks (at most
    `report.max_concurrent_jobs`), woken by `report.job_queued` and by a periodic poll."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.worker_id = new_worker_id()
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: dict[str, ReportJobDO] = {}
        self._stopping = False

    def kick(self) -> None:
        """Start looking for work if there is room (cheap; safe to call often)."""
        if self._stopping:
            return
        while len(self._tasks) < self.runtime.settings.report.max_concurrent_jobs:
            task = asyncio.create_task(self._loop(), name="report-jobs")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            if len(self._tasks) >= 1 and not self._running:
                break  # one looker is enough until it finds a job

    async def _loop(self) -> None:
        try:
            while not self._stopping:
                job = await claim_job(self.runtime, self.worker_id)
                if job is None:
                    return
                self._running[job.id] = job
                if len(self._tasks) < self.runtime.settings.report.max_concurrent_jobs:
                    self.kick()  # others may be waiting: let another task look
                try:
                    await run_job(self.runtime, job, self.worker_id)
                finally:
                    self._running.pop(job.id, None)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job_runner_failed")

    async def idle(self) -> None:
        """Wait until every job this runner started has ended (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel running jobs and hand them back to the queue for the next worker."""
        self._stopping = True
        running = list(self._running)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if running:
            async with self.runtime.db.transaction() as uow:
                await dao.release(uow.session, job_ids=running, worker_id=self.worker_id)
            log.info("jobs_released", jobs=running)


RUNNER = Slot[JobRunner]("report.runner", owner="report")
