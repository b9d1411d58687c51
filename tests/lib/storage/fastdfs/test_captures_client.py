"""Direction (b): the CLIENT must send exactly the recorded request bytes and parse the
recorded answer, for every exchange in captures.json.

A scripted tracker and a scripted storage play the recording: each expects one request
byte-for-byte, then writes the recorded response (and hangs up where the real storage did).
Nothing is masked here. The tracker steps that lead a storage exchange are built in the
test with struct (not with the client's encoders) and point at the scripted storage's port;
a sanity test checks they equal the recorded tracker requests. Exchanges the public API
cannot produce (bad metadata flag, command 250) go through the client's connection layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import pytest_asyncio

from tessera.lib.storage.errors import (
    StorageInvalidRequest,
    StorageNotFound,
    StorageUnavailable,
)
from tessera.lib.storage.fastdfs import FastDFSClient, FileInfo, StorageServer, StoreTarget
from tessera.lib.storage.fastdfs.protocol import encode_header, encode_set_metadata
from tests.lib.storage.fastdfs.conftest import CAPTURES, capture_id

REQUESTS = [bytes.fromhex(capture["request_hex"]) for capture in CAPTURES]
RESPONSES = [bytes.fromhex(capture["response_hex"]) for capture in CAPTURES]
QUIT = bytes.fromhex("00000000000000005200")

HELLO = "group1/M00/00/00/fwAAAWsIRByAP4FYAAAACw1KEYU176.txt"
APPENDER = "group1/M00/00/00/fwAAAWsIRCuENUl6AAAAAA1KEYU761.txt"
ABC = "group1/M00/00/00/fwAAAWsIREeAebJ0AAAAAzUkQcI3433018"
EMPTY = "group1/M00/00/00/fwAAAWsIRHeAZP7NAAAAAAAAAAA444.bin"
MISSING = "group1/M00/00/00/fwAAAWsIRByAP4FYAAAACw1KEYU999.txt"
RECORDED_STORAGE = ("127.0.0.1", 23000)
FILE_INFOS = {
    25: FileInfo(17, 0x6B084430, 0x0C611827, "127.0.0.1"),
    34: FileInfo(11, 0x6B08441C, 0x0D4A1185, "127.0.0.1"),
    35: FileInfo(11, 0x6B08441C, 0x0D4A1185, "127.0.0.1"),
    54: FileInfo(0, 0x6B084477, 0, "127.0.0.1"),
}


# -- test-side packing, independent of the client's encoders -------------------------------


def pack(cmd: int, body: bytes = b"", status: int = 0) -> bytes:
    return struct.pack(">QBB", len(body), cmd, status) + body


def group_and_name(file_id: str) -> bytes:
    group, _, name = file_id.partition("/")
    return group.encode().ljust(16, b"\0") + name.encode()


def file_id_of(body: bytes) -> str:
    return body[:16].rstrip(b"\0").decode() + "/" + body[16:].decode()


def store_reply(port: int, path_index: int) -> bytes:
    entry = b"group1".ljust(16, b"\0") + b"127.0.0.1".ljust(15, b"\0")
    return pack(100, entry + struct.pack(">Q", port) + bytes([path_index]))


def fetch_reply(port: int) -> bytes:
    entry = b"group1".ljust(16, b"\0") + b"127.0.0.1".ljust(15, b"\0")
    return pack(100, entry + struct.pack(">Q", port))


def probe(file_id: str) -> bytes:
    """The client's existence/size probe: file-info with flags 3 (no CRC, no server log)."""
    return pack(22, group_and_name(file_id), status=3)


# -- scripted servers ---------------------------------------------------------------------


@dataclass
class Step:
    request: bytes
    response: bytes
    close: bool = False


