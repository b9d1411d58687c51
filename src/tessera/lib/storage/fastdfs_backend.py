"""FastDFS storage: the `Storage` protocol over Tessera's asyncio FastDFS client.

An HTTP upload's size is known only once it has been read, so saves go through
`upload_unknown_size`: an appender file written in parts of `part_size_bytes`, one part in
memory at a time. Keys are FastDFS file ids (`group1/M00/..`), assigned by the storage server.

Not a `ListableStorage`: the tracker and storage protocol has no call that lists files, so
bytes stored without a recorded key (a process killed mid-upload) cannot be found again.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from tessera.lib.config import FastDFSSettings
from tessera.lib.storage.base import ByteRange, StoredStat, extension_of
from tessera.lib.storage.fastdfs import DownloadStream, FastDFSClient


class FastDFSFile:
    def __init__(self, stream: DownloadStream, size: int) -> None:
        self._stream = stream
        self.size = size
        self.length = stream.length

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        finally:
            await self._stream.aclose()

    async def aclose(self) -> None:
        await self._stream.aclose()


class FastDFSStorage:
    backend = "fastdfs"
    can_list = False  # the protocol has no listing call

    def __init__(self, settings: FastDFSSettings, *, part_size_bytes: int = 8 * 1024 * 1024):
        self.client = FastDFSClient(
            settings.trackers,
            connect_timeout_seconds=settings.connect_timeout_seconds,
            network_timeout_seconds=settings.network_timeout_seconds,
            pool_size_per_server=settings.pool_size,
            group=settings.group,
        )
        self.part_size_bytes = part_size_bytes

    def plan_key(self, name: str) -> None:
        return None  # the storage server names the file

    async def save(
        self,
        stream: AsyncIterable[bytes],
        *,
        name: str,
        content_type: str,
        key: str | None = None,
    ) -> str:
        return await self.client.upload_unknown_size(
            stream, ext=extension_of(name, max_length=6), part_size=self.part_size_bytes
        )

    async def open(self, key: str, byte_range: ByteRange | None = None) -> FastDFSFile:
        if byte_range is None:
            stream = await self.client.open_download(key)
            return FastDFSFile(stream, stream.length)
        # A ranged reply does not say how big the whole file is; ask (no CRC: cheap).
        info = await self.client.file_info(key, compute_crc=False)
        stream = await self.client.open_download(key, byte_range.offset, byte_range.length)
        return FastDFSFile(stream, info.size)

    async def delete(self, key: str) -> None:
        await self.client.delete(key)

    async def stat(self, key: str) -> StoredStat:
        info = await self.client.file_info(key, compute_crc=False)
        return StoredStat(size=info.size)

    async def ping(self) -> None:
        """What an upload needs: a tracker that names a writable storage server, and that
        server answering (a stopped or frozen storage fails here, or by the caller's
        timeout, while the tracker alone would still look healthy)."""
        target = await self.client.query_store()
        await self.client.storage_active_test(*target.address)

    async def aclose(self) -> None:
        await self.client.aclose()
