"""Failure handling: tracker fail-over, broken or slow servers, error statuses, and the rule
that a connection is pooled again only after a clean, complete exchange."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tessera.lib.storage.errors import (
    StorageError,
    StorageFull,
    StorageInvalidRequest,
    StorageNotFound,
    StorageProtocolError,
    StorageUnavailable,
)
from tessera.lib.storage.fastdfs import FastDFSClient
from tessera.lib.storage.fastdfs.connection import Connection
from tests.fakes.fastdfs import FakeFastDFS


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def read_all(
    client: FastDFSClient, file_id: str, offset: int = 0, length: int | None = None
) -> bytes:
    return b"".join([chunk async for chunk in client.download(file_id, offset, length)])


@pytest_asyncio.fixture
async def quick(fake: FakeFastDFS) -> AsyncIterator[FastDFSClient]:
    """A client with short timeouts, so timeout tests stay fast."""
    async with FastDFSClient(
        fake.tracker_addresses, connect_timeout_seconds=0.5, network_timeout_seconds=0.3
    ) as client:
        yield client


@pytest_asyncio.fixture
async def blackhole() -> AsyncIterator[tuple[str, int]]:
    """A server that accepts connections and never answers."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    yield ("127.0.0.1", server.sockets[0].getsockname()[1])
    server.close()


# -- trackers ------------------------------------------------------------------------------


async def test_fails_over_from_a_tracker_nobody_listens_on(fake: FakeFastDFS) -> None:
    trackers = [("127.0.0.1", unused_port()), fake.tracker.address]
    async with FastDFSClient(trackers) as client:
        for _ in range(3):  # whatever the rotation's start point
            file_id = await client.upload(b"x", 1)
            assert await read_all(client, file_id) == b"x"


async def test_fails_over_from_a_stopped_tracker(fake: FakeFastDFS, quick: FastDFSClient) -> None:
    await fake.trackers[0].stop()
    for _ in range(4):
        await quick.query_store()
    assert fake.trackers[1].requests.count(101) == 4


async def test_all_trackers_down_is_unavailable(fake: FakeFastDFS) -> None:
    first, second = unused_port(), unused_port()
    trackers: list[tuple[str, int] | str] = [("127.0.0.1", first), f"127.0.0.1:{second}"]
    async with FastDFSClient(trackers, connect_timeout_seconds=0.5) as client:
        with pytest.raises(StorageUnavailable, match="no FastDFS tracker") as caught:
            await client.upload(b"x", 1)
    assert caught.value.code == "storage.unavailable"
    for port in (first, second):
        assert f"127.0.0.1:{port}" in str(caught.value)


async def test_silent_tracker_times_out_then_is_tried_last(
    fake: FakeFastDFS, blackhole: tuple[str, int]
) -> None:
    async with FastDFSClient(
        [blackhole, fake.tracker.address], network_timeout_seconds=0.3
    ) as client:
        started = time.monotonic()
        await client.query_store()  # rotation starts at the silent one: one timeout
        first = time.monotonic() - started
        started = time.monotonic()
        for _ in range(4):
            await client.query_store()
        later = time.monotonic() - started
    assert 0.3 <= first < 1.5
    assert later < 0.25  # the penalised tracker was not waited on again
    assert fake.tracker.requests.count(101) == 5


async def test_requests_rotate_over_healthy_trackers(
    fake: FakeFastDFS, client: FastDFSClient
) -> None:
    for _ in range(6):
        await client.tracker_active_test()
    assert fake.trackers[0].requests == [111] * 3
    assert fake.trackers[1].requests == [111] * 3


async def test_tracker_error_statuses_are_not_failed_over(
    fake: FakeFastDFS, client: FastDFSClient
) -> None:
    for tracker in fake.trackers:
        tracker.fail_next(28, cmd=101)
    with pytest.raises(StorageFull):
        await client.query_store()
    assert len(fake.trackers[0].requests + fake.trackers[1].requests) == 1


async def test_offline_storage(fake: FakeFastDFS, client: FastDFSClient) -> None:
    file_id = await client.upload(b"x", 1)
    await fake.stop_storage()
    with pytest.raises(StorageUnavailable, match="no writable"):
        await client.upload(b"y", 1)  # the tracker answers ENOENT to the store query
    with pytest.raises(StorageUnavailable, match="no live"):
        await read_all(client, file_id)  # ...and to the fetch query: an outage, not a 404
    with pytest.raises(StorageUnavailable):
        await client.delete(file_id)  # a delete is never "done" while the storage is away
    await fake.start_storage()
    assert await read_all(client, file_id) == b"x"


# -- storage misbehaviour --------------------------------------------------------------------


async def test_connection_cut_mid_download(fake: FakeFastDFS, client: FastDFSClient) -> None:
    data = os.urandom(1024 * 1024)
    file_id = await client.upload(data, len(data))
    fake.storage.cut_next_download(after_bytes=300_000)
    received: list[bytes] = []

    async def consume() -> None:
        async for chunk in client.download(file_id):
            received.append(chunk)

    with pytest.raises(StorageProtocolError, match="middle of download"):
        await consume()
    assert sum(map(len, received)) == 300_000
    before = fake.storage.accepted_connections
    assert await read_all(client, file_id) == data
    assert fake.storage.accepted_connections == before + 1  # the cut one was not reused


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (28, StorageFull, "storage.full"),
        (22, StorageInvalidRequest, "storage.invalid_request"),
        (2, StorageNotFound, "storage.not_found"),
        (5, StorageError, "storage.error"),
        (21, StorageError, "storage.error"),
    ],
)
async def test_storage_status_is_mapped(
    fake: FakeFastDFS, client: FastDFSClient, status: int, error: type[Exception], code: str
) -> None:
    await client.storage_active_test(*fake.storage.address)
    fake.storage.fail_next(status, cmd=11)
    with pytest.raises(error) as caught:
        await client.upload(b"payload", 7)
    assert isinstance(caught.value, StorageError)
    assert caught.value.code == code
    assert f"status {status}" in str(caught.value)
    assert fake.files == {}
    # Reused after ENOENT (the server keeps it open); replaced after anything else.
    await client.upload(b"payload", 7)
    assert fake.storage.accepted_connections == (1 if status == 2 else 2)


