"""FastDFS support for Tessera's file storage: an asyncio client written on the stdlib alone.

Import from here; `protocol` (pure wire format) and `connection` (sockets, pools) are the
layers the client is built on and stay importable for tests and diagnostics.
"""

from __future__ import annotations

from tessera.lib.storage.fastdfs.client import (
    DOWNLOAD_CHUNK_SIZE,
    UNKNOWN_SIZE_PART_SIZE,
    DownloadStream,
    FastDFSClient,
    parse_address,
)
from tessera.lib.storage.fastdfs.protocol import (
    FileId,
    FileInfo,
    RemoteFilenameInfo,
    StorageServer,
    StoreTarget,
    decode_remote_filename,
    parse_file_id,
)

__all__ = [
    "DOWNLOAD_CHUNK_SIZE",
    "UNKNOWN_SIZE_PART_SIZE",
    "DownloadStream",
    "FastDFSClient",
    "FileId",
    "FileInfo",
    "RemoteFilenameInfo",
    "StorageServer",
    "StoreTarget",
    "decode_remote_filename",
    "parse_address",
    "parse_file_id",
]
