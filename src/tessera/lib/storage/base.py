"""The `Storage` protocol every file backend implements, and the small types it speaks.

Services see only this: bytes go in as an async stream and come back as an async stream, so
no backend (local disk, FastDFS, S3) ever needs a whole file in memory.

Listing what a backend holds is a capability, not a given: local disk and S3 can
(`ListableStorage`), FastDFS cannot (its protocol has no listing call). Each backend declares
it with `can_list`, and callers ask `listable(storage)` instead of testing backend classes.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast, runtime_checkable


@dataclass(frozen=True, slots=True)
class ByteRange:
    """`length` bytes from `offset` (already resolved against the file's size)."""

    offset: int
    length: int

    @property
    def last(self) -> int:
        """The inclusive end, as HTTP's Content-Range writes it."""
        return self.offset + self.length - 1


@dataclass(frozen=True, slots=True)
class StoredStat:
    size: int


@dataclass(frozen=True, slots=True)
class ListedKey:
    """One object found by `ListableStorage.list_keys`.

    `partial`: the remains of a write that a crash interrupted (local disk's hidden `.part`
    files, S3's unfinished multipart uploads). No row can own one, so it is removed without
    asking the database, by `ListableStorage.discard_partial`; `open` never accepts its key.
    `upload_id`: S3's id of the unfinished multipart upload (None elsewhere).
    """

    key: str
    modified_at: datetime
    partial: bool = False
    upload_id: str | None = None


class OpenedFile(Protocol):
    """The bytes of one stored file (or a range of it), read in bounded chunks.

    `length` is how many bytes iteration yields; `size` the whole file's size. Close it
    (`aclose`) when stopping early so a pooled connection is not handed on half-read.
    """

    size: int
    length: int

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Storage(Protocol):
    """Where file bytes live. Keys are opaque strings chosen by the backend."""

    backend: str
    # Whether this backend is a `ListableStorage` (see `listable`).
    can_list: bool

    def plan_key(self, name: str) -> str | None:
        """The key the next `save(..., key=...)` may use, or None when the backend assigns
        keys itself (FastDFS). Lets the caller record an intent before any byte is written."""
        ...

    async def save(
        self,
        stream: AsyncIterable[bytes],
        *,
        name: str,
        content_type: str,
        key: str | None = None,
    ) -> str:
        """Store the stream; return its key. On any error nothing is left behind, and the
        error (including one raised by `stream` itself) propagates unchanged."""
        ...

    async def open(self, key: str, byte_range: ByteRange | None = None) -> OpenedFile:
        """Start reading; `StorageNotFound` surfaces here, before the first chunk."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the bytes; `StorageNotFound` if they are already gone."""
        ...

    async def stat(self, key: str) -> StoredStat: ...

    async def ping(self) -> None:
        """Raise `StorageUnavailable` when the backend cannot be reached (readiness)."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ListableStorage(Storage, Protocol):
    """A backend that can enumerate what it holds (local disk, S3), so bytes that no row or
    intent knows about can be found and removed."""

    def list_keys(
        self, *, prefix: str = "", older_than: datetime | None = None
    ) -> AsyncIterator[ListedKey]:
        """Every key starting with `prefix` last modified before `older_than` (any age when
        None), in no particular order. Read lazily, a page or directory at a time, so a
        large store is never held in memory; deleting listed keys while iterating is safe."""
        ...

    async def discard_partial(self, item: ListedKey) -> bool:
        """Remove a `partial` item found by `list_keys`; False if it was already gone."""
        ...


def listable(storage: Storage) -> ListableStorage | None:
    """`storage` as a `ListableStorage` if its backend declares it can list, else None."""
    return cast(ListableStorage, storage) if storage.can_list else None


def extension_of(name: str, *, max_length: int = 8) -> str:
    """The lower-cased extension of a (sanitized) file name without the dot, or ''."""
    _, dot, ext = name.rpartition(".")
    ext = ext.lower()
    if not dot or not ext or len(ext) > max_length or not ext.isalnum() or not ext.isascii():
        return ""
    return ext
