"""Files the platform makes itself (exports, invoices) rather than receives from a user.

Other blocks hand over a byte stream they produced; it is stored with the same consistency
rule as uploads (intent first, row and intent swap in one transaction, bytes discarded if the
row cannot be committed), so the sweep and `file.deleted` treat these files like any other.
No sniffing and no upload size limit: the content is ours. Callers check who may read or
delete a file before calling `open_generated_file` or `delete_generated_file`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from typing import Literal

from tessera.blocks.file import dao
from tessera.blocks.file.model.do import StorageIntentDO
from tessera.blocks.file.model.dto import FileOut
from tessera.blocks.file.service.common import (
    Download,
    delete_row,
    log,
    not_found,
    open_download,
    storage_failure,
)
from tessera.blocks.file.service.ingest import Stored, commit_row, forget_intent, new_row
from tessera.lib.db import utcnow
from tessera.lib.runtime import Runtime
from tessera.lib.storage import StorageError, get_storage

GeneratedPurpose = Literal["report", "order_document"]


async def store_generated_file(
    *,
    runtime: Runtime,
    owner_id: int,
    chunks: AsyncIterable[bytes],
    name: str,
    content_type: str,
    purpose: GeneratedPurpose,
    order_id: int | None = None,
) -> FileOut:
    """Stream `chunks` into storage as a file owned by `owner_id` (an error raised by the
    stream itself propagates, and nothing is left behind)."""
    storage = get_storage(runtime)
    digest = hashlib.sha256()
    size = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal size
        async for chunk in chunks:
            size += len(chunk)
            digest.update(chunk)
            yield chunk

    intent = StorageIntentDO(
        id=uuid.uuid4().hex,
        storage_backend=storage.backend,
        storage_key=storage.plan_key(name),
        created_at=utcnow(),
    )
    async with runtime.db.transaction() as uow:
        await dao.add_intent(uow.session, intent)
    try:
        key = await storage.save(
            counted(), name=name, content_type=content_type, key=intent.storage_key
        )
    except StorageError as exc:
        await forget_intent(runtime, intent.id)
        log.warning("storage_save_failed", backend=storage.backend, error=str(exc))
        raise storage_failure(exc) from exc
    except BaseException:
        await forget_intent(runtime, intent.id)
        raise
    stored = Stored(
        intent_id=intent.id,
        backend=storage.backend,
        key=key,
        size=size,
        sha256=digest.hexdigest(),
        content_type=content_type,
    )
    row = new_row(stored, owner_id=owner_id, name=name, purpose=purpose, order_id=order_id)
    return await commit_row(runtime, stored, row)


async def open_generated_file(
    *, runtime: Runtime, file_id: str, range_header: str | None = None
) -> Download:
    async with runtime.db.read() as session:
        row = await dao.get_file(session, file_id)
    if row is None:
        raise not_found()
    return await open_download(row, get_storage(runtime), range_header)


async def delete_generated_file(*, runtime: Runtime, file_id: str) -> bool:
    """Delete the row now and the bytes through the outbox; False if it was already gone."""
    async with runtime.db.transaction() as uow:
        row = await dao.get_file(uow.session, file_id)
        if row is None:
            return False
        await delete_row(uow, runtime, row)
    return True
