"""Product import from xlsx: the template, checking every row, strict or partial commit, and
the errors as JSON and as the uploaded sheet annotated.

Strict: all rows or none, in one transaction; any problem imports nothing. Partial: the valid
rows are committed (in batches), the others reported. Problems are precise: the cell (row and
column) and a stable code (`required`, `type`, `range`, `precision`, `invalid`, `too_long`,
`formula`, `cell_error`, `duplicate_in_file`, `sku_exists`, `unknown_column`,
`missing_column`, `duplicate_column`). Hostile files are refused before their XML is parsed
(`lib.office.reader`). Parsing and checking run in a thread; small uploads are imported in the
request, larger ones by a job in the worker (same code, with progress).
"""

from __future__ import annotations

import asyncio
import io
import json
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import IO, Any

from tessera.blocks.file import service as file_service
from tessera.blocks.order import service as order_service
from tessera.blocks.order.model.dto import ProductCreateIn
from tessera.blocks.report import dao
from tessera.blocks.report.events import JOB_QUEUED
from tessera.blocks.report.model.do import ReportJobDO
from tessera.blocks.report.model.dto import ImportMode, ImportProblem, ImportResult, JobAccepted
from tessera.blocks.report.service.common import XLSX_TYPE, job_event, job_url, log, stamp
from tessera.blocks.report.utility import (
    FIELDS,
    Header,
    Problem,
    ProductRow,
    check_row,
    read_header,
)
from tessera.lib.db import utcnow
from tessera.lib.errors import (
    DomainError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from tessera.lib.office import (
    Column,
    ReadLimits,
    SheetRow,
    WorkbookRejected,
    open_workbook,
    open_xlsx,
)
from tessera.lib.office.xlsx import column_letter
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.tasks import publish

MAX_LISTED_ERRORS = 1000
INSERT_BATCH = 1000
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlam", ".xlsb")


class ImportRejected(DomainError):
    """Strict import with problems (or a sheet whose header is wrong): nothing was imported."""

    status, code, title = 422, "report.import_rejected", "Import rejected"

    def __init__(self, detail: str, *, result: ImportResult, file_id: str | None) -> None:
        super().__init__(detail)
        self.result = result
        self.file_id = file_id


@dataclass
class Analysis:
    header: Header | None
    rows: list[SheetRow] = field(default_factory=list)
    products: list[ProductRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _limits(runtime: Runtime) -> ReadLimits:
    settings = runtime.settings.report
    return ReadLimits(
        max_uncompressed_bytes=settings.import_max_uncompressed_bytes,
        max_compression_ratio=settings.import_max_compression_ratio,
        max_rows=settings.import_max_rows + 1,  # plus the header
        max_columns=settings.import_max_columns,
    )


def _rejection(exc: WorkbookRejected) -> DomainError:
    code = f"report.{exc.code}"
    if exc.code in ("not_xlsx", "macro_enabled", "encrypted"):
        return UnsupportedMediaType(exc.detail, code=code)
    if exc.code in ("too_large", "too_many_rows"):
        return PayloadTooLarge(exc.detail, code=code)
    return ValidationFailed(
        exc.detail,
        code=code,
        errors=[{"loc": ["body", "file"], "msg": exc.detail, "type": exc.code}],
    )


def check_name(filename: str | None) -> None:
    if filename and filename.lower().endswith(MACRO_EXTENSIONS):
        raise UnsupportedMediaType(
            "Macro-enabled and binary workbooks (.xlsm, .xlsb, ...) are not accepted; save the "
            "sheet as .xlsx.",
            code="report.macro_enabled",
        )


def analyse(
    source: IO[bytes],
    limits: ReadLimits,
    *,
    default_currency: str,
) -> Analysis:
    """Read and check every row (CPU work: call it in a thread)."""
    workbook = open_workbook(source, limits)
    try:
        analysis = Analysis(header=None)
        first_sku: dict[str, int] = {}
        for row in workbook.rows():
            if analysis.header is None:
                analysis.header = read_header(row)
                analysis.problems.extend(analysis.header.problems)
                if analysis.header.problems:
                    return analysis  # rows cannot be read against a wrong header
                continue
            analysis.rows.append(row)
            verdict = check_row(row, analysis.header, default_currency=default_currency)
            if isinstance(verdict, list):
                analysis.problems.extend(verdict)
            elif verdict.sku in first_sku:
                index = analysis.header.columns["sku"]
                analysis.problems.append(
                    Problem(
                        row.number,
                        "sku",
                        f"{column_letter(index)}{row.number}",
                        "duplicate_in_file",
                        f"SKU {verdict.sku} is already on row {first_sku[verdict.sku]}.",
                    )
                )
            else:
                first_sku[verdict.sku] = row.number
                analysis.products.append(verdict)
        if analysis.header is None:
            analysis.problems.append(
                Problem(None, None, None, "empty", "The sheet is empty: no header row.")
            )
        return analysis
    finally:
        workbook.close()


async def _mark_existing(runtime: Runtime, analysis: Analysis) -> None:
    """Rows whose SKU the catalogue already has become `sku_exists` problems."""
    if not analysis.products or analysis.header is None:
        return
    existing: set[str] = set()
    skus = [product.sku for product in analysis.products]
    for start in range(0, len(skus), INSERT_BATCH):
        existing |= await order_service.existing_skus(
            runtime=runtime, skus=skus[start : start + INSERT_BATCH]
        )
    if not existing:
        return
    letter = column_letter(analysis.header.columns["sku"])
    kept: list[ProductRow] = []
    for product in analysis.products:
        if product.sku in existing:
            analysis.problems.append(
                Problem(
                    product.row,
                    "sku",
                    f"{letter}{product.row}",
                    "sku_exists",
                    f"A product with SKU {product.sku} already exists.",
                )
            )
        else:
            kept.append(product)
    analysis.products = kept


def _create_in(product: ProductRow) -> ProductCreateIn:
    return ProductCreateIn.model_construct(
        sku=product.sku,
        name=product.name,
        description=product.description,
        price=product.price,
        currency=product.currency,
        stock=product.stock,
        status=product.status,  # type: ignore[arg-type]
    )


async def _commit(
    runtime: Runtime,
    analysis: Analysis,
    mode: ImportMode,
    progress: Callable[[int, int | None], Any],
) -> int:
    """Create the valid products; strict: all in one transaction. Returns how many."""
    products = analysis.products
    if mode == "strict":
        await order_service.create_products(
            runtime=runtime, products=[_create_in(p) for p in products]
        )
        await progress(len(products), len(products))
        return len(products)
    created = 0
    for start in range(0, len(products), INSERT_BATCH):
        batch = products[start : start + INSERT_BATCH]
        rejected = await order_service.create_products_where_new(
            runtime=runtime, products=[_create_in(p) for p in batch]
        )
        # A SKU someone created meanwhile: reported like any other existing SKU.
        for product in batch:
            if product.sku in rejected:
                analysis.problems.append(
                    Problem(
                        product.row,
                        "sku",
                        None,
                        "sku_exists",
                        f"A product with SKU {product.sku} already exists.",
                    )
                )
        created += len(batch) - len(rejected)
        await progress(created, len(products))
    return created


def _result(analysis: Analysis, mode: ImportMode, imported: int) -> ImportResult:
    failed_rows = {problem.row for problem in analysis.problems if problem.row is not None}
    header_row = analysis.header.row if analysis.header else None
    failed_rows.discard(header_row)
    problems = sorted(
        analysis.problems, key=lambda p: (p.row or 0, FIELD_ORDER.get(p.column or "", 99))
    )
    return ImportResult(
        mode=mode,
        rows_total=len(analysis.rows),
        rows_imported=imported,
        rows_failed=len(failed_rows) if mode == "partial" or imported == 0 else 0,
        errors=[
            ImportProblem(row=p.row, column=p.column, cell=p.cell, code=p.code, message=p.message)
            for p in problems[:MAX_LISTED_ERRORS]
        ],
        errors_truncated=len(problems) > MAX_LISTED_ERRORS,
    )


FIELD_ORDER = {field_.name: i for i, field_ in enumerate(FIELDS)}


def _annotate(source: IO[bytes], analysis: Analysis, limits: ReadLimits, target: IO[bytes]) -> None:
    """The uploaded sheet again, with an `errors` column and the faulty cells in red."""
    by_row: dict[int, list[Problem]] = {}
    for problem in analysis.problems:
        by_row.setdefault(problem.row or 0, []).append(problem)
    source.seek(0)
    workbook = open_workbook(source, limits)
    try:
        rows = workbook.rows()
        header_row = next(rows, None)
        labels = [("" if v is None else str(v)) for v in (header_row.values if header_row else [])]
        columns = [Column(label or f"column {i + 1}", "auto") for i, label in enumerate(labels)]
        columns.append(Column("errors 错误", "text", width=60))
        writer = open_xlsx(target, columns, sheet_name="Import errors")
        width = len(labels)
        index_of = analysis.header.columns if analysis.header else {}
        for row in rows:
            problems = by_row.get(row.number, [])
            values = (row.values + [None] * width)[:width]
            highlight = {index_of[p.column] for p in problems if p.column in index_of}
            writer.write_row(
                [*values, "; ".join(f"{p.column}: {p.message}" for p in problems)],
                highlight=highlight,
            )
        writer.close()
    finally:
        workbook.close()


async def _store_annotated(
    runtime: Runtime, owner_id: int, source: IO[bytes], analysis: Analysis
) -> str:
    buffer = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
    try:
        await asyncio.to_thread(_annotate, source, analysis, _limits(runtime), buffer)
        buffer.seek(0)

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await asyncio.to_thread(buffer.read, 256 * 1024):
                yield chunk

        stored = await file_service.store_generated_file(
            runtime=runtime,
            owner_id=owner_id,
            chunks=chunks(),
            name=f"import-errors-{stamp(utcnow())}.xlsx",
            content_type=XLSX_TYPE,
            purpose="report",
        )
        return stored.id
    finally:
        buffer.close()


async def _import(
    runtime: Runtime,
    *,
    owner_id: int,
    source: IO[bytes],
    mode: ImportMode,
    progress: Callable[[int, int | None], Any],
) -> tuple[ImportResult, str | None]:
    """Analyse, check against the catalogue, commit; the annotated sheet if anything failed."""
    default_currency = runtime.settings.order.default_currency
    try:
        analysis = await asyncio.to_thread(
            analyse, source, _limits(runtime), default_currency=default_currency
        )
    except WorkbookRejected as exc:
        raise _rejection(exc) from exc
    await _mark_existing(runtime, analysis)
    header_broken = analysis.header is None or bool(analysis.header.problems)
    imported = 0
    if not header_broken and not (mode == "strict" and analysis.problems):
        await progress(0, len(analysis.products))
        imported = await _commit(runtime, analysis, mode, progress)
    result = _result(analysis, mode, imported)
    annotated = None
    if analysis.problems and not header_broken:
        annotated = await _store_annotated(runtime, owner_id, source, analysis)
    if header_broken or (mode == "strict" and analysis.problems):
        raise ImportRejected(
            f"Nothing was imported: {len(analysis.problems)} problem(s) found"
            + (" in the header." if header_broken else "."),
            result=result,
            file_id=annotated,
        )
    return result, annotated


def _problem_errors(result: ImportResult) -> list[dict[str, Any]]:
    return [
        {
            "loc": ["body", "file", *(x for x in (error.row, error.column) if x is not None)],
            "msg": f"{error.cell + ': ' if error.cell else ''}{error.message}",
            "type": error.code,
        }
        for error in result.errors
    ]


def _import_job(owner_id: int, mode: ImportMode, filename: str | None) -> ReportJobDO:
    return ReportJobDO(
        id=uuid.uuid4().hex,
        owner_id=owner_id,
        direction="import",
        kind="products",
        format="xlsx",
        params=json.dumps({"mode": mode, "file_name": filename}),
        status=dao.QUEUED,
        rows_done=0,
        attempts=0,
        created_at=utcnow(),
    )


@dataclass(frozen=True)
class InlineImport:
    job_id: str
    result: ImportResult


async def import_products(
    *,
    runtime: Runtime,
    principal: Principal,
    source: IO[bytes],
    size: int,
    filename: str | None,
    mode: ImportMode,
) -> InlineImport | JobAccepted:
    """Import now (small uploads) or queue a job (larger than `import_inline_max_bytes`)."""
    check_name(filename)
    settings = runtime.settings.report
    if size > settings.import_max_bytes:
        raise PayloadTooLarge(
            f"The file is larger than {settings.import_max_bytes} bytes.",
            code="report.import_too_large",
        )
    # Refuse what is not a workbook (or is a bomb) at once, even when a job will read it.
    try:
        await asyncio.to_thread(lambda: open_workbook(source, _limits(runtime)).close())
    except WorkbookRejected as exc:
        raise _rejection(exc) from exc
    source.seek(0)
    job = _import_job(principal.id, mode, filename)
    if size > settings.import_inline_max_bytes:
        return await _queue_import(runtime, job, source)
    job.status = dao.RUNNING
    job.started_at = utcnow()

    async def no_progress(rows: int, total: int | None) -> None:
        return None

    now = utcnow()
    from tessera.blocks.report.service.exports import expiry

    try:
        result, annotated = await _import(
            runtime, owner_id=principal.id, source=source, mode=mode, progress=no_progress
        )
    except ImportRejected as exc:
        job.status, job.error_code, job.error_detail = dao.FAILED, exc.code, exc.detail
        job.result, job.file_id = exc.result.model_dump_json(), exc.file_id
        job.rows_total = exc.result.rows_total
        job.finished_at, job.expires_at = now, now + expiry(runtime)
        async with runtime.db.transaction() as uow:
            await dao.add_job(uow.session, job)
        error = ValidationFailed(exc.detail, code=exc.code, errors=_problem_errors(exc.result))
        error.extra.update(
            import_id=job.id,
            annotated_url=f"{job_url(job)}/annotated.xlsx" if exc.file_id else None,
            errors_truncated=exc.result.errors_truncated,
        )
        raise error from None
    job.status, job.result, job.file_id = dao.SUCCEEDED, result.model_dump_json(), annotated
    job.rows_total, job.rows_done = result.rows_total, result.rows_imported
    job.finished_at, job.expires_at = now, now + expiry(runtime)
    async with runtime.db.transaction() as uow:
        await dao.add_job(uow.session, job)
    log.info(
        "import_done",
        job_id=job.id,
        mode=mode,
        imported=result.rows_imported,
        failed=result.rows_failed,
    )
    if annotated:
        result = result.model_copy(update={"annotated_url": f"{job_url(job)}/annotated.xlsx"})
    return InlineImport(job_id=job.id, result=result)


async def _queue_import(runtime: Runtime, job: ReportJobDO, source: IO[bytes]) -> JobAccepted:
    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await asyncio.to_thread(source.read, 256 * 1024):
            yield chunk

    stored = await file_service.store_generated_file(
        runtime=runtime,
        owner_id=job.owner_id,
        chunks=chunks(),
        name=f"import-{stamp(utcnow())}.xlsx",
        content_type=XLSX_TYPE,
        purpose="report",
    )
    job.source_file_id = stored.id
    async with runtime.db.transaction() as uow:
        await dao.add_job(uow.session, job)
        await publish(uow, runtime.events, JOB_QUEUED, job_event(job), aggregate_id=job.id)
    log.info("import_queued", job_id=job.id)
    return JobAccepted(id=job.id, status="queued", url=job_url(job))


async def run_import(
    runtime: Runtime, job: ReportJobDO, progress: Callable[[int, int | None], Any]
) -> tuple[str | None, str | None, int, str]:
    """The job's work: (annotated file id, its name, rows imported, result JSON)."""
    params = json.loads(job.params or "{}")
    mode: ImportMode = params.get("mode", "strict")
    if job.source_file_id is None:
        raise ValidationFailed("The uploaded sheet is gone.", code="report.source_missing")
    download = await file_service.open_generated_file(runtime=runtime, file_id=job.source_file_id)
    buffer = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
    try:
        try:
            async for chunk in download.body:
                await asyncio.to_thread(buffer.write, chunk)
        finally:
            await download.body.aclose()
        buffer.seek(0)
        await progress(0, None)
        result, annotated = await _import(
            runtime, owner_id=job.owner_id, source=buffer, mode=mode, progress=progress
        )
    finally:
        buffer.close()
    name = "import-errors.xlsx" if annotated else None
    return annotated, name, result.rows_imported, result.model_dump_json()


def template_bytes() -> bytes:
    """The import template: the header, a note on each column, and lists where they help."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Products")
    header = book.add_format({"bold": True, "bg_color": "#D9E1F2", "bottom": 1})
    required = book.add_format({"bold": True, "bg_color": "#FCE4D6", "bottom": 1})
    text = book.add_format({"num_format": "@"})
    money = book.add_format({"num_format": "#,##0.00"})
    widths = {
        "sku": 18,
        "name": 32,
        "description": 40,
        "price": 12,
        "currency": 10,
        "stock": 10,
        "status": 12,
    }
    last = 100_000
    for index, field_ in enumerate(FIELDS):
        sheet.write_string(0, index, field_.name, required if field_.required else header)
        sheet.write_comment(
            0,
            index,
            ("Required. " if field_.required else "Optional. ") + field_.help,
            {"x_scale": 2, "y_scale": 1.2},
        )
        column_format = (
            money if field_.name == "price" else text if field_.name != "stock" else None
        )
        sheet.set_column(index, index, widths[field_.name], column_format)
    columns = {field_.name: i for i, field_ in enumerate(FIELDS)}
    sheet.data_validation(
        1,
        columns["status"],
        last,
        columns["status"],
        {"validate": "list", "source": ["active", "inactive"]},
    )
    sheet.data_validation(
        1,
        columns["price"],
        last,
        columns["price"],
        {
            "validate": "decimal",
            "criteria": ">",
            "value": 0,
            "error_message": "A price greater than 0, e.g. 12.50",
        },
    )
    sheet.data_validation(
        1,
        columns["stock"],
        last,
        columns["stock"],
        {
            "validate": "integer",
            "criteria": "between",
            "minimum": 0,
            "maximum": 10_000_000,
            "error_message": "A whole number from 0 to 10,000,000",
        },
    )
    sheet.data_validation(
        1,
        columns["currency"],
        last,
        columns["currency"],
        {
            "validate": "length",
            "criteria": "==",
            "value": 3,
            "error_message": "A 3-letter code such as CNY",
        },
    )
    sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()
