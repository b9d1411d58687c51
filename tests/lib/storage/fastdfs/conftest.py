"""Fixtures for the FastDFS client tests: the in-process fake cluster, a client bound to it,
and the recorded exchanges of a real FastDFS 6.16.1 (a copy of shared/fastdfs/captures.json,
vendored so the tests do not depend on files outside the repository).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from tessera.lib.storage.fastdfs import FastDFSClient
from tests.fakes.fastdfs import FakeFastDFS

CAPTURES: list[dict[str, Any]] = json.loads(
    (Path(__file__).with_name("captures.json")).read_text(encoding="utf-8")
)


def capture_id(index: int) -> str:
    return f"{index:02d}-{CAPTURES[index]['op']}"


@pytest_asyncio.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeFastDFS]:
    async with FakeFastDFS(tmp_path / "fdfs", tracker_count=2) as server:
        yield server


@pytest_asyncio.fixture
async def client(fake: FakeFastDFS) -> AsyncIterator[FastDFSClient]:
    async with FastDFSClient(
        fake.tracker_addresses,
        connect_timeout_seconds=2.0,
        network_timeout_seconds=5.0,
    ) as fdfs:
        yield fdfs
