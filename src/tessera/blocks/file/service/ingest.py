"""Receiving bytes: checking an upload while it streams, storing it behind an intent, and
undoing a store whose row could not be committed.

The consistency rule lives here: a row exists only for bytes that were stored. `store`
commits a `storage_intent` first and then streams the bytes to the backend; `commit_row`
adds the row and drops the intent in one transaction; if that transaction fails, `discard`
deletes the bytes again. Intents that a crash leaves behind are what the sweep cleans up.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass

from tessera.blocks.file import dao
from tessera.blocks.file.model.do import StorageIntentDO, StoredFileDO
from tessera.blocks.file.model.dto import FileOut
from tessera.blocks.file.service.common import file_out, log, storage_failure
from tessera.blocks.file.utility import SNIFF_BYTES, sniff_content_type
from tessera.lib.db import utcnow
from tessera.lib.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from tessera.lib.runtime import Runtime
from tessera.lib.storage import StorageError, StorageNotFound, get_storage


@dataclass(frozen=True)
class Stored:
    """Bytes now in storage, still covered by their intent until a row owns them."""

    intent_id: str
    backend: str
    key: str
    size: int
    sha256: str
    content_type: str


class Probe:
    """Counts, hashes and sniffs an upload as it passes; the limits fire mid-stream."""

    def __init__(
        self, source: AsyncIterator[bytes], *, max_bytes: int, allowed: Collection[str]
    ) -> None:
        self._source = source
        self._max_bytes = max_bytes
        self._allowed = allowed
        self._sha = hashlib.sha256()
        self._head = b""
        self._exhausted = False
        self.size = 0
        self.content_type = ""

    def _account(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._max_bytes:
            raise PayloadTooLarge(
                f"The file is larger than {self._max_bytes} bytes.", code="file.too_large"
            )
        self._sha.update(chunk)

    async def _next(self) -> bytes | None:
        try:
            chunk = await self._source.__anext__()
        except StopAsyncIteration:
            self._exhausted = True
            return None
        self._account(chunk)
        return chunk

    async def read_head(self) -> None:
        """Read enough to sniff; reject empty, too large or disallowed files before any byte
        is stored."""
        head = bytearray()
        while len(head) < SNIFF_BYTES:
            chunk = await self._next()
            if chunk is None:
                break
            head += chunk
        if not head:
            raise ValidationFailed(
                "The file is empty.",
                code="file.empty",
                errors=[{"loc": ["body", "file"], "msg": "file is empty", "type": "empty"}],
            )
        complete = self._exhausted and len(head) <= SNIFF_BYTES
        media_type = sniff_content_type(bytes(head[:SNIFF_BYTES]), complete=complete)
        if media_type is None or media_type not in self._allowed:
            raise UnsupportedMediaType(
                f"This kind of file is not accepted; allowed: {', '.join(sorted(self._allowed))}.",
                code="file.unsupported_type",
            )
        self.content_type = media_type
        self._head = bytes(head)

    async def stream(self) -> AsyncIterator[bytes]:
        head, self._head = self._head, b""
        if head:
            yield head
        while not self._exhausted:
            chunk = await self._next()
            if chunk:
                yield chunk

    async def read_all(self) -> bytes:
        """The whole (small, size-limited) upload in memory; for avatars only."""
        await self.read_head()
        parts = [chunk async for chunk in self.stream()]
        return b"".join(parts)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


async def single_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def forget_intent(runtime: Runtime, intent_id: str) -> None:
    try:
        async with runtime.db.transaction() as uow:
            await dao.delete_intent(uow.session, intent_id)
    except Exception:
        # The sweep removes it later; this must not mask the upload's own error.
        log.warning("intent_cleanup_failed", intent_id=intent_id, exc_info=True)


async def store(
    runtime: Runtime,
    source: AsyncIterator[bytes],
    *,
    name: str,
    max_bytes: int,
    allowed: Collection[str],
) -> Stored:
    """Stream `source` into storage behind a committed intent; reject bad input first."""
    storage = get_storage(runtime)
    probe = Probe(source, max_bytes=max_bytes, allowed=allowed)
    await probe.read_head()
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
            probe.stream(), name=name, content_type=probe.content_type, key=intent.storage_key
        )
    except StorageError as exc:
        await forget_intent(runtime, intent.id)
        log.warning("storage_save_failed", backend=storage.backend, error=str(exc))
        raise storage_failure(exc) from exc
    except Exception:
        await forget_intent(runtime, intent.id)
        raise
    return Stored(
        intent_id=intent.id,
        backend=storage.backend,
        key=key,
        size=probe.size,
        sha256=probe.sha256,
        content_type=probe.content_type,
    )


async def discard(runtime: Runtime, stored: Stored) -> None:
    """Compensate a failed commit: delete the bytes, then the intent; whatever cannot be
    deleted now stays recorded in the intent for the sweep."""
    storage = get_storage(runtime)
    try:
        await storage.delete(stored.key)
    except StorageNotFound:
        pass
    except Exception:
        log.warning("compensating_delete_failed", key=stored.key, exc_info=True)
        with contextlib.suppress(Exception):
            async with runtime.db.transaction() as uow:
                intent = await uow.session.get(StorageIntentDO, stored.intent_id)
                if intent is not None:
                    intent.storage_key = stored.key
        return
    await forget_intent(runtime, stored.intent_id)


def new_row(
    stored: Stored,
    *,
    owner_id: int,
    name: str,
    purpose: str,
    order_id: int | None = None,
    variant: str | None = None,
) -> StoredFileDO:
    return StoredFileDO(
        id=uuid.uuid4().hex,
        owner_id=owner_id,
        purpose=purpose,
        variant=variant,
        order_id=order_id,
        name=name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        storage_backend=stored.backend,
        storage_key=stored.key,
        created_at=utcnow(),
    )


async def commit_row(runtime: Runtime, stored: Stored, row: StoredFileDO) -> FileOut:
    """Give the stored bytes their row (and drop the intent) in one transaction; on any
    failure the bytes are discarded, so no row-less bytes outlive the request."""
    try:
        async with runtime.db.transaction() as uow:
            await dao.add_file(uow.session, row)
            await dao.delete_intent(uow.session, stored.intent_id)
            out = file_out(row)
    except BaseException:
        await discard(runtime, stored)
        raise
    log.info("file_stored", file_id=out.id, size=out.size, backend=stored.backend)
    return out
