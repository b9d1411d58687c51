"""Issue 9 item 13, for every backend: an outage is `StorageUnavailable`, never
`StorageNotFound` (which would answer 404 and let a delete count as done while the bytes
stay). FastDFS's tracker ENOENT is covered in tests/faults/test_storage_outage.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tessera.lib.config import StorageSettings
from tessera.lib.storage import StorageNotFound, StorageUnavailable, open_storage
from tessera.lib.storage.fastdfs import FastDFSClient
from tessera.lib.storage.s3 import _translate
from tests.fakes.fastdfs import FakeFastDFS


async def _chunks(data: bytes):
    yield data


async def test_local_root_gone_is_unavailable_not_missing(tmp_path: Path):
    root = tmp_path / "mnt" / "files"
    storage = await open_storage(StorageSettings(local_root=root), var_dir=tmp_path)
    key = await storage.save(_chunks(b"hello"), name="a.txt", content_type="text/plain")
    await storage.ping()
    with pytest.raises(StorageNotFound):  # a really missing key, root in place
        await storage.delete(storage.plan_key("b.txt") or "")

    root.rename(tmp_path / "mnt" / "elsewhere")  # the volume is unmounted
    root.mkdir()  # ...leaving an empty mount point
    with pytest.raises(StorageUnavailable):
        await storage.delete(key)
    with pytest.raises(StorageUnavailable):
        await storage.open(key)
    with pytest.raises(StorageUnavailable):
        await storage.ping()


def _client_error(code: str, status: int, operation: str = "DeleteObject") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


def test_s3_missing_bucket_is_unavailable_not_missing_file():
    assert isinstance(_translate(_client_error("NoSuchBucket", 404), "delete"), StorageUnavailable)
    assert isinstance(_translate(_client_error("NoSuchKey", 404), "get"), StorageNotFound)
    assert isinstance(_translate(_client_error("404", 404, "HeadObject"), "head"), StorageNotFound)
    assert isinstance(_translate(_client_error("SlowDown", 503), "put"), StorageUnavailable)
    assert isinstance(_translate(_client_error("InternalError", 500), "put"), StorageUnavailable)


async def test_fastdfs_tracker_enoent_is_unavailable(tmp_path: Path):
    async with FakeFastDFS(tmp_path) as fake, FastDFSClient(fake.tracker_addresses) as client:
        file_id = await client.upload(b"bytes", 5, ext="txt")
        await fake.stop_storage()
        for call in (client.query_fetch, client.query_update, client.delete, client.file_info):
            with pytest.raises(StorageUnavailable):
                await call(file_id)
        with pytest.raises(StorageUnavailable):
            await client.open_download(file_id)
        await fake.start_storage()
        await client.delete(file_id)
        with pytest.raises(StorageNotFound):  # the storage itself says the file is gone
            await client.delete(file_id)
