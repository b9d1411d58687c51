"""An asyncio FastDFS tracker + storage pair on 127.0.0.1 that answers like the real 6.16.1
servers in captures.json; written apart from the client's protocol module so the two cannot
share a mistake. Files live on disk in the caller's directory and move in bounded chunks
(a 512 MiB upload never sits in memory); fault hooks break exchanges on purpose.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import os
import random
import re
import shutil
import struct
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

HEADER = struct.Struct(">QBB")
RESPONSE = 100
QUIT = 82
ACTIVE_TEST = 111
ENOENT = 2
EINVAL = 22

GROUP_SIZE = 16
IO_CHUNK = 256 * 1024
# The real servers refuse fixed-layout requests that do not fit their network buffer.
DEFAULT_BUFF_SIZE = 256 * 1024

APPENDER_FLAG = 1 << 58
_FILENAME_RE = re.compile(r"M([0-9A-F]{2})/[0-9A-F]{2}/[0-9A-F]{2}/[^/]+")
_EXT_RE = re.compile(rb"[A-Za-z0-9._-]*")
_FILES_PER_SUBDIR = 100  # file_distribute_rotate_count default


def header(body_length: int, status: int = 0, cmd: int = RESPONSE) -> bytes:
    return HEADER.pack(body_length, cmd, status)


def _nul_terminated(raw: bytes) -> bytes:
    return raw.split(b"\0", 1)[0]


@dataclass
class StoredFile:
    """One stored file: bytes on disk, the rest as the storage would report it."""

    remote_filename: str
    path: Path
    size: int
    mtime: int
    crc32: int
    appender: bool
    metadata: dict[bytes, bytes] | None = None

    def read(self) -> bytes:
        return self.path.read_bytes()


@dataclass
class Fault:
    """A one-shot misbehaviour applied to the next request (optionally of one command)."""

    kind: Literal["status", "truncate", "delay", "raw"]
    cmd: int | None = None
    status: int = 0
    keep_bytes: int = 0
    seconds: float = 0.0
    data: bytes = b""
    close: bool = True


class _FakeServer:
    """Framing, connection bookkeeping and fault injection shared by tracker and storage."""

    role = "server"

    def __init__(self, cluster: FakeFastDFS) -> None:
        self.cluster = cluster
        self._server: asyncio.Server | None = None
        self._port = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._faults: list[Fault] = []
        self.accepted_connections = 0
        self.requests: list[int] = []  # command codes in arrival order

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        return (self.cluster.ip, self._port)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        # Restart on the same port after stop(), so tracker replies stay valid.
        self._server = await asyncio.start_server(
            self._serve, self.cluster.ip, self._port, limit=4 * IO_CHUNK
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    # -- fault hooks ---------------------------------------------------------------------------

    def fail_next(self, status: int, *, cmd: int | None = None, close: bool | None = None) -> None:
        """Answer the next request with `status` and an empty body (body is drained first).

        By default the connection is closed only where the real server would (storage EINVAL).
        """
        if close is None:
            close = status == EINVAL and self.role == "storage"
        self._faults.append(Fault("status", cmd, status=status, close=close))

    def truncate_next_header(self, keep_bytes: int = 5, *, cmd: int | None = None) -> None:
        """Send only the first `keep_bytes` bytes of a success header, then close."""
        self._faults.append(Fault("truncate", cmd, keep_bytes=keep_bytes))

    def delay_next(self, seconds: float, *, cmd: int | None = None) -> None:
        """Sleep before handling the next request normally (to trigger client timeouts)."""
        self._faults.append(Fault("delay", cmd, seconds=seconds, close=False))

    def reply_next_raw(self, data: bytes, *, cmd: int | None = None, close: bool = True) -> None:
        """Answer the next request with exactly `data` (for malformed replies)."""
        self._faults.append(Fault("raw", cmd, data=data, close=close))

    def _take_fault(self, cmd: int) -> Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.cmd is None or fault.cmd == cmd:
                return self._faults.pop(index)
        return None

    async def _apply_fault(
        self,
        fault: Fault,
        cmd: int,
        status: int,
        body_length: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        if fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            return await self.handle(cmd, status, body_length, reader, writer)
        await drain(reader, body_length)
        if fault.kind == "status":
            writer.write(header(0, fault.status))
        elif fault.kind == "truncate":
            writer.write(header(0)[: fault.keep_bytes])
        else:
            writer.write(fault.data)
        await writer.drain()
        return not fault.close

    # -- connection loop -----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepted_connections += 1
        try:
            while True:
                try:
                    head = await reader.readexactly(HEADER.size)
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                body_length, cmd, status = HEADER.unpack(head)
                self.requests.append(cmd)
                fault = self._take_fault(cmd)
                if fault is not None:
                    keep = await self._apply_fault(fault, cmd, status, body_length, reader, writer)
                else:
                    keep = await self.handle(cmd, status, body_length, reader, writer)
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only stop() cancels these tasks; ending normally keeps asyncio's stream
            # callback from logging the cancellation as an error.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def handle(
        self,
        cmd: int,
        status: int,
        body_length: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Serve one request; return False to close the connection afterwards."""
        raise NotImplementedError


