"""HTTP endpoints of the file block: `/api/v1/files*`, `/api/v1/users/me/avatar`,
`/api/v1/users/{id}/avatar` and `/api/v1/orders/{id}/documents`.

Uploads take the raw `Request` on purpose: FastAPI's `UploadFile` would spool the whole body
to a temporary file before the handler runs, so the size limit would fire only after reading
everything. `MultipartUpload` parses the stream as it arrives instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from tessera.blocks.file import service
from tessera.blocks.file.model.dto import PURPOSES, AvatarOut, FileOut, Purpose
from tessera.blocks.file.multipart import MAX_NON_FILE_BYTES, MultipartUpload
from tessera.blocks.file.utility import content_disposition, sanitize_filename
from tessera.lib.errors import PayloadTooLarge, problem_responses
from tessera.lib.pagination import Page, Paging
from tessera.lib.runtime import RuntimeDep
from tessera.lib.security import CurrentUser
from tessera.lib.types import MAX_ID, PathId

router = APIRouter(prefix="/api/v1")

FileId = Annotated[str, Path(min_length=1, max_length=64)]


def _multipart_body(*, with_purpose: bool, description: str) -> dict[str, Any]:
    properties: dict[str, Any] = {"file": {"type": "string", "format": "binary"}}
    if with_purpose:
        properties["purpose"] = {"type": "string", "enum": list(PURPOSES), "default": "attachment"}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "required": ["file"], "properties": properties}
                }
            },
        }
    }


_BINARY = {
    # The file's own media type, whatever was uploaded.
    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}
}
DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file", **_BINARY},
    206: {"description": "The requested range (Content-Range)", **_BINARY},
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    **problem_responses(401, 404, 416, 503),
}
UPLOAD_ERRORS = problem_responses(400, 401, 413, 415, 422, 503)


def _refuse_declared_oversize(request: Request, max_bytes: int) -> None:
    """A Content-Length that cannot fit is refused before reading a byte."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + MAX_NON_FILE_BYTES:
        raise PayloadTooLarge(f"The file is larger than {max_bytes} bytes.", code="file.too_large")


async def _receive(request: Request, max_bytes: int) -> tuple[MultipartUpload, str]:
    _refuse_declared_oversize(request, max_bytes)
    upload = MultipartUpload(request)
    await upload.start()
    return upload, sanitize_filename(upload.filename)


def _stream_response(
    download: service.Download,
    *,
    if_none_match: str | None,
    disposition: str = "attachment",
    cache_control: str = "private, no-cache",
) -> Response:
    file = download.file
    etag = f'"{file.sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": cache_control,
        "Content-Disposition": content_disposition(file.name, disposition=disposition),
    }
    body = download.body
    if if_none_match and download.byte_range is None and etag in _etags(if_none_match):
        return _NotModified(body, headers)
    media_type = file.content_type
    if media_type == "text/plain":
        media_type += "; charset=utf-8"
    headers["Content-Length"] = str(body.length)
    status_code = status.HTTP_200_OK
    if download.byte_range is not None:
        status_code = status.HTTP_206_PARTIAL_CONTENT
        last = download.byte_range.last
        headers["Content-Range"] = f"bytes {download.byte_range.offset}-{last}/{file.size}"

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async for chunk in body:
                yield chunk
        finally:
            await body.aclose()

    return StreamingResponse(
        chunks(), status_code=status_code, media_type=media_type, headers=headers
    )


def _etags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/") for part in header.split(",")} | (
        {"*"} if header.strip() == "*" else set()
    )


class _NotModified(Response):
    """A 304 that first releases the storage stream opened for it."""

    def __init__(self, body: Any, headers: dict[str, str]) -> None:
        super().__init__(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        self._opened = body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._opened.aclose()
        await super().__call__(scope, receive, send)


# --- files ---------------------------------------------------------------------------------


@router.post(
    "/files",
    tags=["files"],
    status_code=status.HTTP_201_CREATED,
    responses=UPLOAD_ERRORS,
    openapi_extra=_multipart_body(
        with_purpose=True, description="`file`, and optionally `purpose` (before or after it)."
    ),
)
async def upload_file(request: Request, runtime: RuntimeDep, principal: CurrentUser) -> FileOut:
    """Upload a file (streamed to storage; type detected from the content)."""
    upload, name = await _receive(request, runtime.settings.storage.max_upload_bytes)
    return await service.upload_file(runtime=runtime, principal=principal, upload=upload, name=name)


@router.get("/files", tags=["files"], responses=problem_responses(401, 403, 422))
async def list_files(
    runtime: RuntimeDep,
    principal: CurrentUser,
    paging: Paging,
    purpose: Purpose | None = None,
    owner_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="needs file:read:any")
    ] = None,
) -> Page[FileOut]:
    """Your files, newest first."""
    return await service.list_files(
        runtime=runtime, principal=principal, paging=paging, purpose=purpose, owner_id=owner_id
    )


