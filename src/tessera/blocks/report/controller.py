"""HTTP endpoints of the report block: exports (direct and as jobs), the product import and
its template, jobs, and order PDFs.

The export and template paths sit under other blocks' resources (`/orders/export.xlsx` next
to `/orders/{order_id}`); `create_app` puts fixed paths before parameterised ones, so they are
reached whichever block registered first.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator, Callable
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.requests import Request as StarletteRequest
from starlette.types import Message

from tessera.blocks.report import service
from tessera.blocks.report.model.dto import (
    ExportIn,
    ImportMode,
    ImportResult,
    JobAccepted,
    JobOut,
    OrderFilters,
    OrderStatus,
    ProductFilters,
    UserFilters,
)
from tessera.lib.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, problem_responses
from tessera.lib.pagination import Page, Paging
from tessera.lib.runtime import RuntimeDep
from tessera.lib.security import CurrentUser, Principal, require_permission
from tessera.lib.types import MoneyFilter, PathId, QueryId

router = APIRouter(prefix="/api/v1")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ProductManager = Annotated[Principal, Depends(require_permission("product:manage"))]
EXPORT_ERRORS = problem_responses(401, 403, 413, 422)
JOB_ERRORS = problem_responses(401, 404)
# Job ids are 32 hex digits; anything longer is not worth a database lookup.
JobId = Annotated[str, Path(min_length=1, max_length=64)]
FORMATS: tuple[Literal["xlsx", "csv"], ...] = ("xlsx", "csv")
FILE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            XLSX_TYPE: {},
            "text/csv": {},
        },
        "description": "The file, streamed",
    }
}


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name."""
    fallback = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(name)}"


def _direct(export: service.DirectExport) -> StreamingResponse:
    return StreamingResponse(
        export.chunks,
        media_type=export.media_type,
        headers={
            "Content-Disposition": content_disposition(export.file_name),
            "Cache-Control": "private, no-store",
        },
    )


# --- direct exports: GET /orders/export.xlsx etc. -------------------------------------------


def _order_export(fmt: Literal["xlsx", "csv"]) -> Callable[..., Any]:
    async def export_orders(
        runtime: RuntimeDep,
        principal: CurrentUser,
        order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
        user_id: QueryId = None,
    ) -> StreamingResponse:
        filters = OrderFilters(status=order_status, user_id=user_id)
        return _direct(
            await service.export_directly(
                runtime=runtime, principal=principal, kind="orders", fmt=fmt, filters=filters
            )
        )

    export_orders.__doc__ = (
        f"Your orders as {fmt} (with `order:read:any`: everyone's), filtered like `GET /orders`; "
        "above `report.direct_export_max_rows` rows: 413, start a job instead."
    )
    return export_orders


def _product_export(fmt: Literal["xlsx", "csv"]) -> Callable[..., Any]:
    async def export_products(
        runtime: RuntimeDep,
        principal: ProductManager,
        q: Annotated[str | None, Query(max_length=100)] = None,
        min_price: Annotated[MoneyFilter | None, Query()] = None,
        max_price: Annotated[MoneyFilter | None, Query()] = None,
        product_status: Annotated[
            Literal["active", "inactive"] | None, Query(alias="status")
        ] = None,
    ) -> StreamingResponse:
        filters = ProductFilters(
            q=q, min_price=min_price, max_price=max_price, status=product_status
        )
        return _direct(
            await service.export_directly(
                runtime=runtime, principal=principal, kind="products", fmt=fmt, filters=filters
            )
        )

    export_products.__doc__ = (
        f"The catalogue as {fmt} (`product:manage`), filtered like `GET /products`."
    )
    return export_products


def _user_export(fmt: Literal["xlsx", "csv"]) -> Callable[..., Any]:
    async def export_users(
        runtime: RuntimeDep,
        principal: CurrentUser,
        q: Annotated[str | None, Query(max_length=100)] = None,
        role: Annotated[str | None, Query(max_length=32)] = None,
        is_active: bool | None = None,
    ) -> StreamingResponse:
        filters = UserFilters(q=q, role=role, is_active=is_active)
        return _direct(
            await service.export_directly(
                runtime=runtime, principal=principal, kind="users", fmt=fmt, filters=filters
            )
        )

    export_users.__doc__ = f"Users as {fmt} (`user:manage`), filtered like `GET /users`."
    return export_users


