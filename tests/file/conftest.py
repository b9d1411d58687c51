"""Fixtures of the file-block tests: every API test runs against each storage backend
(local disk, FastDFS through the protocol-faithful fake, S3 through a moto server on
127.0.0.1) on each database backend (SQLite and MariaDB + Redis).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.conftest import Api, ApiFactory
from tests.fakes.fastdfs import FakeFastDFS

MiB = 1024 * 1024


@dataclass
class StorageCase:
    """One storage backend, set up for one test: its settings and a way to count objects."""

    name: str
    settings: dict[str, Any]
    root: Path | None = None
    fake: FakeFastDFS | None = None
    s3: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    async def count(self) -> int:
        """How many objects the backend holds (partial writes included)."""
        if self.name == "local":
            assert self.root is not None
            from tessera.lib.storage.local import ROOT_MARKER

            return sum(
                1 for path in self.root.rglob("*") if path.is_file() and path.name != ROOT_MARKER
            )
        if self.name == "fastdfs":
            assert self.fake is not None
            return len(self.fake.files)
        bucket = self.settings["s3"]["bucket"]

        def count_s3() -> int:
            listed = self.s3.list_objects_v2(Bucket=bucket)
            uploads = self.s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
            return int(listed.get("KeyCount", 0)) + len(uploads)

        return await asyncio.to_thread(count_s3)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_admin(moto_endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest_asyncio.fixture(params=["local", "fastdfs", "s3"])
async def storage_case(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StorageCase]:
    name = request.param
    base: dict[str, Any] = {"backend": name}
    if name == "local":
        root = tmp_path / "files"
        yield StorageCase(name, {**base, "local_root": root}, root=root)
    elif name == "fastdfs":
        async with FakeFastDFS(tmp_path / "fdfs", tracker_count=2) as fake:
            trackers = [f"{host}:{port}" for host, port in fake.tracker_addresses]
            settings = {
                **base,
                "fastdfs": {
                    "trackers": trackers,
                    "connect_timeout_seconds": 2.0,
                    "network_timeout_seconds": 5.0,
                },
                # Small parts so multi-MiB uploads exercise create + append.
                "fastdfs_part_size_bytes": 1 * MiB,
            }
            yield StorageCase(name, settings, fake=fake)
    else:
        endpoint: str = request.getfixturevalue("moto_endpoint")
        admin = request.getfixturevalue("s3_admin")
        bucket = f"tessera-{uuid.uuid4().hex[:12]}"
        await asyncio.to_thread(admin.create_bucket, Bucket=bucket)
        settings = {
            **base,
            "s3": {
                "bucket": bucket,
                "endpoint_url": endpoint,
                "access_key_id": "testing",
                "secret_access_key": "testing",
                "multipart_threshold_bytes": 5 * MiB,
                "part_size_bytes": 5 * MiB,
            },
        }
        yield StorageCase(name, settings, s3=admin)


@pytest_asyncio.fixture
async def files_api(api_with: ApiFactory, storage_case: StorageCase) -> AsyncIterator[Api]:
    async with api_with(storage=storage_case.settings) as client:
        yield client