@dataclass
class ScriptedServer:
    """Expects `steps` in order across all connections; records what really arrived."""

    steps: list[Step] = field(default_factory=list)
    received: list[bytes] = field(default_factory=list)
    connection_of: list[int] = field(default_factory=list)  # connection number per step
    trailing: list[bytes] = field(default_factory=list)  # bytes after the script ended
    failures: list[str] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def expect(self, request: bytes, response: bytes, *, close: bool = False) -> None:
        """Queue one exchange; `close` hangs up after answering, as the storage does on 22."""
        self.steps.append(Step(request, response, close))

    @property
    def expected(self) -> list[bytes]:
        return [step.request for step in self.steps]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        # Handlers end when the client closes its side; give them a moment to see EOF.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        number = self.connections
        self.connections += 1
        try:
            while len(self.received) < len(self.steps):
                step = self.steps[len(self.received)]
                try:
                    data = await reader.readexactly(len(step.request))
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        self.failures.append(f"partial request {exc.partial.hex()}")
                    return
                self.received.append(data)
                self.connection_of.append(number)
                if data != step.request:
                    self.failures.append(f"expected {step.request.hex()}, got {data.hex()}")
                    return
                writer.write(step.response)
                await writer.drain()
                if step.close:
                    return
            while extra := await reader.read(65536):
                self.trailing.append(extra)
        except ConnectionError as exc:
            self.failures.append(f"connection error: {exc!r}")
        finally:
            writer.close()
            self._tasks.discard(task)


@dataclass
class Script:
    tracker: ScriptedServer
    storage: ScriptedServer
    client: FastDFSClient

    @property
    def storage_address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.storage.port)

    @property
    def tracker_address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.tracker.port)

    def lead(self, request: bytes, path_index: int | None = None) -> None:
        """The tracker step before a storage exchange, pointing at the scripted storage."""
        if path_index is None:
            self.tracker.expect(request, fetch_reply(self.storage.port))
        else:
            self.tracker.expect(request, store_reply(self.storage.port, path_index))


@pytest_asyncio.fixture
async def script() -> AsyncIterator[Script]:
    tracker, storage = ScriptedServer(), ScriptedServer()
    await tracker.start()
    await storage.start()
    client = FastDFSClient(
        [("127.0.0.1", tracker.port)], connect_timeout_seconds=2, network_timeout_seconds=2
    )
    yield Script(tracker, storage, client)
    await client.aclose()
    await tracker.stop()
    await storage.stop()


def assert_script_played(script: Script) -> None:
    for server in (script.tracker, script.storage):
        assert server.failures == []
        assert server.received == server.expected
        # Idle pooled connections get a polite QUIT when the client closes; nothing else.
        assert all(extra == QUIT for extra in server.trailing)


async def raw_status(script: Script, address: tuple[str, int], request: bytes) -> int:
    """Send through the client's connection layer; return the reply's status."""
    pool = script.client.pool(address)
    conn = await pool.acquire()
    try:
        conn.begin()
        await conn.send(request)
        body_length, status = await conn.read_header("raw request")
        assert body_length == 0
        return status
    finally:
        pool.release(conn)


async def fetch_all(client: FastDFSClient, file_id: str, offset: int, length: int | None) -> bytes:
    return b"".join([chunk async for chunk in client.download(file_id, offset, length)])


# -- per-command scenarios ----------------------------------------------------------------

Action = Callable[[], Awaitable[None]]


def tracker_scenario(script: Script, index: int) -> Action:
    request, response = REQUESTS[index], RESPONSES[index]
    cmd, body = request[8], request[10:]
    status = response[9] if response else None
    client = script.client

    if cmd == 82:  # QUIT is what the client sends on its idle connections at aclose()
        script.tracker.expect(REQUESTS[28], RESPONSES[28])
        script.tracker.expect(request, response)

        async def quit_on_close() -> None:
            await client.tracker_active_test()
            await client.aclose()

        return quit_on_close

    script.tracker.expect(request, response)

    async def run() -> None:
        if cmd in (101, 104):
            group = body.rstrip(b"\0").decode() if cmd == 104 else None
            if status == 0:
                assert await client.query_store(group) == StoreTarget(
                    "group1", "127.0.0.1", 23000, 0
                )
            else:
                # ENOENT to a store query means "no writable storage": unavailable, not 404.
                with pytest.raises(StorageUnavailable) as caught:
                    await client.query_store(group)
                assert isinstance(caught.value.__cause__, StorageNotFound)
        elif cmd in (102, 103):
            query = client.query_fetch if cmd == 102 else client.query_update
            file_id = file_id_of(body)
            if status == 0:
                assert await query(file_id) == StorageServer("group1", *RECORDED_STORAGE)
            else:
                # ENOENT from the tracker means "no live storage (in that group)", whatever
                # the file: unavailable, so downloads answer 503 and deletes are retried.
                error = StorageUnavailable if status == 2 else StorageInvalidRequest
                with pytest.raises(error):
                    await query(file_id)
        elif cmd == 111:
            await client.tracker_active_test()
        else:  # unknown command 250
            assert await raw_status(script, script.tracker_address, encode_header(0, 250)) == 22

    return run