for _fmt in FORMATS:
    for _path, _factory, _tag in (
        ("/orders", _order_export, "orders"),
        ("/products", _product_export, "products"),
        ("/users", _user_export, "admin"),
    ):
        router.add_api_route(
            f"{_path}/export.{_fmt}",
            _factory(_fmt),
            methods=["GET"],
            tags=[_tag, "reports"],
            response_class=StreamingResponse,
            responses={**FILE_RESPONSE, **EXPORT_ERRORS},
            name=f"export_{_tag}_{_fmt}",
        )


# --- export jobs ------------------------------------------------------------------------------


@router.post(
    "/reports/exports",
    tags=["reports"],
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(400, 401, 403, 422),
)
async def create_export(body: ExportIn, runtime: RuntimeDep, principal: CurrentUser) -> JobAccepted:
    """Start an export job; poll its `url` (or listen on `user:<id>`), then download its file."""
    return await service.create_export(runtime=runtime, principal=principal, request=body)


def _job_routes(direction: Literal["export", "import"]) -> None:
    base = f"/reports/{direction}s"

    async def list_jobs(
        runtime: RuntimeDep,
        principal: CurrentUser,
        paging: Paging,
        owner_id: QueryId = None,
    ) -> Page[JobOut]:
        """Your jobs, newest first (`report:read:any`: anyone's, with `owner_id`)."""
        return await service.list_jobs(
            runtime=runtime,
            principal=principal,
            paging=paging,
            direction=direction,
            owner_id=owner_id,
        )

    async def get_job(job_id: JobId, runtime: RuntimeDep, principal: CurrentUser) -> JobOut:
        """Status and progress (`rows_done` of `rows_total`); someone else's job is 404."""
        return await service.get_job(
            runtime=runtime, principal=principal, job_id=job_id, direction=direction
        )

    async def cancel_job(job_id: JobId, runtime: RuntimeDep, principal: CurrentUser) -> JobOut:
        """Cancel a queued or running job (a finished one is left as it is)."""
        return await service.cancel_job(
            runtime=runtime, principal=principal, job_id=job_id, direction=direction
        )

    async def download(
        job_id: JobId,
        runtime: RuntimeDep,
        principal: CurrentUser,
        range_header: Annotated[str | None, Header(alias="Range")] = None,
    ) -> Response:
        """The job's file, streamed from storage (409 until it succeeded, 410 once expired)."""
        job, download = await service.open_job_file(
            runtime=runtime,
            principal=principal,
            job_id=job_id,
            direction=direction,
            range_header=range_header,
        )
        body = download.body
        headers = {
            "Content-Disposition": content_disposition(job.file_name or download.file.name),
            "Content-Length": str(body.length),
            "Accept-Ranges": "bytes",
            "Cache-Control": "private, no-store",
        }
        code = status.HTTP_200_OK
        if download.byte_range is not None:
            code = status.HTTP_206_PARTIAL_CONTENT
            piece = download.byte_range
            headers["Content-Range"] = f"bytes {piece.offset}-{piece.last}/{download.file.size}"

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in body:
                    yield chunk
            finally:
                await body.aclose()

        return StreamingResponse(
            chunks(), status_code=code, media_type=download.file.content_type, headers=headers
        )

    tags: list[str | Enum] = ["reports"]
    router.add_api_route(
        base,
        list_jobs,
        methods=["GET"],
        tags=tags,
        responses=problem_responses(401, 403, 422),
        name=f"list_{direction}s",
    )
    router.add_api_route(
        f"{base}/{{job_id}}",
        get_job,
        methods=["GET"],
        tags=tags,
        responses=JOB_ERRORS,
        name=f"get_{direction}",
    )
    router.add_api_route(
        f"{base}/{{job_id}}",
        cancel_job,
        methods=["DELETE"],
        tags=tags,
        responses=JOB_ERRORS,
        name=f"cancel_{direction}",
    )
    suffix = "file" if direction == "export" else "annotated.xlsx"
    router.add_api_route(
        f"{base}/{{job_id}}/{suffix}",
        download,
        methods=["GET"],
        tags=tags,
        response_class=StreamingResponse,
        responses=problem_responses(401, 404, 409, 410, 416),
        name=f"download_{direction}",
    )


