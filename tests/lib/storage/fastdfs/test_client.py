"""Client against the fake cluster: round trips, ranges, metadata, appenders, pooling."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tessera.lib.storage.errors import (
    StorageError,
    StorageInvalidRequest,
    StorageNotFound,
    StorageUnavailable,
)
from tessera.lib.storage.fastdfs import FastDFSClient, decode_remote_filename, parse_file_id
from tests.fakes.fastdfs import FakeFastDFS

MiB = 1024 * 1024


async def chunked(data: bytes, seed: int = 1, max_chunk: int = 200_000) -> AsyncIterator[bytes]:
    rng = random.Random(seed)
    position = 0
    while position < len(data):
        size = rng.randint(1, max_chunk)
        yield data[position : position + size]
        position += size
        await asyncio.sleep(0)


async def read_all(
    client: FastDFSClient, file_id: str, offset: int = 0, length: int | None = None
) -> bytes:
    return b"".join([chunk async for chunk in client.download(file_id, offset, length)])


async def test_small_round_trip_and_file_info(client: FastDFSClient, fake: FakeFastDFS) -> None:
    file_id = await client.upload(b"hello world", 11, "txt")
    assert await read_all(client, file_id) == b"hello world"

    decoded = decode_remote_filename(parse_file_id(file_id).remote_filename)
    assert (decoded.size, decoded.crc32, decoded.source_ip) == (11, 0x0D4A1185, "127.0.0.1")
    assert decoded.extension == "txt"
    assert abs(decoded.create_timestamp - time.time()) < 60

    info = await client.file_info(file_id)
    assert (info.size, info.crc32, info.source_ip) == (11, 0x0D4A1185, "127.0.0.1")
    assert info.create_timestamp == decoded.create_timestamp
    assert fake.get(file_id).read() == b"hello world"


async def test_multi_mib_chunked_round_trip_streams_in_bounded_chunks(
    client: FastDFSClient,
) -> None:
    data = os.urandom(3 * MiB + 12345)
    file_id = await client.upload(chunked(data), len(data), "bin")
    digest = hashlib.sha256()
    sizes = []
    async for chunk in client.download(file_id):
        sizes.append(len(chunk))
        digest.update(chunk)
    assert digest.digest() == hashlib.sha256(data).digest()
    assert max(sizes) <= 64 * 1024
    info = await client.file_info(file_id)
    assert (info.size, info.crc32) == (len(data), zlib.crc32(data))


async def test_ranges_and_clamping(client: FastDFSClient) -> None:
    data = bytes(range(256)) * 1000
    file_id = await client.upload(data, len(data))
    assert await read_all(client, file_id, 6, 5) == data[6:11]
    assert await read_all(client, file_id, 1000) == data[1000:]
    assert await read_all(client, file_id, 255_990, 100) == data[255_990:]  # clamped
    assert await read_all(client, file_id, 0, len(data)) == data
    stream = await client.open_download(file_id, 10, 20)
    async with stream:
        assert stream.length == 20
        assert b"".join([chunk async for chunk in stream]) == data[10:30]


async def test_end_of_file_and_empty_file_rules(client: FastDFSClient) -> None:
    data = b"0123456789"
    file_id = await client.upload(data, len(data))
    assert await read_all(client, file_id, len(data)) == b""  # exactly at the end: empty
    with pytest.raises(StorageInvalidRequest, match="past the end"):
        await read_all(client, file_id, len(data) + 1)
    assert await read_all(client, file_id, 3, 0) == b""  # zero length: nothing, no I/O

    empty_id = await client.upload(b"", 0, "bin")
    assert await read_all(client, empty_id) == b""  # the server's EINVAL is absorbed
    assert (await client.open_download(empty_id)).length == 0
    with pytest.raises(StorageInvalidRequest):
        await read_all(client, empty_id, 1)
    await client.delete(empty_id)
    with pytest.raises(StorageNotFound):
        await read_all(client, empty_id)
    with pytest.raises(StorageInvalidRequest):
        await read_all(client, file_id, -1)


async def test_metadata_set_get_merge_overwrite_clear(client: FastDFSClient) -> None:
    file_id = await client.upload(b"x", 1, "txt", {"width": "160", "height": "80"})
    assert list((await client.get_metadata(file_id)).items()) == [
        ("height", "80"),
        ("width", "160"),
    ]
    await client.set_metadata(file_id, {"author": "fish", "width": "200"}, merge=True)
    assert await client.get_metadata(file_id) == {"author": "fish", "height": "80", "width": "200"}
    await client.set_metadata(file_id, {"only": "this"})
    assert await client.get_metadata(file_id) == {"only": "this"}
    await client.set_metadata(file_id, {})
    assert await client.get_metadata(file_id) == {}  # exists, no metadata: {} not 404
    await client.set_metadata(file_id, {"name": "caf\u00e9 \u2615"}, merge=True)
    assert await client.get_metadata(file_id) == {"name": "caf\u00e9 \u2615"}

    plain = await client.upload(b"y", 1)
    assert await client.get_metadata(plain) == {}
    await client.delete(plain)
    with pytest.raises(StorageNotFound):
        await client.get_metadata(plain)
    with pytest.raises(StorageNotFound):
        await client.set_metadata(plain, {"a": "b"})


async def test_invalid_metadata_is_refused_before_uploading(
    client: FastDFSClient, fake: FakeFastDFS
) -> None:
    with pytest.raises(StorageInvalidRequest):
        await client.upload(b"x", 1, metadata={"bad\x01name": "v"})
    assert fake.files == {}
    assert fake.storage.accepted_connections == 0


async def test_failed_metadata_after_upload_deletes_the_file(
    client: FastDFSClient, fake: FakeFastDFS
) -> None:
    fake.storage.fail_next(5, cmd=13)  # EIO on set-metadata
    with pytest.raises(StorageError, match="EIO") as caught:
        await client.upload(b"data", 4, "txt", {"a": "b"})
    assert caught.value.code == "storage.error"
    assert fake.files == {}
    assert fake.storage.requests == [11, 13, 12]


async def test_delete_then_not_found(client: FastDFSClient, fake: FakeFastDFS) -> None:
    file_id = await client.upload(b"bye", 3)
    await client.delete(file_id)
    assert fake.files == {}
    for operation in (client.delete, client.file_info, client.get_metadata):
        with pytest.raises(StorageNotFound):
            await operation(file_id)
    with pytest.raises(StorageNotFound):
        await read_all(client, file_id)


async def test_active_tests(client: FastDFSClient, fake: FakeFastDFS) -> None:
    await client.tracker_active_test()
    await client.tracker_active_test(fake.trackers[1].address)
    await client.tracker_active_test(f"127.0.0.1:{fake.tracker.port}")
    await client.storage_active_test(*fake.storage.address)
    assert fake.storage.requests == [111]


async def test_query_helpers(client: FastDFSClient, fake: FakeFastDFS) -> None:
    target = await client.query_store()
    assert (target.group, target.address, target.store_path_index) == (
        "group1",
        fake.storage.address,
        0,
    )
    assert (await client.query_store("group1")).address == fake.storage.address
    with pytest.raises(StorageUnavailable, match="nogroup"):
        await client.query_store("nogroup")
    file_id = "group1/M00/00/00/fwAAAWsIRByAP4FYAAAACw1KEYU176.txt"  # need not exist
    assert (await client.query_fetch(file_id)).address == fake.storage.address
    assert (await client.query_update(file_id)).address == fake.storage.address
    # The tracker answers ENOENT for a group with no live storage: never a missing file.
    with pytest.raises(StorageUnavailable, match="nogroup"):
        await client.query_fetch("nogroup/M00/00/00/fwAAAWsIRByAP4FYAAAACw1KEYU176.txt")


async def test_default_group_uses_query_104(fake: FakeFastDFS) -> None:
    async with FastDFSClient(fake.tracker_addresses, group="group1") as client:
        await client.upload(b"a", 1)
    async with FastDFSClient(fake.tracker_addresses, group="other") as client:
        with pytest.raises(StorageUnavailable):
            await client.upload(b"a", 1)
    queries = set(fake.trackers[0].requests) | set(fake.trackers[1].requests)
    assert queries - {82} == {104}  # 82: the QUIT sent when each client closed


async def test_appender_and_append(client: FastDFSClient, fake: FakeFastDFS) -> None:
    file_id = await client.upload_appender(b"hello world", 11, "txt")
    decoded = decode_remote_filename(parse_file_id(file_id).remote_filename)
    assert decoded.is_appender
    assert decoded.size is None
    await client.append(file_id, chunked(b" again" * 1000, max_chunk=100), 6000)
    await client.append(file_id, b"", 0)
    expected = b"hello world" + b" again" * 1000
    assert await read_all(client, file_id) == expected
    info = await client.file_info(file_id)
    assert (info.size, info.crc32) == (len(expected), zlib.crc32(expected))
    assert (await client.file_info(file_id, compute_crc=False)).crc32 == 0

    normal = await client.upload(b"abc", 3)
    with pytest.raises(StorageInvalidRequest):
        await client.append(normal, b"x", 1)
    with pytest.raises(StorageNotFound):
        await client.append(file_id.replace(file_id[-7:-4], "000"), b"x", 1)


async def test_upload_of_unknown_size_goes_through_appender_parts(
    client: FastDFSClient, fake: FakeFastDFS
) -> None:
    data = os.urandom(300_000)
    file_id = await client.upload_unknown_size(
        chunked(data, max_chunk=30_000), "dat", {"kind": "stream"}, part_size=64 * 1024
    )
    assert await read_all(client, file_id) == data
    assert await client.get_metadata(file_id) == {"kind": "stream"}
    assert fake.storage.requests.count(23) == 1
    assert fake.storage.requests.count(24) >= 2  # ~64-94 KB parts of 300 KB

    empty_id = await client.upload_unknown_size(chunked(b""))
    assert (await client.file_info(empty_id)).size == 0
    assert await read_all(client, empty_id) == b""


async def test_unknown_size_upload_failure_removes_partial_file(
    client: FastDFSClient, fake: FakeFastDFS
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"a" * 100_000
        yield b"b" * 100_000
        raise RuntimeError("source failed")

    with pytest.raises(RuntimeError, match="source failed"):
        await client.upload_unknown_size(broken(), part_size=50_000)
    assert fake.files == {}


async def test_declared_size_mismatch_drops_the_connection(
    client: FastDFSClient, fake: FakeFastDFS
) -> None:
    with pytest.raises(StorageInvalidRequest, match="declared"):
        await client.upload(chunked(b"x" * 100), 50)
    with pytest.raises(StorageInvalidRequest, match="declared"):
        await client.upload(chunked(b"x" * 100), 150)
    with pytest.raises(StorageInvalidRequest):
        await client.upload(b"abc", 4)
    # Each half-sent upload forced a new connection; the fake stored nothing.
    file_id = await client.upload(b"ok", 2)
    assert await read_all(client, file_id) == b"ok"
    assert fake.storage.accepted_connections == 4
    assert list(fake.files) == [parse_file_id(file_id).remote_filename]


async def test_invalid_file_ids_fail_without_io(client: FastDFSClient, fake: FakeFastDFS) -> None:
    for operation in (client.delete, client.file_info, client.get_metadata, client.query_fetch):
        with pytest.raises(StorageInvalidRequest):
            await operation("not-a-file-id")
    with pytest.raises(StorageInvalidRequest):
        await client.upload(b"x", 1, "bad ext")
    assert all(tracker.accepted_connections == 0 for tracker in fake.trackers)


async def test_connections_are_pooled_and_reused_after_enoent(
    client: FastDFSClient, fake: FakeFastDFS
) -> None:
    file_id = await client.upload(b"pooled", 6)
    missing = file_id[:-10] + "0000000000"
    for _ in range(3):
        assert await read_all(client, file_id) == b"pooled"
        with pytest.raises(StorageNotFound):
            await client.file_info(missing)
        await client.get_metadata(file_id)
    assert fake.storage.accepted_connections == 1
    assert sum(tracker.accepted_connections for tracker in fake.trackers) == 2


async def test_pool_bounds_concurrent_connections(fake: FakeFastDFS) -> None:
    async with FastDFSClient(fake.tracker_addresses, pool_size_per_server=2) as client:
        data = os.urandom(512 * 1024)
        file_id = await client.upload(data, len(data))
        results = await asyncio.gather(*(read_all(client, file_id) for _ in range(12)))
        assert all(result == data for result in results)
    assert fake.storage.accepted_connections <= 2
    assert all(tracker.accepted_connections <= 2 for tracker in fake.trackers)


async def test_abandoned_download_closes_its_connection(
    client: FastDFSClient, fake: FakeFastDFS
) -> None:
    data = os.urandom(2 * MiB)
    file_id = await client.upload(data, len(data))
    async with contextlib.aclosing(client.download(file_id)) as chunks:
        async for _ in chunks:
            break
    stream = await client.open_download(file_id)
    await stream.aclose()  # closed without reading a byte
    connections = fake.storage.accepted_connections
    assert await read_all(client, file_id, 100, 10) == data[100:110]
    assert fake.storage.accepted_connections == connections + 1
    assert client.pool(fake.storage.address).idle_count == 1


async def test_ipv6_reply_layout(tmp_path: Path) -> None:
    async with (
        FakeFastDFS(tmp_path, ip_addr_size=46) as fake,
        FastDFSClient(fake.tracker_addresses) as client,
    ):
        file_id = await client.upload(b"six", 3, "v6")
        assert await read_all(client, file_id) == b"six"
        assert (await client.file_info(file_id)).source_ip == "127.0.0.1"
        assert (await client.query_store()).port == fake.storage_port


async def test_closed_client_refuses_work(fake: FakeFastDFS) -> None:
    client = FastDFSClient(fake.tracker_addresses)
    await client.tracker_active_test()
    await client.aclose()
    await client.aclose()
    with pytest.raises(StorageUnavailable, match="closed"):
        await client.tracker_active_test()
    # aclose() said QUIT on the idle tracker connection.
    await asyncio.sleep(0.05)
    assert 82 in fake.trackers[0].requests + fake.trackers[1].requests


def test_constructor_validation() -> None:
    with pytest.raises(ValueError):
        FastDFSClient([])
    with pytest.raises(ValueError):
        FastDFSClient("127.0.0.1:22122")
    with pytest.raises(ValueError):
        FastDFSClient(["127.0.0.1:22122"], pool_size_per_server=0)
    with pytest.raises(ValueError):
        FastDFSClient(["127.0.0.1:22122"], network_timeout_seconds=0)
    with pytest.raises(StorageInvalidRequest):
        FastDFSClient(["127.0.0.1:22122"], group="bad group")
    client = FastDFSClient(["a:1", ("b", 2)])
    assert client.trackers == [("a", 1), ("b", 2)]
