"""Tessera's asyncio FastDFS client: tracker fail-over, pooled connections, streaming I/O.

Written on asyncio streams alone so file bytes go socket to caller in bounded chunks; the
byte layouts are in `protocol`, connection reuse rules in `connection`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterable, Collection, Mapping, Sequence
from types import TracebackType
from typing import Self

from tessera.lib.storage.errors import (
    StorageError,
    StorageInvalidRequest,
    StorageNotFound,
    StorageProtocolError,
    StorageUnavailable,
)
from tessera.lib.storage.fastdfs.connection import (
    Address,
    Connection,
    ConnectionLost,
    ConnectionPool,
)
from tessera.lib.storage.fastdfs.protocol import (
    FETCH_REPLY_SIZES,
    FILE_INFO_NO_CRC,
    FILE_INFO_QUIET,
    FILE_INFO_REPLY_SIZES,
    GROUP_NAME_SIZE,
    KEEPALIVE_STATUSES,
    MAX_REMOTE_FILENAME_SIZE,
    SET_METADATA_MERGE,
    SET_METADATA_OVERWRITE,
    STORE_REPLY_SIZES,
    Cmd,
    FileId,
    FileInfo,
    StorageServer,
    StoreTarget,
    decode_fetch_reply,
    decode_file_info_reply,
    decode_metadata,
    decode_store_reply,
    decode_upload_reply,
    encode_active_test,
    encode_append_head,
    encode_delete,
    encode_download,
    encode_get_metadata,
    encode_metadata,
    encode_query_fetch,
    encode_query_file_info,
    encode_query_store,
    encode_query_update,
    encode_set_metadata,
    encode_upload_head,
    error_for_status,
    normalize_ext,
    parse_file_id,
    validate_group,
)

TrackerSpec = tuple[str, int] | str
Chunks = AsyncIterable[bytes] | bytes

DOWNLOAD_CHUNK_SIZE = 64 * 1024
UNKNOWN_SIZE_PART_SIZE = 8 * 1024 * 1024
# Metadata must fit the storage's network buffer (256 KiB by default) on the way in, so a
# bigger get-metadata reply means we are not talking to a sane server.
_MAX_METADATA_REPLY = 1024 * 1024
_UPLOAD_REPLY_SIZES = range(GROUP_NAME_SIZE + 1, GROUP_NAME_SIZE + MAX_REMOTE_FILENAME_SIZE + 1)
_EMPTY_REPLY = (0,)
# A tracker that just failed is tried last for this long, so a dead tracker does not cost
# every other request a connect attempt (or a whole connect timeout).
_TRACKER_PENALTY_SECONDS = 10.0


def parse_address(spec: TrackerSpec) -> Address:
    """`("host", 22122)`, `"host:22122"` or `"[::1]:22122"` -> `("host", 22122)`."""
    if isinstance(spec, tuple):
        host, port = spec
    else:
        host, sep, port_text = spec.rpartition(":")
        if not sep or not host or not port_text.isdigit():
            raise ValueError(f"FastDFS server address must be 'host:port', got {spec!r}")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        port = int(port_text)
    if not host or not 0 < port < 65536:
        raise ValueError(f"invalid FastDFS server address: {spec!r}")
    return (host, port)


class DownloadStream:
    """The body of one download reply, read off the socket in bounded chunks.

    Holds a pooled connection until the body is fully read or the stream is closed; closing
    early discards the connection, because the unread rest of the body would otherwise be
    taken as the reply to the next request. Use `async with` or iterate to the end.
    """

    def __init__(
        self,
        pool: ConnectionPool | None,
        conn: Connection | None,
        length: int,
        chunk_size: int,
    ) -> None:
        self._pool = pool
        self._conn = conn
        self._remaining = length
        self._chunk_size = chunk_size
        self.length = length
        """Number of bytes the stream yields in total (the server clamps the request)."""

    @classmethod
    def empty(cls) -> DownloadStream:
        return cls(None, None, 0, 1)

    @property
    def remaining(self) -> int:
        return self._remaining

    def __aiter__(self) -> DownloadStream:
        return self

    async def __anext__(self) -> bytes:
        conn = self._conn
        if self._remaining == 0 or conn is None:
            self._finish()
            raise StopAsyncIteration
        try:
            chunk = await conn.read_chunk(min(self._remaining, self._chunk_size), "download")
        except BaseException:
            self._finish()
            raise
        self._remaining -= len(chunk)
        if self._remaining == 0:
            self._finish()
        return chunk

    def _finish(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._pool is not None:
            conn.reusable = self._remaining == 0
            self._pool.release(conn)

    async def aclose(self) -> None:
        self._finish()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish()


class FastDFSClient:
    """Async FastDFS client. Create once, share, and `aclose()` (or `async with`) at shutdown.

    File ids are `group/Mxx/HH/HH/name` strings. Every failure is a
    `tessera.lib.storage.errors.StorageError` subclass; trackers are tried in rotation and a
    transport failure on one moves on to the next.
    """

    def __init__(
        self,
        trackers: Sequence[TrackerSpec],
        *,
        connect_timeout_seconds: float = 5.0,
        network_timeout_seconds: float = 30.0,
        pool_size_per_server: int = 10,
        group: str | None = None,
    ) -> None:
        if isinstance(trackers, str):
            raise ValueError("trackers must be a list of addresses, not one string")
        self._trackers = [parse_address(spec) for spec in trackers]
        if not self._trackers:
            raise ValueError("at least one FastDFS tracker is required")
        if connect_timeout_seconds <= 0 or network_timeout_seconds <= 0:
            raise ValueError("FastDFS timeouts must be positive")
        if pool_size_per_server < 1:
            raise ValueError("pool_size_per_server must be at least 1")
        self._group = validate_group(group) if group is not None else None
        self._connect_timeout = connect_timeout_seconds
        self._network_timeout = network_timeout_seconds
        self._pool_size = pool_size_per_server
        self._pools: dict[Address, ConnectionPool] = {}
        self._rotation = 0
        self._penalized_until: dict[Address, float] = {}
        self._closed = False

    @property
    def trackers(self) -> list[Address]:
        return list(self._trackers)

    def pool(self, address: Address) -> ConnectionPool:
        """The connection pool for one server address (created on first use)."""
        if self._closed:
            raise StorageUnavailable("FastDFS client is closed")
        pool = self._pools.get(address)
        if pool is None:
            pool = ConnectionPool(
                address,
                max_size=self._pool_size,
                connect_timeout=self._connect_timeout,
                network_timeout=self._network_timeout,
            )
            self._pools[address] = pool
        return pool

    async def aclose(self) -> None:
        """Send QUIT on idle connections and close them; connections in use close on return."""
        self._closed = True
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- exchanges ------------------------------------------------------------------------------

    @staticmethod
    async def _read_status(conn: Connection, operation: str) -> int:
        """Read the reply header, raise on a non-zero status, return the body length."""
        body_length, status = await conn.read_header(operation)
        if status != 0:
            # The servers send no body with an error; anything else leaves unread bytes.
            conn.reusable = body_length == 0 and status in KEEPALIVE_STATUSES
            raise error_for_status(status, f"{operation} on {conn.peer}")
        return body_length

    async def _start(
        self, pool: ConnectionPool, request: bytes, operation: str
    ) -> tuple[Connection, int]:
        """Send a replayable request and read the reply header; the caller releases `conn`."""
        retried = False
        while True:
            conn = await pool.acquire()
            try:
                conn.begin()
                await conn.send(request)
                return conn, await self._read_status(conn, operation)
            except ConnectionLost:
                pool.release(conn)
                # A pooled connection the server dropped while it sat idle: nothing was
                # processed, so one retry on a fresh connection is safe.
                if conn.reused and not retried:
                    retried = True
                    continue
                raise
            except BaseException:
                pool.release(conn)
                raise

    @staticmethod
    def _check_length(
        conn: Connection,
        body_length: int,
        operation: str,
        sizes: Collection[int] | None,
        max_size: int,
    ) -> None:
        if (sizes is not None and body_length not in sizes) or body_length > max_size:
            raise StorageProtocolError(
                f"FastDFS server {conn.peer} sent a {body_length}-byte {operation} reply"
            )

    async def _exchange(
        self,
        address: Address,
        request: bytes,
        operation: str,
        *,
        sizes: Collection[int] | None = None,
        max_size: int = 0,
    ) -> bytes:
        """One request with a fixed body, one complete reply body back."""
        if sizes is not None:
            max_size = max(sizes, default=0)
        pool = self.pool(address)
        conn, body_length = await self._start(pool, request, operation)
        try:
            self._check_length(conn, body_length, operation, sizes, max_size)
            body = await conn.read_exactly(body_length, operation)
            conn.reusable = True
            return body
        finally:
            pool.release(conn)

    async def _send_content(
        self,
        address: Address,
        head: bytes,
        chunks: Chunks,
        size: int,
        operation: str,
        sizes: Collection[int],
    ) -> bytes:
        """A request whose tail is streamed from `chunks`; never retried, they are consumed."""
        pool = self.pool(address)
        conn = await pool.acquire()
        try:
            conn.begin()
            await conn.send(head)
            await self._send_chunks(conn, chunks, size, operation)
            body_length = await self._read_status(conn, operation)
            self._check_length(conn, body_length, operation, sizes, max(sizes))
            body = await conn.read_exactly(body_length, operation)
            conn.reusable = True
            return body
        finally:
            pool.release(conn)

    @staticmethod
    async def _send_chunks(conn: Connection, chunks: Chunks, size: int, operation: str) -> None:
        # The size went out in the header already; a mismatch leaves the connection mid-request,
        # and raising before reusable is set makes the pool drop it.
        if isinstance(chunks, bytes | bytearray | memoryview):
            if len(chunks) != size:
                raise StorageInvalidRequest(
                    f"{operation}: got {len(chunks)} bytes but size={size} was declared"
                )
            if size:
                await conn.send(bytes(chunks))
            return
        sent = 0
        async for chunk in chunks:
            if not chunk:
                continue
            sent += len(chunk)
            if sent > size:
                raise StorageInvalidRequest(
                    f"{operation}: chunks exceed the declared size of {size} bytes"
                )
            await conn.send(chunk)
        if sent != size:
            raise StorageInvalidRequest(
                f"{operation}: chunks ended after {sent} bytes but size={size} was declared"
            )

    def _tracker_order(self) -> list[Address]:
        start = self._rotation % len(self._trackers)
        self._rotation += 1
        rotated = self._trackers[start:] + self._trackers[:start]
        now = time.monotonic()
        # Stable sort: healthy trackers first, each group keeping the rotated order.
        return sorted(rotated, key=lambda address: self._penalized_until.get(address, 0) > now)

    async def _tracker_exchange(
        self, request: bytes, operation: str, sizes: Collection[int]
    ) -> bytes:
        if self._closed:
            raise StorageUnavailable("FastDFS client is closed")
        failures: list[str] = []
        last_error: StorageUnavailable | None = None
        for address in self._tracker_order():
            try:
                body = await self._exchange(address, request, operation, sizes=sizes)
            except StorageUnavailable as exc:
                self._penalized_until[address] = time.monotonic() + _TRACKER_PENALTY_SECONDS
                failures.append(f"{address[0]}:{address[1]}: {exc}")
                last_error = exc
                continue
            self._penalized_until.pop(address, None)
            return body
        raise StorageUnavailable(
            f"no FastDFS tracker could serve {operation}: " + "; ".join(failures)
        ) from last_error

    # -- tracker --------------------------------------------------------------------------------

    async def query_store(self, group: str | None = None) -> StoreTarget:
        """Ask a tracker where to upload (101, or 104 for a group; default: the client's)."""
        group = group if group is not None else self._group
        if group is not None:
            validate_group(group)
        try:
            body = await self._tracker_exchange(
                encode_query_store(group), "query-store", STORE_REPLY_SIZES
            )
        except StorageNotFound as exc:
            # For store queries ENOENT means "no writable storage (in that group)" - the
            # tracker says so even for a known group whose only storage is offline.
            where = f" in group {group!r}" if group else ""
            raise StorageUnavailable(f"no writable FastDFS storage server{where}: {exc}") from exc
        return decode_store_reply(body)

    async def query_fetch(self, file_id: str) -> StorageServer:
        """Ask a tracker which storage serves reads of `file_id` (102)."""
        return await self._query_fetch(parse_file_id(file_id))

    async def query_update(self, file_id: str) -> StorageServer:
        """Ask a tracker which storage accepts changes to `file_id` (103)."""
        return await self._query_update(parse_file_id(file_id))

    async def _query_fetch(self, fid: FileId) -> StorageServer:
        request = encode_query_fetch(fid.group, fid.remote_filename)
        return decode_fetch_reply(await self._query_server(request, "query-fetch", fid))

    async def _query_update(self, fid: FileId) -> StorageServer:
        request = encode_query_update(fid.group, fid.remote_filename)
        return decode_fetch_reply(await self._query_server(request, "query-update", fid))

    async def _query_server(self, request: bytes, operation: str, fid: FileId) -> bytes:
        try:
            return await self._tracker_exchange(request, operation, FETCH_REPLY_SIZES)
        except StorageNotFound as exc:
            # The tracker never looks at files: ENOENT here means "no live storage server in
            # that group" (it says the same for an unknown group). Taking it for a missing
            # file would answer 404 during an outage and drop deletes for good.
            raise StorageUnavailable(
                f"no live FastDFS storage server for group {fid.group!r}: {exc}"
            ) from exc

    async def tracker_active_test(self, tracker: TrackerSpec | None = None) -> None:
        """Heartbeat (111) one given tracker, or any reachable one when None."""
        if tracker is None:
            await self._tracker_exchange(encode_active_test(), "active-test", _EMPTY_REPLY)
            return
        await self._exchange(
            parse_address(tracker), encode_active_test(), "active-test", sizes=_EMPTY_REPLY
        )

    async def storage_active_test(self, host: str, port: int) -> None:
        """Heartbeat (111) one storage server."""
        await self._exchange((host, port), encode_active_test(), "active-test", sizes=_EMPTY_REPLY)

    # -- uploads --------------------------------------------------------------------------------

    async def upload(
        self,
        chunks: Chunks,
        size: int,
        ext: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Upload exactly `size` bytes streamed from `chunks`; return the new file id.

        With `metadata`, it is set (overwrite) right after the upload on the same storage; if
        that fails the file is deleted again and the error raised, as the C client does.
        """
        return await self._upload(Cmd.STORAGE_UPLOAD_FILE, chunks, size, ext, metadata)

    async def upload_appender(
        self,
        chunks: Chunks,
        size: int,
        ext: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Like `upload`, but the file may later grow with `append`."""
        return await self._upload(Cmd.STORAGE_UPLOAD_APPENDER_FILE, chunks, size, ext, metadata)

    async def _upload(
        self,
        cmd: Cmd,
        chunks: Chunks,
        size: int,
        ext: str,
        metadata: Mapping[str, str] | None,
    ) -> str:
        ext = normalize_ext(ext)
        if size < 0:
            raise StorageInvalidRequest(f"upload size must not be negative: {size}")
        # Encode (and so validate) metadata before any byte is stored.
        encoded_meta = encode_metadata(metadata) if metadata else None
        target = await self.query_store()
        fid = await self._upload_to(target, cmd, chunks, size, ext)
        if encoded_meta is not None:
            await self._set_metadata_or_delete(target.address, fid, encoded_meta)
        return str(fid)

    async def _upload_to(
        self, target: StoreTarget, cmd: Cmd, chunks: Chunks, size: int, ext: str
    ) -> FileId:
        head = encode_upload_head(cmd, target.store_path_index, size, ext)
        body = await self._send_content(
            target.address, head, chunks, size, "upload", _UPLOAD_REPLY_SIZES
        )
        return decode_upload_reply(body)

    async def _set_metadata_or_delete(self, address: Address, fid: FileId, meta: bytes) -> None:
        request = encode_set_metadata(fid.group, fid.remote_filename, meta, SET_METADATA_OVERWRITE)
        try:
            await self._exchange(address, request, "set-metadata", sizes=_EMPTY_REPLY)
        except StorageError:
            await self._delete_quietly(address, fid)
            raise

    async def _delete_quietly(self, address: Address, fid: FileId) -> None:
        with contextlib.suppress(StorageError):
            request = encode_delete(fid.group, fid.remote_filename)
            await self._exchange(address, request, "delete", sizes=_EMPTY_REPLY)

    async def append(self, file_id: str, chunks: Chunks, size: int) -> None:
        """Append exactly `size` bytes to an appender file (EINVAL for a normal file)."""
        fid = parse_file_id(file_id)
        if size < 0:
            raise StorageInvalidRequest(f"append size must not be negative: {size}")
        server = await self._query_update(fid)
        await self._append_to(server.address, fid, chunks, size)

    async def _append_to(self, address: Address, fid: FileId, chunks: Chunks, size: int) -> None:
        head = encode_append_head(fid.remote_filename, size)
        await self._send_content(address, head, chunks, size, "append", _EMPTY_REPLY)

    async def upload_unknown_size(
        self,
        chunks: AsyncIterable[bytes],
        ext: str = "",
        metadata: Mapping[str, str] | None = None,
        *,
        part_size: int = UNKNOWN_SIZE_PART_SIZE,
    ) -> str:
        """Upload a stream of unknown length as an appender file; return its file id.

        Each request must state its size up front, so the stream is cut into parts of about
        `part_size` bytes held in memory one at a time: the first creates the appender file
        (23), the rest are appended (24) on the same storage, which is the file's source
        server anyway. If anything fails after the file exists, it is deleted.
        """
        ext = normalize_ext(ext)
        if part_size < 1:
            raise StorageInvalidRequest("part_size must be positive")
        encoded_meta = encode_metadata(metadata) if metadata else None
        target: StoreTarget | None = None
        fid: FileId | None = None
        buffer = bytearray()
        try:
            async for chunk in chunks:
                buffer += chunk
                if len(buffer) < part_size:
                    continue
                # Send a copy: some event-loop transports keep a view of what they were given.
                part, buffer = bytes(buffer), bytearray()
                target, fid = await self._write_part(target, fid, part, ext)
            if fid is None or buffer:
                target, fid = await self._write_part(target, fid, bytes(buffer), ext)
            assert target is not None  # set together with fid by _write_part
            if encoded_meta is not None:
                request = encode_set_metadata(
                    fid.group, fid.remote_filename, encoded_meta, SET_METADATA_OVERWRITE
                )
                await self._exchange(target.address, request, "set-metadata", sizes=_EMPTY_REPLY)
        except Exception:
            # Not on cancellation: awaiting a delete there would delay the cancel; the
            # partial appender file is then left behind.
            if target is not None and fid is not None:
                await self._delete_quietly(target.address, fid)
            raise
        return str(fid)

    async def _write_part(
        self, target: StoreTarget | None, fid: FileId | None, part: bytes, ext: str
    ) -> tuple[StoreTarget, FileId]:
        if target is None or fid is None:
            target = await self.query_store()
            fid = await self._upload_to(
                target, Cmd.STORAGE_UPLOAD_APPENDER_FILE, part, len(part), ext
            )
        else:
            await self._append_to(target.address, fid, part, len(part))
        return target, fid

    # -- downloads ------------------------------------------------------------------------------

    async def open_download(
        self,
        file_id: str,
        offset: int = 0,
        length: int | None = None,
        *,
        chunk_size: int = DOWNLOAD_CHUNK_SIZE,
    ) -> DownloadStream:
        """Start a download and return the stream once the server has accepted it.

        Errors (missing file, bad offset) surface here, before any byte is yielded, and
        `stream.length` tells how many bytes will follow - handy for Content-Length.
        `length=None` means to the end of the file; `length=0` yields nothing without I/O.

        The storage answers EINVAL for any offset >= size, which includes every download of
        a 0-byte file. On that answer we ask for the file's size (file-info, no CRC): if the
        offset is exactly the size (the empty file from 0, or a read at the very end) the
        stream is empty; if it is past the end, StorageInvalidRequest is raised.
        """
        fid = parse_file_id(file_id)
        if offset < 0 or (length is not None and length < 0):
            raise StorageInvalidRequest(f"invalid download range offset={offset} length={length}")
        if chunk_size < 1:
            raise StorageInvalidRequest("chunk_size must be positive")
        if length == 0:
            return DownloadStream.empty()
        server = await self._query_fetch(fid)
        pool = self.pool(server.address)
        request = encode_download(fid.group, fid.remote_filename, offset, length or 0)
        try:
            conn, body_length = await self._start(pool, request, "download")
        except StorageInvalidRequest as exc:
            return await self._download_at_end(server.address, fid, offset, exc)
        if length is not None and body_length > length:
            pool.release(conn)
            raise StorageProtocolError(
                f"FastDFS server {conn.peer} offered {body_length} bytes for a {length}-byte range"
            )
        return DownloadStream(pool, conn, body_length, chunk_size)

    async def _download_at_end(
        self, address: Address, fid: FileId, offset: int, error: StorageInvalidRequest
    ) -> DownloadStream:
        try:
            info = await self._file_info_at(address, fid, FILE_INFO_NO_CRC | FILE_INFO_QUIET)
        except StorageError:
            raise error from None
        if offset == info.size:
            return DownloadStream.empty()
        if offset > info.size:
            raise StorageInvalidRequest(
                f"download offset {offset} is past the end of {fid} ({info.size} bytes)"
            ) from error
        raise error

    async def download(
        self,
        file_id: str,
        offset: int = 0,
        length: int | None = None,
        *,
        chunk_size: int = DOWNLOAD_CHUNK_SIZE,
    ) -> AsyncGenerator[bytes, None]:
        """Yield the file's bytes (from `offset`, at most `length`) in chunks <= chunk_size.

        Nothing is requested until the first iteration. Breaking out early is fine: the
        connection is then closed instead of pooled (wrap in `contextlib.aclosing` to make
        that immediate). See `open_download` for range and empty-file behaviour.
        """
        async with await self.open_download(
            file_id, offset, length, chunk_size=chunk_size
        ) as stream:
            async for chunk in stream:
                yield chunk

    # -- other file operations ------------------------------------------------------------------

    async def delete(self, file_id: str) -> None:
        """Delete a file (and its metadata); StorageNotFound if it does not exist."""
        fid = parse_file_id(file_id)
        server = await self._query_update(fid)
        request = encode_delete(fid.group, fid.remote_filename)
        await self._exchange(server.address, request, "delete", sizes=_EMPTY_REPLY)

    async def set_metadata(
        self, file_id: str, metadata: Mapping[str, str], *, merge: bool = False
    ) -> None:
        """Replace the file's metadata, or with `merge=True` add/update only these names.

        Overwriting with an empty mapping removes all metadata.
        """
        fid = parse_file_id(file_id)
        encoded = encode_metadata(metadata)
        flag = SET_METADATA_MERGE if merge else SET_METADATA_OVERWRITE
        server = await self._query_update(fid)
        request = encode_set_metadata(fid.group, fid.remote_filename, encoded, flag)
        await self._exchange(server.address, request, "set-metadata", sizes=_EMPTY_REPLY)

    async def get_metadata(self, file_id: str) -> dict[str, str]:
        """The file's metadata; {} for an existing file without any.

        The storage answers ENOENT both for a missing file and for a file that has no
        metadata, so on ENOENT we ask file-info: StorageNotFound only if the file is gone.
        """
        fid = parse_file_id(file_id)
        server = await self._query_fetch(fid)
        request = encode_get_metadata(fid.group, fid.remote_filename)
        try:
            body = await self._exchange(
                server.address, request, "get-metadata", max_size=_MAX_METADATA_REPLY
            )
        except StorageNotFound:
            await self._file_info_at(server.address, fid, FILE_INFO_NO_CRC | FILE_INFO_QUIET)
            return {}
        return decode_metadata(body)

    async def file_info(self, file_id: str, *, compute_crc: bool = True) -> FileInfo:
        """Size, mtime, CRC32 and source IP as the storage reports them (22).

        For appender and slave files the storage computes the CRC by reading the whole file;
        `compute_crc=False` skips that (crc32 is then 0 for those files).
        """
        fid = parse_file_id(file_id)
        server = await self._query_fetch(fid)
        return await self._file_info_at(server.address, fid, 0 if compute_crc else FILE_INFO_NO_CRC)

    async def _file_info_at(self, address: Address, fid: FileId, flags: int) -> FileInfo:
        request = encode_query_file_info(fid.group, fid.remote_filename, flags)
        body = await self._exchange(
            address, request, "query-file-info", sizes=FILE_INFO_REPLY_SIZES
        )
        return decode_file_info_reply(body)