_job_routes("export")
_job_routes("import")


# --- the product import -----------------------------------------------------------------------

MULTIPART_OVERHEAD = 64 * 1024


async def _spooled_upload(request: Request, max_bytes: int) -> tuple[Any, int, str | None]:
    """The multipart `file` part, spooled (memory, then disk), refused past `max_bytes`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(
            f"The file is larger than {max_bytes} bytes.", code="report.import_too_large"
        )
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            "Send the workbook as multipart/form-data in a part named file.",
            code="report.multipart_required",
        )
    received = 0

    async def counting_receive() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > max_bytes + MULTIPART_OVERHEAD:
            raise PayloadTooLarge(
                f"The file is larger than {max_bytes} bytes.", code="report.import_too_large"
            )
        return message

    limited = StarletteRequest(request.scope, counting_receive)
    try:
        form = await limited.form(max_files=1, max_fields=10)
    except PayloadTooLarge:
        raise
    except Exception as exc:
        raise BadRequest(
            "The multipart body cannot be read.", code="request.malformed_multipart"
        ) from exc
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise UnsupportedMediaType(
            "Send the workbook in a multipart part named file.", code="report.file_missing"
        )
    spooled = upload.file
    spooled.seek(0, 2)
    size = spooled.tell()
    spooled.seek(0)
    if size > max_bytes:
        raise PayloadTooLarge(
            f"The file is larger than {max_bytes} bytes.", code="report.import_too_large"
        )
    return spooled, size, upload.filename


@router.post(
    "/products/import",
    tags=["products", "reports"],
    responses={
        202: {"model": JobAccepted, "description": "A large file: imported by a job"},
        **problem_responses(400, 401, 403, 413, 415, 422),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def import_products(
    request: Request,
    runtime: RuntimeDep,
    principal: ProductManager,
    mode: ImportMode = "strict",
) -> ImportResult:
    """Create products from an xlsx (see the template). `strict`: all rows or none (422 with
    every problem, and an annotated sheet); `partial`: the valid rows, the others reported.
    Files above `report.import_inline_max_bytes` are imported by a job (202)."""
    source, size, filename = await _spooled_upload(
        request, runtime.settings.report.import_max_bytes
    )
    service.check_name(filename)
    try:
        outcome = await service.import_products(
            runtime=runtime,
            principal=principal,
            source=source,
            size=size,
            filename=filename,
            mode=mode,
        )
    finally:
        source.close()
    if isinstance(outcome, JobAccepted):
        return JSONResponse(  # type: ignore[return-value]
            outcome.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED
        )
    return outcome.result


@router.get(
    "/products/import-template.xlsx",
    tags=["products", "reports"],
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}}},
)
async def import_template() -> Response:
    """The import template: one column per field, with notes and validation lists."""
    return Response(
        service.template_bytes(),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": content_disposition("products-import-template.xlsx")},
    )


# --- order PDFs ---------------------------------------------------------------------------------


def _pdf(name: str, data: bytes) -> Response:
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(name).replace("attachment", "inline", 1),
            "Cache-Control": "private, no-cache",
        },
    )


@router.get(
    "/orders/{order_id}/invoice.pdf",
    tags=["orders", "reports"],
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 404)},
)
async def invoice(order_id: PathId, runtime: RuntimeDep, principal: CurrentUser) -> Response:
    """The order's invoice (its owner, or staff): seller, buyer, items, tax, totals, QR code."""
    name, data = await service.order_document_pdf(
        runtime=runtime, principal=principal, order_id=order_id, kind="invoice"
    )
    return _pdf(name, data)


@router.get(
    "/orders/{order_id}/packing-slip.pdf",
    tags=["orders", "reports"],
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 403, 404)},
)
async def packing_slip(order_id: PathId, runtime: RuntimeDep, principal: CurrentUser) -> Response:
    """Staff (`order:manage`): what to pick and pack, without prices."""
    name, data = await service.order_document_pdf(
        runtime=runtime, principal=principal, order_id=order_id, kind="packing_slip"
    )
    return _pdf(name, data)
