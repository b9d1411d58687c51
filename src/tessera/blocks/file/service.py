"""Use cases of the file block: upload, list, read, stream and delete files; avatars; order
documents; the orphan sweep and the outbox handler that deletes bytes.

Consistency rule: a row exists only for bytes that were stored. An upload first commits a
`storage_intent`, then streams the bytes to the backend, then adds the row and drops the
intent in one transaction; if that transaction fails the bytes are deleted again. Intents a
crash leaves behind are what `tessera files sweep` cleans up. Deleting a row publishes
`file.deleted` in the same transaction, so the bytes go even if storage is down right now.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import uuid
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from tessera.blocks.file import dao
from tessera.blocks.file.events import FILE_DELETED, FileDeleted
from tessera.blocks.file.model.do import StorageIntentDO, StoredFileDO
from tessera.blocks.file.model.dto import PURPOSES, AvatarOut, FileOut
from tessera.blocks.file.utility import SNIFF_BYTES, Unsatisfiable, parse_range, sniff_content_type
from tessera.blocks.user import service as user_service
from tessera.lib.db import UnitOfWork, utcnow
from tessera.lib.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InsufficientStorage,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from tessera.lib.pagination import Page, PageParams
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.storage import (
    ByteRange,
    OpenedFile,
    Storage,
    StorageError,
    StorageFull,
    StorageNotFound,
    get_storage,
    listable,
)
from tessera.lib.tasks import Event, publish

log = structlog.get_logger("tessera.file")

READ_ANY = "file:read:any"
AVATAR_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
AVATAR_SIZES = (256, 64)
# Listed keys checked against the database per query.
SWEEP_BATCH = 500


class IncomingFile(Protocol):
    """An upload being received: its name, form fields seen so far, and its bytes."""

    @property
    def filename(self) -> str | None: ...

    @property
    def fields(self) -> Mapping[str, str]: ...

    def chunks(self) -> AsyncIterator[bytes]: ...


@dataclass
class Download:
    file: FileOut
    body: OpenedFile
    byte_range: ByteRange | None


@dataclass(frozen=True)
class _Stored:
    intent_id: str
    backend: str
    key: str
    size: int
    sha256: str
    content_type: str


@dataclass(frozen=True)
class SweptItem:
    backend: str
    key: str | None
    reason: str
    removed: bool


def _file_out(row: StoredFileDO) -> FileOut:
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


def _storage_failure(exc: StorageError) -> DomainError:
    if isinstance(exc, StorageFull):
        return InsufficientStorage("File storage is full.", code="storage.full")
    if isinstance(exc, StorageNotFound):
        return NotFound("The file's content is missing from storage.", code="file.content_missing")
    return ServiceUnavailable(
        "File storage is unavailable; try again later.", code="storage.unavailable"
    )


def _not_found() -> NotFound:
    return NotFound("No such file.", code="file.not_found")


# --- receiving bytes -------------------------------------------------------------------------


class _Probe:
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


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _forget_intent(runtime: Runtime, intent_id: str) -> None:
    try:
        async with runtime.db.transaction() as uow:
            await dao.delete_intent(uow.session, intent_id)
    except Exception:
        # The sweep removes it later; this must not mask the upload's own error.
        log.warning("intent_cleanup_failed", intent_id=intent_id, exc_info=True)


async def _store(
    runtime: Runtime,
    source: AsyncIterator[bytes],
    *,
    name: str,
    max_bytes: int,
    allowed: Collection[str],
) -> _Stored:
    """Stream `source` into storage behind a committed intent; reject bad input first."""
    storage = get_storage(runtime)
    probe = _Probe(source, max_bytes=max_bytes, allowed=allowed)
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
        await _forget_intent(runtime, intent.id)
        log.warning("storage_save_failed", backend=storage.backend, error=str(exc))
        raise _storage_failure(exc) from exc
    except Exception:
        await _forget_intent(runtime, intent.id)
        raise
    return _Stored(
        intent_id=intent.id,
        backend=storage.backend,
        key=key,
        size=probe.size,
        sha256=probe.sha256,
        content_type=probe.content_type,
    )


async def _discard(runtime: Runtime, stored: _Stored) -> None:
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
    await _forget_intent(runtime, stored.intent_id)


def _new_row(
    stored: _Stored,
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


async def _commit_row(runtime: Runtime, stored: _Stored, row: StoredFileDO) -> FileOut:
    try:
        async with runtime.db.transaction() as uow:
            await dao.add_file(uow.session, row)
            await dao.delete_intent(uow.session, stored.intent_id)
            out = _file_out(row)
    except BaseException:
        await _discard(runtime, stored)
        raise
    log.info("file_stored", file_id=out.id, size=out.size, backend=stored.backend)
    return out


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


# --- files -------------------------------------------------------------------------------------


async def upload_file(
    *, runtime: Runtime, principal: Principal, upload: IncomingFile, name: str
) -> FileOut:
    """Store an upload for its owner; `purpose` may come before or after the file part."""
    _purpose_of(upload, "attachment")  # fail before storing when it came first
    settings = runtime.settings.storage
    stored = await _store(
        runtime,
        upload.chunks(),
        name=name,
        max_bytes=settings.max_upload_bytes,
        allowed=settings.allowed_types,
    )
    try:
        purpose = _purpose_of(upload, "attachment")
    except DomainError:
        await _discard(runtime, stored)
        raise
    return await _commit_row(
        runtime, stored, _new_row(stored, owner_id=principal.id, name=name, purpose=purpose)
    )


async def _can_view_order(runtime: Runtime, principal: Principal, order_id: int) -> bool:
    # Imported here: the order block is optional, and only order documents need it.
    from tessera.blocks.order import service as order_service

    try:
        await order_service.get_order_for_viewer(
            runtime=runtime, principal=principal, order_id=order_id
        )
    except NotFound:
        return False
    return True


async def _visible_row(runtime: Runtime, principal: Principal, file_id: str) -> StoredFileDO:
    async with runtime.db.read() as session:
        row = await dao.get_file(session, file_id)
    if row is None:
        raise _not_found()
    if row.owner_id == principal.id or principal.has(READ_ANY):
        return row
    if row.order_id is not None and await _can_view_order(runtime, principal, row.order_id):
        return row
    raise _not_found()


async def get_file(*, runtime: Runtime, principal: Principal, file_id: str) -> FileOut:
    return _file_out(await _visible_row(runtime, principal, file_id))


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
    return Page[FileOut].of([_file_out(row) for row in rows], total, paging)


async def _open(row: StoredFileDO, storage: Storage, range_header: str | None) -> Download:
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
        raise _storage_failure(exc) from exc
    return Download(file=_file_out(row), body=body, byte_range=byte_range)


async def open_file_content(
    *, runtime: Runtime, principal: Principal, file_id: str, range_header: str | None
) -> Download:
    row = await _visible_row(runtime, principal, file_id)
    return await _open(row, get_storage(runtime), range_header)


async def delete_file(*, runtime: Runtime, principal: Principal, file_id: str) -> None:
    """Delete the row now and the bytes through the outbox (retried while storage is down)."""
    async with runtime.db.transaction() as uow:
        row = await dao.get_file(uow.session, file_id)
        if row is None or (row.owner_id != principal.id and not principal.has(READ_ANY)):
            raise _not_found()
        if row.owner_id != principal.id:
            raise Forbidden("Only the owner may delete a file.", code="file.not_owner")
        if row.purpose == "avatar":
            raise Conflict(
                "This is your avatar; replace or remove it under /users/me/avatar.",
                code="file.in_use",
            )
        await _delete_row(uow, runtime, row)
    log.info("file_deleted", file_id=file_id)


async def _delete_row(uow: UnitOfWork, runtime: Runtime, row: StoredFileDO) -> None:
    await dao.delete_file(uow.session, row)
    await publish(
        uow,
        runtime.events,
        FILE_DELETED,
        FileDeleted(storage_key=row.storage_key, backend=row.storage_backend, file_id=row.id),
        aggregate_id=row.id,
    )


async def delete_bytes(*, runtime: Runtime, event: Event[FileDeleted]) -> None:
    """Outbox handler of `file.deleted`: gone already counts as done; outages raise (retry)."""
    storage = get_storage(runtime)
    backend = event.data.backend
    if backend != storage.backend:
        raise RuntimeError(f"file bytes are in the {backend} backend, which is not configured")
    with contextlib.suppress(StorageNotFound):
        await storage.delete(event.data.storage_key)


# --- order documents ---------------------------------------------------------------------------


async def _require_order(runtime: Runtime, principal: Principal, order_id: int) -> None:
    from tessera.blocks.order import service as order_service

    await order_service.get_order_for_viewer(
        runtime=runtime, principal=principal, order_id=order_id
    )


async def upload_order_document(
    *, runtime: Runtime, principal: Principal, order_id: int, upload: IncomingFile, name: str
) -> FileOut:
    await _require_order(runtime, principal, order_id)
    settings = runtime.settings.storage
    stored = await _store(
        runtime,
        upload.chunks(),
        name=name,
        max_bytes=settings.max_upload_bytes,
        allowed=settings.allowed_types,
    )
    row = _new_row(
        stored, owner_id=principal.id, name=name, purpose="order_document", order_id=order_id
    )
    return await _commit_row(runtime, stored, row)


async def list_order_documents(
    *, runtime: Runtime, principal: Principal, order_id: int, paging: PageParams
) -> Page[FileOut]:
    await _require_order(runtime, principal, order_id)
    async with runtime.db.read() as session:
        rows, total = await dao.list_files(
            session,
            owner_id=None,
            purpose="order_document",
            order_id=order_id,
            offset=paging.offset,
            limit=paging.size,
        )
    return Page[FileOut].of([_file_out(row) for row in rows], total, paging)


# --- avatars ---------------------------------------------------------------------------------


def _render_avatars(data: bytes, max_pixels: int) -> dict[int, bytes]:
    """Decode and re-encode: only pixels survive (no EXIF, no trailing payloads)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    invalid = ValidationFailed(
        "The image cannot be decoded.",
        code="file.invalid_image",
        errors=[{"loc": ["body", "file"], "msg": "not a valid image", "type": "image"}],
    )
    try:
        with Image.open(io.BytesIO(data), formats=("PNG", "JPEG", "WEBP")) as image:
            width, height = image.size
            # Checked before decoding: the header alone tells how much memory it would take.
            if width * height > max_pixels:
                raise ValidationFailed(
                    f"The image has more than {max_pixels} pixels.",
                    code="file.image_too_large",
                    errors=[{"loc": ["body", "file"], "msg": "too many pixels", "type": "image"}],
                )
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGBA")
    except Image.DecompressionBombError:
        raise ValidationFailed(
            "The image has too many pixels.", code="file.image_too_large"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise invalid from None
    rendered: dict[int, bytes] = {}
    for size in AVATAR_SIZES:
        fitted = ImageOps.fit(upright, (size, size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        fitted.save(buffer, format="PNG")
        rendered[size] = buffer.getvalue()
    return rendered


def _avatar_url(user_id: int, version: str) -> str:
    return f"/api/v1/users/{user_id}/avatar?v={version[:12]}"


async def set_avatar(*, runtime: Runtime, principal: Principal, upload: IncomingFile) -> AvatarOut:
    settings = runtime.settings.storage
    probe = _Probe(upload.chunks(), max_bytes=settings.max_avatar_bytes, allowed=AVATAR_TYPES)
    data = await probe.read_all()
    rendered = await asyncio.to_thread(_render_avatars, data, settings.max_avatar_pixels)
    stored: dict[int, _Stored] = {}
    try:
        for size, png in rendered.items():
            stored[size] = await _store(
                runtime,
                _single(png),
                name=f"avatar-{size}.png",
                max_bytes=len(png),
                allowed=("image/png",),
            )
        rows = {
            size: _new_row(
                item,
                owner_id=principal.id,
                name=f"avatar-{size}.png",
                purpose="avatar",
                variant=str(size),
            )
            for size, item in stored.items()
        }
        async with runtime.db.transaction() as uow:
            for old in await dao.avatar_files(uow.session, principal.id):
                await _delete_row(uow, runtime, old)
            for row in rows.values():
                await dao.add_file(uow.session, row)
            for item in stored.values():
                await dao.delete_intent(uow.session, item.intent_id)
    except BaseException:
        for item in stored.values():
            await _discard(runtime, item)
        raise
    url = _avatar_url(principal.id, rows[AVATAR_SIZES[0]].id)
    # After our commit: if this fails the old URL still works (it names the user, not a file).
    await user_service.set_avatar_url(runtime=runtime, user_id=principal.id, url=url)
    return AvatarOut(
        avatar_url=url,
        sizes={str(size): f"{url}&size={size}" for size in AVATAR_SIZES},
    )


async def remove_avatar(*, runtime: Runtime, principal: Principal) -> None:
    async with runtime.db.transaction() as uow:
        rows = await dao.avatar_files(uow.session, principal.id)
        if not rows:
            raise NotFound("You have no avatar.", code="file.not_found")
        for row in rows:
            await _delete_row(uow, runtime, row)
    await user_service.set_avatar_url(runtime=runtime, user_id=principal.id, url=None)


async def open_avatar(*, runtime: Runtime, user_id: int, size: int) -> Download:
    if size not in AVATAR_SIZES:
        raise ValidationFailed(
            "Unknown avatar size.",
            code="file.invalid_avatar_size",
            errors=[{"loc": ["query", "size"], "msg": "must be 256 or 64", "type": "enum"}],
        )
    async with runtime.db.read() as session:
        rows = await dao.avatar_files(session, user_id)
    row = next((row for row in rows if row.variant == str(size)), None)
    if row is None:
        raise NotFound("This user has no avatar.", code="file.not_found")
    return await _open(row, get_storage(runtime), None)


# --- operations --------------------------------------------------------------------------------


async def sweep_orphans(
    *, runtime: Runtime, grace_seconds: int, dry_run: bool = False
) -> list[SweptItem]:
    """Delete bytes that no row owns: uploads a crash interrupted (their intents) and, where
    the backend can list its keys (local disk, S3), keys unknown to the database. Only what
    is older than `grace_seconds` is touched, so uploads in flight are left alone."""
    storage = get_storage(runtime)
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    swept: list[SweptItem] = []
    async with runtime.db.read() as session:
        intents = await dao.stale_intents(session, cutoff)
    for intent in intents:
        if intent.storage_backend != storage.backend:
            continue
        removed = False
        if intent.storage_key is not None:
            # A row for the key means the upload did finish (its intent was left by a bug
            # or a manual edit): keep the bytes, drop only the intent.
            in_use = await _has_row(runtime, storage.backend, intent.storage_key)
            if not in_use and not dry_run:
                removed = await _delete_quietly(storage, intent.storage_key)
        if not dry_run:
            await _forget_intent(runtime, intent.id)
        swept.append(
            SweptItem(
                storage.backend,
                intent.storage_key,
                "unfinished upload" if intent.storage_key else "unfinished upload (key unknown)",
                removed,
            )
        )
    swept.extend(await _sweep_listing(runtime, storage, cutoff, dry_run))
    log.info("files_swept", count=len(swept), dry_run=dry_run)
    return swept


async def _has_row(runtime: Runtime, backend: str, key: str) -> bool:
    from sqlalchemy import select

    async with runtime.db.read() as session:
        found = await session.scalar(
            select(StoredFileDO.id).where(
                StoredFileDO.storage_backend == backend, StoredFileDO.storage_key == key
            )
        )
    return found is not None


async def _delete_quietly(storage: Storage, key: str) -> bool:
    try:
        await storage.delete(key)
    except StorageNotFound:
        return False
    return True


async def _sweep_listing(
    runtime: Runtime, storage: Storage, cutoff: datetime, dry_run: bool
) -> list[SweptItem]:
    """Keys the backend lists that no row or intent knows. Backends that cannot list
    (FastDFS) have nothing to offer here: only their intents are swept."""
    listing = listable(storage)
    if listing is None:
        return []
    swept: list[SweptItem] = []
    unowned: list[str] = []
    async for item in listing.list_keys(older_than=cutoff):
        if item.partial:
            removed = False if dry_run else await _delete_quietly(storage, item.key)
            swept.append(SweptItem(storage.backend, item.key, "partial write", removed))
            continue
        unowned.append(item.key)
        if len(unowned) >= SWEEP_BATCH:
            swept.extend(await _sweep_unowned(runtime, storage, unowned, dry_run))
            unowned = []
    swept.extend(await _sweep_unowned(runtime, storage, unowned, dry_run))
    return swept


async def _sweep_unowned(
    runtime: Runtime, storage: Storage, keys: list[str], dry_run: bool
) -> list[SweptItem]:
    if not keys:
        return []
    async with runtime.db.read() as session:
        known = await dao.existing_keys(session, storage.backend, keys)
    swept: list[SweptItem] = []
    for key in keys:
        if key in known:
            continue
        removed = False if dry_run else await _delete_quietly(storage, key)
        swept.append(SweptItem(storage.backend, key, "no row", removed))
    return swept
