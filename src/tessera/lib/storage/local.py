"""Local-disk storage (the embedded default): one file per key under `storage.local_root`.

A save writes a hidden temporary file in the target directory and renames it into place, so a
key never names half a file; a crash leaves only `.*.part` files, which `list_keys` reports as
partial and `tessera files sweep` removes. Disk I/O runs in worker threads in ~1 MiB steps to
keep the event loop free.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from tessera.lib.storage.base import ByteRange, ListedKey, StoredStat, extension_of
from tessera.lib.storage.errors import (
    StorageError,
    StorageFull,
    StorageInvalidRequest,
    StorageNotFound,
    StorageUnavailable,
)

WRITE_BATCH_BYTES = 1024 * 1024
READ_CHUNK_BYTES = 256 * 1024
TEMP_SUFFIX = ".part"
# yyyy/mm/dd/<32 hex>[.ext]: the only shape a key may have, so a key can never walk out of
# the root whatever a database row says.
KEY_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/[0-9a-f]{32}(\.[a-z0-9]{1,8})?$")
# The temporary file a save writes next to its key, `.<key name>.<8 hex><TEMP_SUFFIX>`:
# `delete` accepts this shape too (for the sweep), nothing else does.
PARTIAL_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/\.[0-9a-f]{32}(\.[a-z0-9]{1,8})?\.[0-9a-f]{8}\.part$")


class LocalFile:
    """An open file read in chunks from a worker thread."""

    def __init__(self, handle: BinaryIO, size: int, offset: int, length: int) -> None:
        self._handle: BinaryIO | None = handle
        self._remaining = length
        self._offset = offset
        self.size = size
        self.length = length

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            while self._remaining > 0 and self._handle is not None:
                chunk = await asyncio.to_thread(
                    self._handle.read, min(self._remaining, READ_CHUNK_BYTES)
                )
                if not chunk:  # the file shrank under us: end short rather than hang
                    break
                self._remaining -= len(chunk)
                yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            await asyncio.to_thread(handle.close)


ROOT_MARKER = ".tessera-storage"


class LocalStorage:
    backend = "local"
    can_list = True

    def __init__(self, root: Path) -> None:
        """Creates the root if needed and marks it (a little blocking I/O, once)."""
        self.root = Path(root).resolve()
        self.mark_root()

    def mark_root(self) -> None:
        """Leave a marker in the root: a key that is missing while the marker is missing too
        means the volume is gone (unmounted, replaced), not the file."""
        self.root.mkdir(parents=True, exist_ok=True)
        marker = self.root / ROOT_MARKER
        if not marker.exists():
            marker.write_text("Tessera file storage root; keep this file.\n")

    def _root_present(self) -> bool:
        return (self.root / ROOT_MARKER).is_file()

    async def _error(self, exc: OSError, key: str) -> StorageError:
        if isinstance(exc, FileNotFoundError) and not await asyncio.to_thread(self._root_present):
            return StorageUnavailable(f"the storage root {self.root} is missing or not mounted")
        return _storage_error(exc, key)

    def plan_key(self, name: str) -> str:
        today = datetime.now(UTC)
        ext = extension_of(name)
        return f"{today:%Y/%m/%d}/{uuid.uuid4().hex}" + (f".{ext}" if ext else "")

    def path_of(self, key: str) -> Path:
        if not KEY_RE.match(key):
            raise StorageInvalidRequest(f"not a local storage key: {key!r}")
        return self.root / key

    async def save(
        self,
        stream: AsyncIterable[bytes],
        *,
        name: str,
        content_type: str,
        key: str | None = None,
    ) -> str:
        key = key or self.plan_key(name)
        target = self.path_of(key)
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
        handle: BinaryIO | None = None
        try:
            await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
            handle = await asyncio.to_thread(_open_exclusive, temp)
            batch = bytearray()
            async for chunk in stream:
                batch += chunk
                if len(batch) >= WRITE_BATCH_BYTES:
                    data, batch = bytes(batch), bytearray()
                    await asyncio.to_thread(handle.write, data)
            if batch:
                await asyncio.to_thread(handle.write, bytes(batch))
            await asyncio.to_thread(_flush_and_close, handle)
            handle = None
            await asyncio.to_thread(os.replace, temp, target)
        except OSError as exc:
            await asyncio.to_thread(_discard, handle, temp)
            raise _storage_error(exc, key) from exc
        except BaseException:
            await asyncio.to_thread(_discard, handle, temp)
            raise
        return key

    async def open(self, key: str, byte_range: ByteRange | None = None) -> LocalFile:
        path = self.path_of(key)
        try:
            handle, size = await asyncio.to_thread(_open_read, path)
        except OSError as exc:
            raise await self._error(exc, key) from exc
        offset, length = (0, size) if byte_range is None else (byte_range.offset, byte_range.length)
        if offset + length > size:
            await asyncio.to_thread(handle.close)
            raise StorageInvalidRequest(f"range {offset}+{length} is past the end of {key}")
        if offset:
            await asyncio.to_thread(handle.seek, offset)
        return LocalFile(handle, size, offset, length)

    async def delete(self, key: str) -> None:
        # A partial write's name is accepted here (the sweep removes them) but nowhere else.
        path = self.root / key if PARTIAL_RE.match(key) else self.path_of(key)
        try:
            await asyncio.to_thread(path.unlink)
        except OSError as exc:
            raise await self._error(exc, key) from exc

    async def stat(self, key: str) -> StoredStat:
        try:
            result = await asyncio.to_thread(self.path_of(key).stat)
        except OSError as exc:
            raise await self._error(exc, key) from exc
        return StoredStat(size=result.st_size)

    async def ping(self) -> None:
        """What uploads and downloads need: the marked root, writable."""
        if not await asyncio.to_thread(self._root_present):
            raise StorageUnavailable(f"the storage root {self.root} is missing or not mounted")
        if not await asyncio.to_thread(os.access, self.root, os.W_OK):
            raise StorageUnavailable(f"{self.root} is not writable")

    async def aclose(self) -> None:
        return None

    async def list_keys(
        self, *, prefix: str = "", older_than: datetime | None = None
    ) -> AsyncIterator[ListedKey]:
        """Keys under `prefix`, and the `.part` files of interrupted saves (`partial`); other
        files under the root are not ours and never listed. One directory is read per step
        in a worker thread."""
        if prefix.startswith("/") or ".." in prefix.split("/"):
            raise StorageInvalidRequest(f"not a local storage key prefix: {prefix!r}")
        cutoff = older_than.timestamp() if older_than is not None else None
        walker = os.walk(self.root / prefix.rpartition("/")[0])
        while (entries := await asyncio.to_thread(_next_directory, walker, self.root)) is not None:
            for relative, mtime in entries:
                if not relative.startswith(prefix) or (cutoff is not None and mtime >= cutoff):
                    continue
                partial = PARTIAL_RE.match(relative) is not None
                if partial or KEY_RE.match(relative):
                    yield ListedKey(relative, datetime.fromtimestamp(mtime, UTC), partial=partial)

    async def discard_partial(self, item: ListedKey) -> bool:
        try:
            await self.delete(item.key)
        except StorageNotFound:
            return False
        return True


def _next_directory(
    walker: Iterator[tuple[str, list[str], list[str]]], root: Path
) -> list[tuple[str, float]] | None:
    """The (path relative to `root`, mtime) of each file in the walk's next directory."""
    step = next(walker, None)
    if step is None:
        return None
    directory, _, names = step
    entries: list[tuple[str, float]] = []
    for name in names:
        path = Path(directory) / name
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:  # removed since the directory was read
            continue
        entries.append((path.relative_to(root).as_posix(), mtime))
    return entries


def _open_exclusive(path: Path) -> BinaryIO:
    return open(path, "xb")


def _open_read(path: Path) -> tuple[BinaryIO, int]:
    handle = open(path, "rb")  # noqa: SIM115 - closed by LocalFile
    return handle, os.fstat(handle.fileno()).st_size


def _flush_and_close(handle: BinaryIO) -> None:
    try:
        handle.flush()
        os.fsync(handle.fileno())
    finally:
        handle.close()


def _discard(handle: BinaryIO | None, temp: Path) -> None:
    if handle is not None:
        handle.close()
    temp.unlink(missing_ok=True)


def _storage_error(exc: OSError, key: str) -> StorageError:
    import errno

    if isinstance(exc, FileNotFoundError):
        return StorageNotFound(f"no stored file {key!r}")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(f"disk full while writing {key!r}")
    return StorageError(f"local storage failed for {key!r}: {exc}")
