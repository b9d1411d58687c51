"""Events the report block publishes (through the outbox, after commit).

All three carry `JobEvent`, addressed to the job's owner: the realtime block pushes them on
`user:<owner_id>` so a page can show progress and offer the download. `report.job_queued`
also wakes this block's own job runner in the worker (handler `report.run_jobs`).
"""

from __future__ import annotations

from tessera.lib.tasks import EventPayload, Topic


class JobEvent(EventPayload):
    job_id: str
    owner_id: int
    direction: str  # export | import
    kind: str  # orders | products | users
    status: str  # queued | running | succeeded | failed | cancelled
    rows_done: int = 0
    rows_total: int | None = None
    # Where the owner downloads the result once the job succeeded.
    file_url: str | None = None
    error_code: str | None = None


JOB_QUEUED = Topic("report.job_queued", JobEvent, description="An export or import job waits")
JOB_PROGRESS = Topic(
    "report.job_progress", JobEvent, description="A running job wrote more rows (every ~5%)"
)
JOB_FINISHED = Topic(
    "report.job_finished",
    JobEvent,
    description="A job succeeded, failed or was cancelled",
)