async def test_truncated_header(fake: FakeFastDFS, client: FastDFSClient) -> None:
    file_id = await client.upload(b"abc", 3)
    fake.storage.truncate_next_header(keep_bytes=5, cmd=22)
    with pytest.raises(StorageProtocolError, match="truncated response header"):
        await client.file_info(file_id)
    assert (await client.file_info(file_id)).size == 3
    fake.tracker.truncate_next_header(keep_bytes=9)
    fake.trackers[1].truncate_next_header(keep_bytes=9)
    with pytest.raises(StorageProtocolError):
        await client.query_store()


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (struct.pack(">QBB", 0, 99, 0), "command 99"),
        (struct.pack(">QBB", 1 << 40, 100, 0), "byte get-metadata reply"),
        (struct.pack(">QBB", 10, 100, 0) + b"short", "truncated get-metadata reply"),
    ],
)
async def test_malformed_storage_replies(
    fake: FakeFastDFS, client: FastDFSClient, raw: bytes, match: str
) -> None:
    file_id = await client.upload(b"abc", 3, metadata={"a": "b"})
    fake.storage.reply_next_raw(raw, cmd=15)
    with pytest.raises(StorageProtocolError, match=match):
        await client.get_metadata(file_id)
    assert await client.get_metadata(file_id) == {"a": "b"}


async def test_oversized_tracker_and_download_replies(
    fake: FakeFastDFS, client: FastDFSClient
) -> None:
    # The first request goes to trackers[0]; a protocol error is not failed over.
    fake.trackers[0].reply_next_raw(struct.pack(">QBB", 41, 100, 0) + bytes(41), cmd=101)
    with pytest.raises(StorageProtocolError, match="41-byte query-store"):
        await client.query_store()
    file_id = await client.upload(b"0123456789", 10)
    fake.storage.reply_next_raw(struct.pack(">QBB", 10, 100, 0) + b"0123456789", cmd=14)
    with pytest.raises(StorageProtocolError, match="10 bytes for a 4-byte range"):
        await read_all(client, file_id, 0, 4)


async def test_error_status_with_a_body_is_not_reused(
    fake: FakeFastDFS, client: FastDFSClient
) -> None:
    file_id = await client.upload(b"abc", 3)
    fake.storage.reply_next_raw(struct.pack(">QBB", 3, 100, 2) + b"???", cmd=22, close=False)
    with pytest.raises(StorageNotFound):
        await client.file_info(file_id)
    assert (await client.file_info(file_id)).size == 3
    assert fake.storage.accepted_connections == 2


async def test_storage_read_timeout(fake: FakeFastDFS, quick: FastDFSClient) -> None:
    file_id = await quick.upload(b"slow", 4)
    fake.storage.delay_next(1.0, cmd=14)
    started = time.monotonic()
    with pytest.raises(StorageUnavailable, match="did not answer download"):
        await read_all(quick, file_id)
    assert time.monotonic() - started < 0.9
    assert await read_all(quick, file_id) == b"slow"


async def test_connect_timeout(fake: FakeFastDFS, monkeypatch: pytest.MonkeyPatch) -> None:
    async def never_connects(*args: object, **kwargs: object) -> None:
        await asyncio.sleep(10)

    monkeypatch.setattr(asyncio, "open_connection", never_connects)
    async with FastDFSClient(fake.tracker_addresses, connect_timeout_seconds=0.2) as client:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="timed out"):
            await client.tracker_active_test()
    assert time.monotonic() - started < 1.5  # 0.2 s per tracker


async def test_stale_pooled_connection_is_retried_once(
    fake: FakeFastDFS, client: FastDFSClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_id = await client.upload(b"abc", 3)
    # The storage answers, then hangs up while the connection sits in the pool; pretend
    # the close went unnoticed so the next request really goes out on the dead socket.
    fake.storage.reply_next_raw(struct.pack(">QBB", 0, 100, 0), cmd=111, close=True)
    await client.storage_active_test(*fake.storage.address)
    await asyncio.sleep(0.05)
    monkeypatch.setattr(Connection, "is_open", property(lambda self: True))
    assert (await client.file_info(file_id)).size == 3
    assert fake.storage.accepted_connections == 2


async def test_restarted_storage_does_not_break_the_pool(
    fake: FakeFastDFS, client: FastDFSClient
) -> None:
    file_id = await client.upload(b"abc", 3)
    await fake.stop_storage()
    await fake.start_storage()
    assert await read_all(client, file_id) == b"abc"


async def test_cancelled_download_closes_its_connection(
    fake: FakeFastDFS, client: FastDFSClient
) -> None:
    data = os.urandom(4 * 1024 * 1024)
    file_id = await client.upload(data, len(data))
    started = asyncio.Event()

    async def slow_reader() -> None:
        async for _ in client.download(file_id):
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(slow_reader())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    before = fake.storage.accepted_connections
    assert await read_all(client, file_id, 5, 5) == data[5:10]
    assert fake.storage.accepted_connections == before + 1
