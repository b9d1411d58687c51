"""Use cases of the report block, one module per concern; this package re-exports them, so
callers write `from tessera.blocks.report import service`.

- `exports`: direct downloads and export jobs (rows -> writer thread -> bytes -> storage).
- `imports`: the product import (template, checks, strict/partial, annotated sheet).
- `jobs`: owners' view of jobs (get, list, cancel, download, expiry) and the worker side
  (claim with a lease, progress, finish; `JobRunner`).
- `documents`: invoices and packing slips as PDF, kept as order documents.
- `sources`: what each export kind holds and where its rows come from.
- `common`: permissions, media types, the job's public shape, who may see a job.
"""

from tessera.blocks.report.service.common import READ_ANY
from tessera.blocks.report.service.documents import (
    invoice_attachments,
    invoice_pdf,
    order_document_pdf,
    refresh_invoice,
    render_order_pdf,
)
from tessera.blocks.report.service.exports import DirectExport, create_export, export_directly
from tessera.blocks.report.service.imports import (
    InlineImport,
    check_name,
    import_products,
    template_bytes,
)
from tessera.blocks.report.service.jobs import (
    RUNNER,
    JobRunner,
    cancel_job,
    expire_jobs,
    get_job,
    list_jobs,
    open_job_file,
    run_jobs,
)
from tessera.blocks.report.service.sources import SOURCES

__all__ = [
    "READ_ANY",
    "RUNNER",
    "SOURCES",
    "DirectExport",
    "InlineImport",
    "JobRunner",
    "cancel_job",
    "check_name",
    "create_export",
    "expire_jobs",
    "export_directly",
    "get_job",
    "import_products",
    "invoice_attachments",
    "invoice_pdf",
    "list_jobs",
    "open_job_file",
    "order_document_pdf",
    "refresh_invoice",
    "render_order_pdf",
    "run_jobs",
    "template_bytes",
]