def storage_scenario(script: Script, index: int) -> Action:
    request, response = REQUESTS[index], RESPONSES[index]
    cmd, body = request[8], request[10:]
    status = response[9] if response else None
    client, storage = script.client, script.storage
    closes = status == 22

    if cmd in (11, 23):
        path_index, content = body[0], body[15:]
        ext = body[9:15].rstrip(b"\0").decode()
        script.lead(pack(101), path_index=path_index)
        storage.expect(request, response, close=closes)
        upload = client.upload if cmd == 11 else client.upload_appender

        async def run_upload() -> None:
            if status == 0:
                assert await upload(content, len(content), ext) == file_id_of(response[10:])
            else:
                with pytest.raises(StorageInvalidRequest):
                    await upload(content, len(content), ext)

        return run_upload

    if cmd == 12:
        file_id = file_id_of(body)
        script.lead(pack(103, body))
        storage.expect(request, response, close=closes)

        async def run_delete() -> None:
            if status == 0:
                await client.delete(file_id)
            else:
                with pytest.raises(StorageNotFound if status == 2 else StorageInvalidRequest):
                    await client.delete(file_id)

        return run_delete

    if cmd == 13:
        name_length, _meta_length = struct.unpack_from(">QQ", body)
        flag, group_field = body[16:17], body[17:33]
        name = body[33 : 33 + name_length].decode()
        file_id = group_field.rstrip(b"\0").decode() + "/" + name
        raw_meta = body[33 + name_length :]
        if flag == b"X":  # not expressible through the API: use the connection layer
            storage.expect(request, response, close=closes)

            async def run_bad_flag() -> None:
                bad = encode_set_metadata("group1", name, raw_meta, ord("X"))
                assert await raw_status(script, script.storage_address, bad) == 22

            return run_bad_flag
        pairs = [record.split(b"\x02") for record in raw_meta.split(b"\x01") if record]
        metadata = {key.decode(): value.decode() for key, value in pairs}
        script.lead(pack(103, group_and_name(file_id)))
        storage.expect(request, response)

        async def run_set_metadata() -> None:
            await client.set_metadata(file_id, metadata, merge=flag == b"M")

        return run_set_metadata

    if cmd == 14:
        offset, count = struct.unpack_from(">QQ", body)
        file_id = file_id_of(body[16:])
        script.lead(pack(102, body[16:]))
        storage.expect(request, response, close=closes)
        if status == 22:
            # offset >= size: the client asks for the size on a new connection (the storage
            # hung up) and answers "empty" only when the offset is exactly at the end.
            storage.expect(probe(file_id), RESPONSES[54] if file_id == EMPTY else RESPONSES[34])

        async def run_download() -> None:
            length = count or None
            if status == 0:
                assert await fetch_all(client, file_id, offset, length) == response[10:]
            elif status == 2:
                with pytest.raises(StorageNotFound):
                    await fetch_all(client, file_id, offset, length)
            elif file_id == EMPTY:
                assert await fetch_all(client, file_id, offset, length) == b""
            else:
                with pytest.raises(StorageInvalidRequest, match="past the end"):
                    await fetch_all(client, file_id, offset, length)

        return run_download

    if cmd == 15:
        file_id = file_id_of(body)
        script.lead(pack(102, body))
        storage.expect(request, response)
        if status == 2:
            # ENOENT means "no file" or "no metadata"; the probe tells which.
            if file_id == MISSING:
                storage.expect(probe(file_id), RESPONSES[36])
            elif file_id == HELLO:
                storage.expect(probe(file_id), RESPONSES[34])
            else:
                info = struct.pack(">QQQ", 3, 0x6B084447, 0) + b"127.0.0.1".ljust(16, b"\0")
                storage.expect(probe(file_id), pack(100, info))

        async def run_get_metadata() -> None:
            if status == 0:
                metadata = await client.get_metadata(file_id)
                assert list(metadata.items()) == [
                    ("author", "fish"),
                    ("height", "80"),
                    ("width", "200"),
                ]
            elif file_id == MISSING:
                with pytest.raises(StorageNotFound):
                    await client.get_metadata(file_id)
            else:
                assert await client.get_metadata(file_id) == {}
            # The probe went over the same connection: ENOENT keeps it open.
            assert len(set(storage.connection_of)) == 1

        return run_get_metadata

    if cmd == 22:
        file_id = file_id_of(body)
        script.lead(pack(102, body))
        storage.expect(request, response)

        async def run_file_info() -> None:
            if status == 0:
                info = await client.file_info(file_id, compute_crc=not request[9] & 1)
                assert info == FILE_INFOS[index]
            else:
                with pytest.raises(StorageNotFound):
                    await client.file_info(file_id)

        return run_file_info

    if cmd == 24:
        name_length, size = struct.unpack_from(">QQ", body)
        file_id = "group1/" + body[16 : 16 + name_length].decode()
        content = body[16 + name_length :]
        script.lead(pack(103, group_and_name(file_id)))
        storage.expect(request, response, close=closes)

        async def run_append() -> None:
            if status == 0:
                await client.append(file_id, content, size)
            else:
                with pytest.raises(StorageInvalidRequest):
                    await client.append(file_id, content, size)

        return run_append

    if cmd == 111:
        if index == 61:
            # Recorded right after 60 on the same connection: ENOENT keeps it usable.
            script.lead(pack(103, REQUESTS[60][10:]))
            storage.expect(REQUESTS[60], RESPONSES[60])
        storage.expect(request, response)

        async def run_active_test() -> None:
            if index == 61:
                with pytest.raises(StorageNotFound):
                    await client.delete(MISSING)
            await client.storage_active_test(*script.storage_address)
            assert storage.connections == 1

        return run_active_test

    if cmd == 82:
        storage.expect(REQUESTS[29], RESPONSES[29])
        storage.expect(request, response)

        async def run_quit() -> None:
            await client.storage_active_test(*script.storage_address)
            await client.aclose()

        return run_quit

    assert cmd == 250
    storage.expect(request, response, close=True)

    async def run_unknown() -> None:
        assert await raw_status(script, script.storage_address, encode_header(0, 250)) == 22

    return run_unknown


