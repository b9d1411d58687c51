"""Plain files: upload one, see its metadata, list them, download them (with ranges), delete
them; and the outbox handler that removes a deleted file's bytes.

Who may see a file: its owner, holders of `file:read:any`, and, for a document attached to
an order, whoever may see that order. Everyone else gets 404, never 403.
"""

from __future__ import annotations

import contextlib

from tessera.blocks.file import dao
from tessera.blocks.file.events import FileDeleted
from tessera.blocks.file.model.do import StoredFileDO
from tessera.blocks.file.model.dto import PURPOSES, FileOut
from tessera.blocks.file.service.common import (
    READ_ANY,
    Download,
    IncomingFile,
    delete_row,
    file_out,
    log,
    not_found,
    open_download,
)
from tessera.blocks.file.service.documents import may_view_order
from tessera.blocks.file.service.ingest import commit_row, discard, new_row, store
from tessera.lib.errors import Conflict, DomainError, Forbidden, ValidationFailed
from tessera.lib.pagination import Page, PageParams
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.storage import StorageNotFound, get_storage
from tessera.lib.tasks import Event


def _purpose_of(upload: IncomingFile, default: str) -> str:
    purpose = upload.fields.get("purpose", default) or default
    if purpose not in PURPOSES:
        raise ValidationFailed(
            "Unknown purpose.",
            code="file.invalid_purpose",
            errors=[
                {
                    "loc": ["body", "purpose"],
                    "msg": f"must be one of {', '.join(PURPOSES)}",
                    "type": "enum",
                }
            ],
        )
    return purpose


async def upload_file(
    *, runtime: Runtime, principal: Principal, upload: IncomingFile, name: str
) -> FileOut:
    """Store an upload for its owner; `purpose` may come before or after the file part."""
    _purpose_of(upload, "attachment")  # fail before storing when it came first
    settings = runtime.settings.storage
    stored = await store(
        runtime,
        upload.chunks(),
        name=name,
        max_bytes=settings.max_upload_bytes,
        allowed=settings.allowed_types,
    )
    try:
        purpose = _purpose_of(upload, "attachment")
    except DomainError:
        await discard(runtime, stored)
        raise
    return await commit_row(
        runtime, stored, new_row(stored, owner_id=principal.id, name=name, purpose=purpose)
    )


async def _visible_row(runtime: Runtime, principal: Principal, file_id: str) -> StoredFileDO:
    async with runtime.db.read() as session:
        row = await dao.get_file(session, file_id)
    if row is None:
        raise not_found()
    if row.owner_id == principal.id or principal.has(READ_ANY):
        return row
    if row.order_id is not None and await may_view_order(runtime, principal, row.order_id):
        return row
    raise not_found()


async def get_file(*, runtime: Runtime, principal: Principal, file_id: str) -> FileOut:
    return file_out(await _visible_row(runtime, principal, file_id))


async def list_files(
    *,
    runtime: Runtime,
    principal: Principal,
    paging: PageParams,
    purpose: str | None,
    owner_id: int | None,
) -> Page[FileOut]:
    """The caller's files; with `file:read:any`, anyone's (`owner_id`) or everyone's."""
    if owner_id is None:
        owner_id = principal.id
    elif owner_id != principal.id and not principal.has(READ_ANY):
        raise Forbidden(f"Missing permission {READ_ANY}.", code="auth.permission_denied")
    async with runtime.db.read() as session:
        rows, total = await dao.list_files(
            session, owner_id=owner_id, purpose=purpose, offset=paging.offset, limit=paging.size
        )
    return Page[FileOut].of([file_out(row) for row in rows], total, paging)


async def open_file_content(
    *, runtime: Runtime, principal: Principal, file_id: str, range_header: str | None
) -> Download:
    row = await _visible_row(runtime, principal, file_id)
    return await open_download(row, get_storage(runtime), range_header)


async def delete_file(*, runtime: Runtime, principal: Principal, file_id: str) -> None:
    """Delete the row now and the bytes through the outbox (retried while storage is down)."""
    async with runtime.db.transaction() as uow:
        row = await dao.get_file(uow.session, file_id)
        if row is None or (row.owner_id != principal.id and not principal.has(READ_ANY)):
            raise not_found()
        if row.owner_id != principal.id:
            raise Forbidden("Only the owner may delete a file.", code="file.not_owner")
        if row.purpose == "avatar":
            raise Conflict(
                "This is your avatar; replace or remove it under /users/me/avatar.",
                code="file.in_use",
            )
        await delete_row(uow, runtime, row)
    log.info("file_deleted", file_id=file_id)


async def delete_bytes(*, runtime: Runtime, event: Event[FileDeleted]) -> None:
    """Outbox handler of `file.deleted`: gone already counts as done; outages raise (retry).
    The tombstone goes only once the storage has confirmed."""
    storage = get_storage(runtime)
    backend = event.data.backend
    if backend != storage.backend:
        raise RuntimeError(f"file bytes are in the {backend} backend, which is not configured")
    with contextlib.suppress(StorageNotFound):
        await storage.delete(event.data.storage_key)
    async with runtime.db.transaction() as uow:
        await dao.delete_intents_for_key(uow.session, backend, event.data.storage_key)
