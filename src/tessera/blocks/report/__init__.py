"""The report block: Excel exports (direct or as jobs) and the product import, PDF invoices
and packing slips. Long work runs in the worker (`JobRunner`), never on the event loop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tessera.blocks.order.events import ORDER_PAID, ORDER_TOPICS, OrderEvent
from tessera.blocks.report import service
from tessera.blocks.report.controller import router
from tessera.blocks.report.events import JOB_QUEUED, JobEvent
from tessera.lib.mail import Attachment, add_attachment_source
from tessera.lib.runtime import Block, Runtime
from tessera.lib.tasks import Event

RUN_HANDLER = "report.run_jobs"
DOCUMENT_HANDLER = "report.order_documents"


async def _start(runtime: Runtime) -> None:
    # Handlers and periodic jobs run only in the worker (tessera worker, or in-process in
    # embedded mode); the runner lives there too, so API processes never run jobs.
    runner = runtime.slots.find(service.RUNNER)
    if runner is None:
        runner = service.JobRunner(runtime)
        runtime.slots.put(service.RUNNER, runner)
    if runtime.events.is_subscribed(RUN_HANDLER):
        return

    async def attach_invoice(template: str, params: Mapping[str, Any]) -> list[Attachment]:
        return await service.invoice_attachments(runtime, template, params)

    add_attachment_source(runtime, attach_invoice)

    async def wake(event: Event[JobEvent]) -> None:
        runner.kick()

    async def poll() -> None:
        runner.kick()

    async def expire() -> None:
        await service.expire_jobs(runtime=runtime)

    async def refresh_invoice(event: Event[OrderEvent]) -> None:
        await service.refresh_invoice(
            runtime=runtime, order_id=event.data.order_id, create=event.topic == ORDER_PAID.name
        )

    settings = runtime.settings.report
    runtime.events.subscribe(JOB_QUEUED, RUN_HANDLER, wake)
    for topic in ORDER_TOPICS:
        runtime.events.subscribe(topic, f"{DOCUMENT_HANDLER}.{topic.name}", refresh_invoice)
    runtime.events.every(settings.job_poll_interval_seconds, "report.poll_jobs", poll)
    runtime.events.every(settings.expire_check_interval_seconds, "report.expire_files", expire)


async def _stop(runtime: Runtime) -> None:
    runner = runtime.slots.pop(service.RUNNER)
    if runner is not None:
        await runner.stop()


block = Block(
    name="report",
    router=router,
    # order and user own the rows exported; file stores the files (and sets up storage).
    depends_on=("user", "order", "file"),
    on_startup=(_start,),
    on_shutdown=(_stop,),
    description="Excel exports and imports, PDF invoices",
    upload_paths=(r"/api/v1/products/import",),
)