@pytest.mark.parametrize("index", range(len(CAPTURES)), ids=capture_id)
async def test_client_sends_recorded_bytes_and_parses_reply(index: int, script: Script) -> None:
    target = CAPTURES[index]["op"].split("/")[1]
    build = tracker_scenario if target == "tracker" else storage_scenario
    action = build(script, index)
    await action()
    await script.client.aclose()
    await script.tracker.stop()
    await script.storage.stop()
    assert_script_played(script)


async def test_connection_closed_after_einval_is_not_reused(script: Script) -> None:
    script.lead(pack(103, REQUESTS[59][10:]))
    script.storage.expect(REQUESTS[59], RESPONSES[59], close=True)
    script.storage.expect(REQUESTS[29], RESPONSES[29])
    with pytest.raises(StorageInvalidRequest):
        await script.client.delete("group9/" + REQUESTS[59][26:].decode())
    await script.client.storage_active_test(*script.storage_address)
    assert script.storage.connection_of == [0, 1]


def test_synthetic_tracker_steps_match_the_recordings() -> None:
    assert pack(101) == REQUESTS[0]
    assert pack(102, group_and_name(HELLO)) == REQUESTS[2]
    assert pack(103, group_and_name(HELLO)) == REQUESTS[6]
    assert pack(102, group_and_name(APPENDER)) == REQUESTS[24]
    assert pack(103, group_and_name(EMPTY)) == REQUESTS[55]
    assert pack(22, group_and_name(ABC)) == REQUESTS[47][:8] + b"\x16\x00" + REQUESTS[47][10:]
    assert store_reply(23000, 0) == RESPONSES[0]
    assert fetch_reply(23000) == RESPONSES[2]
    assert probe(EMPTY)[:9] + b"\x00" + probe(EMPTY)[10:] == REQUESTS[54]