@router.get("/files/{file_id}", tags=["files"], responses=problem_responses(401, 404))
async def get_file(file_id: FileId, runtime: RuntimeDep, principal: CurrentUser) -> FileOut:
    return await service.get_file(runtime=runtime, principal=principal, file_id=file_id)


@router.get(
    "/files/{file_id}/content",
    tags=["files"],
    response_class=StreamingResponse,
    responses=DOWNLOAD_RESPONSES,
)
async def download_file(
    file_id: FileId,
    runtime: RuntimeDep,
    principal: CurrentUser,
    range_header: Annotated[str | None, Header(alias="range")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The file's bytes; one `Range: bytes=...` gives 206 with Content-Range."""
    download = await service.open_file_content(
        runtime=runtime, principal=principal, file_id=file_id, range_header=range_header
    )
    return _stream_response(download, if_none_match=if_none_match)


@router.delete(
    "/files/{file_id}",
    tags=["files"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409),
)
async def delete_file(file_id: FileId, runtime: RuntimeDep, principal: CurrentUser) -> Response:
    """Delete the file; its bytes are removed in the background."""
    await service.delete_file(runtime=runtime, principal=principal, file_id=file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- avatars -------------------------------------------------------------------------------


@router.put(
    "/users/me/avatar",
    tags=["users"],
    responses=UPLOAD_ERRORS,
    openapi_extra=_multipart_body(
        with_purpose=False, description="`file`: a PNG, JPEG or WebP image."
    ),
)
async def put_avatar(request: Request, runtime: RuntimeDep, principal: CurrentUser) -> AvatarOut:
    """Set your avatar: re-encoded (metadata stripped) as 256x256 and 64x64 PNG."""
    upload, _ = await _receive(request, runtime.settings.storage.max_avatar_bytes)
    return await service.set_avatar(runtime=runtime, principal=principal, upload=upload)


@router.delete(
    "/users/me/avatar",
    tags=["users"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 404),
)
async def delete_avatar(runtime: RuntimeDep, principal: CurrentUser) -> Response:
    await service.remove_avatar(runtime=runtime, principal=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/users/{user_id}/avatar",
    tags=["users"],
    response_class=StreamingResponse,
    responses={
        200: {"description": "PNG image", "content": {"image/png": {}}},
        **problem_responses(404),
    },
)
async def get_avatar(
    user_id: PathId,
    runtime: RuntimeDep,
    size: Annotated[
        int, Query(description="256 or 64 (pixels)", json_schema_extra={"enum": [256, 64]})
    ] = 256,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """A user's avatar. Public, like any profile picture: `<img>` cannot send a bearer token."""
    download = await service.open_avatar(runtime=runtime, user_id=user_id, size=size)
    return _stream_response(
        download,
        if_none_match=if_none_match,
        disposition="inline",
        cache_control="public, max-age=300",
    )


# --- order documents -------------------------------------------------------------------------


@router.post(
    "/orders/{order_id}/documents",
    tags=["orders"],
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 401, 404, 413, 415, 422, 503),
    openapi_extra=_multipart_body(with_purpose=False, description="`file`: the document."),
)
async def upload_order_document(
    order_id: PathId, request: Request, runtime: RuntimeDep, principal: CurrentUser
) -> FileOut:
    """Attach a document to an order you can see (its owner, or staff)."""
    upload, name = await _receive(request, runtime.settings.storage.max_upload_bytes)
    return await service.upload_order_document(
        runtime=runtime, principal=principal, order_id=order_id, upload=upload, name=name
    )


@router.get(
    "/orders/{order_id}/documents", tags=["orders"], responses=problem_responses(401, 404, 422)
)
async def list_order_documents(
    order_id: PathId, runtime: RuntimeDep, principal: CurrentUser, paging: Paging
) -> Page[FileOut]:
    return await service.list_order_documents(
        runtime=runtime, principal=principal, order_id=order_id, paging=paging
    )
