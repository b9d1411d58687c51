"""What the file block's use cases share: the upload and download types the controller
speaks, the row-to-DTO mapping, storage-error translation, streaming a stored row's bytes,
and deleting a row (which hands its bytes to the outbox through `file.deleted`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import structlog

from tessera.blocks.file import dao
from tessera.blocks.file.events import FILE_DELETED, FileDeleted
from tessera.blocks.file.model.do import StorageIntentDO, StoredFileDO
from tessera.blocks.file.model.dto import FileOut
from tessera.blocks.file.utility import Unsatisfiable, parse_range
from tessera.lib.db import UnitOfWork
from tessera.lib.errors import (
    DomainError,
    InsufficientStorage,
    NotFound,
    RangeNotSatisfiable,
    ServiceUnavailable,
)
from tessera.lib.runtime import Runtime
from tessera.lib.storage import (
    ByteRange,
    OpenedFile,
    Storage,
    StorageError,
    StorageFull,
    StorageNotFound,
)
from tessera.lib.tasks import publish

log = structlog.get_logger("tessera.file")

READ_ANY = "file:read:any"


class IncomingFile(Protocol):
    """An upload being received: its name, form fields seen so far, and its bytes."""

    @property
    def filename(self) -> str | None: ...

    @property
    def fields(self) -> Mapping[str, str]: ...

    def chunks(self) -> AsyncIterator[bytes]: ...


@dataclass
class Download:
    """A file's metadata and its opened bytes (the whole file, or `byte_range` of it)."""

    file: FileOut
    body: OpenedFile
    byte_range: ByteRange | None


def file_out(row: StoredFileDO) -> FileOut:
    return FileOut(
        id=row.id,
        name=row.name,
        size=row.size,
        content_type=row.content_type,
        sha256=row.sha256,
        purpose=row.purpose,
        order_id=row.order_id,
        owner_id=row.owner_id,
        created_at=row.created_at,
        download_url=f"/api/v1/files/{row.id}/content",
    )


def storage_failure(exc: StorageError) -> DomainError:
    """The answer a client gets when the backend fails: 507 full, 404 bytes gone, else 503."""
    if isinstance(exc, StorageFull):
        return InsufficientStorage("File storage is full.", code="storage.full")
    if isinstance(exc, StorageNotFound):
        return NotFound("The file's content is missing from storage.", code="file.content_missing")
    return ServiceUnavailable(
        "File storage is unavailable; try again later.", code="storage.unavailable"
    )


def not_found() -> NotFound:
    return NotFound("No such file.", code="file.not_found")


async def open_download(row: StoredFileDO, storage: Storage, range_header: str | None) -> Download:
    """Open a row's bytes, or the one range `range_header` asks for."""
    try:
        byte_range = parse_range(range_header, row.size)
    except Unsatisfiable:
        raise RangeNotSatisfiable(
            f"The file has {row.size} bytes.", size=row.size, code="file.range_not_satisfiable"
        ) from None
    if row.storage_backend != storage.backend:
        raise ServiceUnavailable(
            f"This file lives in the {row.storage_backend} backend, which is not configured.",
            code="storage.unavailable",
        )
    try:
        body = await storage.open(row.storage_key, byte_range)
    except StorageError as exc:
        log.warning("storage_open_failed", file_id=row.id, error=str(exc))
        raise storage_failure(exc) from exc
    return Download(file=file_out(row), body=body, byte_range=byte_range)


async def delete_row(uow: UnitOfWork, runtime: Runtime, row: StoredFileDO) -> None:
    """Delete the row in the caller's transaction; its bytes go when `file.deleted` is
    delivered after commit (and are retried while storage is down).

    A tombstone (an intent holding the key) is written with it and removed only once the
    storage has confirmed the delete: if the outbox gives up (storage down for longer than
    its retries), `tessera files sweep` still finds the key and deletes it later.
    """
    await dao.delete_file(uow.session, row)
    await dao.add_intent(
        uow.session,
        StorageIntentDO(
            id=uuid.uuid4().hex, storage_backend=row.storage_backend, storage_key=row.storage_key
        ),
    )
    await publish(
        uow,
        runtime.events,
        FILE_DELETED,
        FileDeleted(storage_key=row.storage_key, backend=row.storage_backend, file_id=row.id),
        aggregate_id=row.id,
    )