async def drain(reader: asyncio.StreamReader, count: int) -> None:
    while count > 0:
        data = await reader.read(min(count, IO_CHUNK))
        if not data:
            raise asyncio.IncompleteReadError(b"", count)
        count -= len(data)


async def reply(writer: asyncio.StreamWriter, status: int, body: bytes = b"") -> None:
    # Error replies never carry a body on the real servers.
    writer.write(header(len(body) if status == 0 else 0, status) + (body if status == 0 else b""))
    await writer.drain()


class FakeTracker(_FakeServer):
    """Tracker: knows one group with one storage; never checks that files exist."""

    role = "tracker"

    async def handle(
        self,
        cmd: int,
        status: int,
        body_length: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        if cmd == QUIT:
            return False
        if body_length > DEFAULT_BUFF_SIZE:
            await reply(writer, EINVAL)
            return False
        body = await reader.readexactly(body_length)
        cluster = self.cluster
        result: int
        answer = b""
        if cmd == ACTIVE_TEST:
            result = 0 if not body else EINVAL
        elif cmd in (101, 104):
            if (cmd == 101 and body) or (cmd == 104 and len(body) != GROUP_SIZE):
                result = EINVAL
            elif (
                cmd == 104 and _nul_terminated(body) != cluster.group.encode()
            ) or not cluster.storage.running:
                result = ENOENT  # unknown group, or no storage online to write to
            else:
                result = 0
                answer = cluster.server_entry() + bytes([cluster.store_path_index_reply])
        elif cmd in (102, 103):
            if not GROUP_SIZE + 22 <= len(body) < GROUP_SIZE + 128:
                result = EINVAL
            elif (
                _nul_terminated(body[:GROUP_SIZE]) != cluster.group.encode()
                or not cluster.storage.running
            ):
                result = ENOENT
            else:
                result = 0
                answer = cluster.server_entry()
        else:
            result = EINVAL
        await reply(writer, result, answer)
        return True  # the tracker keeps the connection even after EINVAL


class FakeStorage(_FakeServer):
    """Storage: one group, `store_path_count` paths, files on disk under the data dir."""

    role = "storage"

    def __init__(self, cluster: FakeFastDFS) -> None:
        super().__init__(cluster)
        self._cut_downloads: list[int] = []

    def cut_next_download(self, after_bytes: int) -> None:
        """The next download sends its full-length header, `after_bytes` bytes, then closes."""
        self._cut_downloads.append(after_bytes)

    async def handle(
        self,
        cmd: int,
        status: int,
        body_length: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        if cmd == QUIT:
            return False
        if cmd in (11, 23):
            result = await self._upload(cmd == 23, body_length, reader, writer)
        elif cmd == 24:
            result = await self._append(body_length, reader, writer)
        elif (cmd == 14 or cmd in self._FIXED) and body_length <= self.cluster.buff_size:
            body = await reader.readexactly(body_length)
            if cmd == 14:
                return await self._download(body, writer)
            result, answer = await self._FIXED[cmd](self, body, status)
            await reply(writer, result, answer)
        else:
            # Unknown command or oversized request.
            result = EINVAL
            await reply(writer, result)
        # The real storage hangs up after every EINVAL answer.
        return result != EINVAL

    # -- helpers --------------------------------------------------------------------------------

    def _locate(self, group: bytes, name: bytes) -> tuple[int, StoredFile | None]:
        cluster = self.cluster
        if _nul_terminated(group) != cluster.group.encode():
            return EINVAL, None
        try:
            remote = name.decode("ascii")
        except UnicodeDecodeError:
            return EINVAL, None
        match = _FILENAME_RE.fullmatch(remote)
        if match is None or int(match.group(1), 16) >= cluster.store_path_count:
            return EINVAL, None
        stored = cluster.files.get(remote)
        if stored is None:
            return ENOENT, None
        return 0, stored

    # -- fixed-layout commands ------------------------------------------------------------------

    async def _active_test(self, body: bytes, status: int) -> tuple[int, bytes]:
        return (0 if not body else EINVAL), b""

    async def _delete(self, body: bytes, status: int) -> tuple[int, bytes]:
        if len(body) <= GROUP_SIZE:
            return EINVAL, b""
        result, stored = self._locate(body[:GROUP_SIZE], body[GROUP_SIZE:])
        if stored is None:
            return result, b""
        self.cluster.remove(stored)
        return 0, b""

    async def _set_metadata(self, body: bytes, status: int) -> tuple[int, bytes]:
        if len(body) < 2 * 8 + 1 + GROUP_SIZE:
            return EINVAL, b""
        name_length, meta_length = struct.unpack_from(">QQ", body)
        if len(body) != 2 * 8 + 1 + GROUP_SIZE + name_length + meta_length:
            return EINVAL, b""
        flag = body[16:17]
        if flag not in (b"O", b"M"):
            return EINVAL, b""
        name_at = 17 + GROUP_SIZE
        result, stored = self._locate(body[17:name_at], body[name_at : name_at + name_length])
        if stored is None:
            return result, b""
        records = parse_metadata(body[name_at + name_length :])
        if flag == b"O":
            stored.metadata = records or None
        elif records:
            merged = dict(stored.metadata or {})
            merged.update(records)
            stored.metadata = merged
        return 0, b""

    async def _get_metadata(self, body: bytes, status: int) -> tuple[int, bytes]:
        if len(body) <= GROUP_SIZE:
            return EINVAL, b""
        result, stored = self._locate(body[:GROUP_SIZE], body[GROUP_SIZE:])
        if stored is None:
            return result, b""
        if stored.metadata is None:
            return ENOENT, b""  # "no metadata" looks exactly like "no file" on the wire
        return 0, pack_metadata(stored.metadata)

    async def _query_file_info(self, body: bytes, status: int) -> tuple[int, bytes]:
        if len(body) <= GROUP_SIZE:
            return EINVAL, b""
        result, stored = self._locate(body[:GROUP_SIZE], body[GROUP_SIZE:])
        if stored is None:
            return result, b""
        crc = stored.crc32
        if stored.appender:
            # Appender names hold the CRC of the first content only; the real storage
            # recomputes it from the data unless the client said not to (flag bit 0).
            crc = 0 if status & 1 else await asyncio.to_thread(file_crc32, stored.path)
        ip = self.cluster.ip.encode().ljust(self.cluster.ip_addr_size, b"\0")
        return 0, struct.pack(">QQQ", stored.size, stored.mtime, crc) + ip

    _FIXED: dict[int, Callable[[FakeStorage, bytes, int], Awaitable[tuple[int, bytes]]]] = {
        ACTIVE_TEST: _active_test,
        12: _delete,
        13: _set_metadata,
        15: _get_metadata,
        22: _query_file_info,
    }

    # -- streaming commands ---------------------------------------------------------------------

    async def _download(self, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if len(body) <= 2 * 8 + GROUP_SIZE:
            await reply(writer, EINVAL)
            return False
        offset, count = struct.unpack_from(">qq", body)
        if offset < 0 or count < 0:
            await reply(writer, EINVAL)
            return False
        result, stored = self._locate(body[16:32], body[32:])
        if stored is None:
            await reply(writer, result)
            return result != EINVAL
        if offset >= stored.size:  # also every download of a 0-byte file
            await reply(writer, EINVAL)
            return False
        if count == 0 or count > stored.size - offset:
            count = stored.size - offset
        writer.write(header(count))
        limit = self._cut_downloads.pop(0) if self._cut_downloads else None
        to_send = count if limit is None else min(limit, count)
        with stored.path.open("rb") as source:
            source.seek(offset)
            while to_send > 0:
                data = source.read(min(IO_CHUNK, to_send))
                if not data:
                    raise RuntimeError(f"fake storage file {stored.path} shrank")
                writer.write(data)
                await writer.drain()
                to_send -= len(data)
        await writer.drain()
        return limit is None

    async def _upload(
        self,
        appender: bool,
        body_length: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> int:
        cluster = self.cluster
        if body_length < 15:
            await reply(writer, EINVAL)
            return EINVAL
        fixed = await reader.readexactly(15)
        path_index = fixed[0]
        file_size = struct.unpack_from(">Q", fixed, 1)[0]
        ext = _nul_terminated(fixed[9:15])
        if path_index == 0xFF:  # "let the storage choose"
            path_index = 0
        if (
            path_index >= cluster.store_path_count
            or file_size != body_length - 15
            or not _EXT_RE.fullmatch(ext)
        ):
            await reply(writer, EINVAL)
            return EINVAL
        path = cluster.new_data_path()
        crc = 0
        try:
            with path.open("wb") as target:
                remaining = file_size
                while remaining > 0:
                    data = await reader.read(min(remaining, IO_CHUNK))
                    if not data:
                        raise asyncio.IncompleteReadError(b"", remaining)
                    target.write(data)
                    crc = zlib.crc32(data, crc)
                    remaining -= len(data)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        stored = cluster.add_file(path, file_size, crc, appender, ext.decode(), path_index)
        answer = cluster.group.encode().ljust(GROUP_SIZE, b"\0") + stored.remote_filename.encode()
        await reply(writer, 0, answer)
        return 0

    async def _append(
        self, body_length: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> int:
        if body_length < 16:
            await reply(writer, EINVAL)
            return EINVAL
        name_length, size = struct.unpack(">QQ", await reader.readexactly(16))
        if not 44 <= name_length < 128 or body_length != 16 + name_length + size:
            await reply(writer, EINVAL)
            return EINVAL
        name = await reader.readexactly(name_length)
        result, stored = self._locate(self.cluster.group.encode(), name)
        if stored is None or not stored.appender:
            if result == ENOENT:
                await drain(reader, size)  # keep the framing: ENOENT keeps the connection
            result = result or EINVAL
            await reply(writer, result)
            return result
        with stored.path.open("ab") as target:
            remaining = size
            while remaining > 0:
                data = await reader.read(min(remaining, IO_CHUNK))
                if not data:
                    raise asyncio.IncompleteReadError(b"", remaining)
                target.write(data)
                remaining -= len(data)
        stored.size += size
        stored.mtime = self.cluster.now()
        await reply(writer, 0)
        return 0


def parse_metadata(data: bytes) -> dict[bytes, bytes]:
    """Split like the C server: records without a name/value separator are dropped, names
    and values longer than 64 / 256 bytes are truncated."""
    records: dict[bytes, bytes] = {}
    if not data:
        return records
    for record in data.split(b"\x01"):
        name, sep, value = record.partition(b"\x02")
        if sep:
            records[name[:64]] = value[:256]
    return records


def pack_metadata(records: dict[bytes, bytes]) -> bytes:
    # The storage keeps metadata sorted by name, whatever order it was sent in.
    return b"\x01".join(name + b"\x02" + records[name] for name in sorted(records))


def file_crc32(path: Path) -> int:
    crc = 0
    with path.open("rb") as source:
        while data := source.read(IO_CHUNK):
            crc = zlib.crc32(data, crc)
    return crc


@dataclass
class _Counters:
    uploads: int = 0
    data_files: int = 0


class FakeFastDFS:
    """A tracker (or several sharing one view) plus one storage server on 127.0.0.1.

    Use as `async with FakeFastDFS(tmp_path) as fake:` and point a client at
    `fake.tracker_addresses`. `ip_addr_size=46` makes every reply use the IPv6-mode layout.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        group: str = "group1",
        tracker_count: int = 1,
        ip_addr_size: int = 16,
        store_path_count: int = 1,
        store_path_index_reply: int = 0,
        buff_size: int = DEFAULT_BUFF_SIZE,
        seed: int | None = None,
    ) -> None:
        if ip_addr_size not in (16, 46):
            raise ValueError("ip_addr_size is 16 (IPv4 mode) or 46 (IPv6 mode)")
        self.ip = "127.0.0.1"
        self.group = group
        self.ip_addr_size = ip_addr_size
        self.store_path_count = store_path_count
        self.store_path_index_reply = store_path_index_reply
        self.buff_size = buff_size
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp())
        self.trackers = [FakeTracker(self) for _ in range(tracker_count)]
        self.storage = FakeStorage(self)
        self.files: dict[str, StoredFile] = {}
        self._random = random.Random(seed)
        self._counters = _Counters()
        self.clock: Callable[[], float] = time.time

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> Self:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        await self.storage.start()
        for tracker in self.trackers:
            await tracker.start()
        return self

    async def stop(self) -> None:
        for tracker in self.trackers:
            await tracker.stop()
        await self.storage.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def stop_storage(self) -> None:
        """Take the storage offline; trackers then answer ENOENT as the real one does."""
        await self.storage.stop()

    async def start_storage(self) -> None:
        await self.storage.start()

    @property
    def tracker(self) -> FakeTracker:
        return self.trackers[0]

    @property
    def tracker_addresses(self) -> list[tuple[str, int]]:
        return [tracker.address for tracker in self.trackers]

    @property
    def storage_port(self) -> int:
        return self.storage.port

    # -- state ---------------------------------------------------------------------------------

    def now(self) -> int:
        return int(self.clock())

    def server_entry(self) -> bytes:
        """group + IP + port, the common prefix of the tracker's store/fetch replies."""
        ip = self.ip.encode().ljust(self.ip_addr_size - 1, b"\0")
        group = self.group.encode().ljust(GROUP_SIZE, b"\0")
        return group + ip + struct.pack(">Q", self.storage.port)

    def new_data_path(self) -> Path:
        self._counters.data_files += 1
        return self.data_dir / f"fdfs-{id(self):x}-{self._counters.data_files:08d}.dat"

    def add_file(
        self, path: Path, size: int, crc: int, appender: bool, ext: str, path_index: int
    ) -> StoredFile:
        mtime = self.now()
        while True:
            name = self._generate_name(size, crc, mtime, appender, ext, path_index)
            if name not in self.files:
                break
        stored = StoredFile(name, path, size, mtime, crc, appender)
        self.files[name] = stored
        self._counters.uploads += 1
        return stored

    def remove(self, stored: StoredFile) -> None:
        self.files.pop(stored.remote_filename, None)
        stored.path.unlink(missing_ok=True)

    def file_id(self, stored: StoredFile) -> str:
        return f"{self.group}/{stored.remote_filename}"

    def get(self, file_id: str) -> StoredFile:
        return self.files[file_id.partition("/")[2]]

    def _generate_name(
        self, size: int, crc: int, timestamp: int, appender: bool, ext: str, path_index: int
    ) -> str:
        rng = self._random
        # The size word hides small sizes behind 0x80000000|random23 in the high half;
        # appender files carry a flag instead of a size (storage_service.c).
        masked = (0x80000000 | rng.getrandbits(23)) << 32
        if appender:
            size_word = masked | APPENDER_FLAG
        elif size >> 32:
            size_word = size
        else:
            size_word = masked | size
        source = ipaddress.IPv4Address(self.ip).packed
        raw = source + struct.pack(">IQI", timestamp, size_word, crc)
        encoded = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        # The name always ends in 7 characters: random digits, then ".ext" if there is one.
        digits = "".join(str(rng.randrange(10)) for _ in range(7 - (len(ext) + 1 if ext else 0)))
        suffix = f"{digits}.{ext}" if ext else digits
        rotation = self._counters.uploads // _FILES_PER_SUBDIR
        high, low = (rotation // 256) % 256, rotation % 256
        return f"M{path_index:02X}/{high:02X}/{low:02X}/{encoded}{suffix}"
