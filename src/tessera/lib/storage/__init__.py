"""File storage: one `Storage` protocol, three backends (`local`, `fastdfs`, `s3`) chosen by
`storage.backend` in the settings.

The file block builds the configured backend once (`open_storage`), keeps it in
`runtime.storage`, and services reach it through `get_storage(runtime)`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from tessera.lib.config import StorageSettings
from tessera.lib.storage.base import (
    ByteRange,
    ListableStorage,
    ListedKey,
    OpenedFile,
    Storage,
    StoredStat,
    extension_of,
    listable,
)
from tessera.lib.storage.errors import (
    StorageError,
    StorageFull,
    StorageInvalidRequest,
    StorageNotFound,
    StorageProtocolError,
    StorageUnavailable,
)

if TYPE_CHECKING:
    from tessera.lib.runtime import Runtime


async def open_storage(settings: StorageSettings, *, var_dir: Path) -> Storage:
    """Build (and connect, for S3) the backend named by `settings.backend`."""
    if settings.backend == "local":
        from tessera.lib.storage.local import LocalStorage

        return await asyncio.to_thread(LocalStorage, settings.local_root or var_dir / "files")
    if settings.backend == "fastdfs":
        from tessera.lib.storage.fastdfs_backend import FastDFSStorage

        return FastDFSStorage(settings.fastdfs, part_size_bytes=settings.fastdfs_part_size_bytes)
    from tessera.lib.storage.s3 import S3Storage

    return await S3Storage(settings.s3).start()


def get_storage(runtime: Runtime) -> Storage:
    if runtime.storage is None:
        raise StorageUnavailable("no storage backend is configured (is the file block loaded?)")
    return runtime.storage


__all__ = [
    "ByteRange",
    "ListableStorage",
    "ListedKey",
    "OpenedFile",
    "Storage",
    "StorageError",
    "StorageFull",
    "StorageInvalidRequest",
    "StorageNotFound",
    "StorageProtocolError",
    "StorageUnavailable",
    "StoredStat",
    "extension_of",
    "get_storage",
    "listable",
    "open_storage",
]
