"""Listing is a storage capability: local disk and S3 declare it and list their keys (by
prefix and age), FastDFS declares it absent. The sweep relies on exactly this contract."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tessera.lib.config import FastDFSSettings, S3Settings
from tessera.lib.storage import (
    ListableStorage,
    ListedKey,
    Storage,
    StorageInvalidRequest,
    StorageNotFound,
    listable,
)
from tessera.lib.storage.fastdfs_backend import FastDFSStorage
from tessera.lib.storage.local import LocalStorage
from tessera.lib.storage.s3 import S3Storage

NOW = datetime.now(UTC)


def _backends(tmp_path: Path) -> list[Storage]:
    return [
        LocalStorage(tmp_path),
        S3Storage(S3Settings()),
        FastDFSStorage(FastDFSSettings()),
    ]


def test_each_backend_declares_what_it_implements(tmp_path: Path) -> None:
    declared = {storage.backend: storage.can_list for storage in _backends(tmp_path)}
    assert declared == {"local": True, "s3": True, "fastdfs": False}
    for storage in _backends(tmp_path):
        assert isinstance(storage, ListableStorage) is storage.can_list
        assert (listable(storage) is storage) is storage.can_list


# --- local disk --------------------------------------------------------------------------------


def _put(root: Path, relative: str, *, age: timedelta = timedelta(0)) -> str:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    stamp = (NOW - age).timestamp()
    os.utime(path, (stamp, stamp))
    return relative


async def _listed(storage: ListableStorage, **options: Any) -> set[ListedKey]:
    return {item async for item in storage.list_keys(**options)}


async def test_local_lists_keys_and_partial_writes_but_nothing_else(tmp_path: Path) -> None:
    name = uuid.uuid4().hex
    key = _put(tmp_path, f"2026/01/02/{name}.pdf", age=timedelta(hours=1))
    partial = _put(tmp_path, f"2026/01/02/.{name}.pdf.0badf00d.part", age=timedelta(hours=1))
    _put(tmp_path, "2026/01/02/notes.txt")  # not a key shape: someone else's file
    _put(tmp_path, ".cache/whatever.part")

    listed = await _listed(LocalStorage(tmp_path))

    assert {(item.key, item.partial) for item in listed} == {(key, False), (partial, True)}
    for item in listed:
        assert abs(item.modified_at - (NOW - timedelta(hours=1))) < timedelta(seconds=1)


async def test_local_listing_by_prefix_and_age(tmp_path: Path) -> None:
    old = _put(tmp_path, f"2026/01/02/{uuid.uuid4().hex}", age=timedelta(hours=2))
    fresh = _put(tmp_path, f"2026/01/02/{uuid.uuid4().hex}")
    other_day = _put(tmp_path, f"2026/01/03/{uuid.uuid4().hex}", age=timedelta(hours=2))
    storage = LocalStorage(tmp_path)

    def keys(listed: set[ListedKey]) -> set[str]:
        return {item.key for item in listed}

    assert keys(await _listed(storage)) == {old, fresh, other_day}
    assert keys(await _listed(storage, prefix="2026/01/02/")) == {old, fresh}
    assert keys(await _listed(storage, prefix="2026/01/0")) == {old, fresh, other_day}
    assert keys(await _listed(storage, older_than=NOW - timedelta(hours=1))) == {old, other_day}
    assert keys(await _listed(storage, prefix="2027/")) == set()


@pytest.mark.parametrize("prefix", ["../", "2026/../../", "/etc/"])
async def test_local_listing_stays_under_the_root(tmp_path: Path, prefix: str) -> None:
    with pytest.raises(StorageInvalidRequest):
        await _listed(LocalStorage(tmp_path / "files"), prefix=prefix)


async def test_local_deletes_a_listed_partial_write_but_never_opens_one(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    partial = _put(tmp_path, f"2026/01/02/.{uuid.uuid4().hex}.3a3a3a3a.part")
    with pytest.raises(StorageInvalidRequest):
        await storage.open(partial)
    await storage.delete(partial)
    assert not (tmp_path / partial).exists()
    with pytest.raises(StorageNotFound):
        await storage.delete(partial)


# --- S3 ----------------------------------------------------------------------------------------


class _Paginator:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages
        self.arguments: dict[str, Any] = {}

    async def paginate(self, **arguments: Any) -> AsyncIterator[dict[str, Any]]:
        self.arguments = arguments
        for page in self.pages:
            yield page


class _ListingClient:
    def __init__(self, objects: _Paginator, uploads: _Paginator) -> None:
        self.paginators = {"list_objects_v2": objects, "list_multipart_uploads": uploads}

    def get_paginator(self, name: str) -> _Paginator:
        return self.paginators[name]


async def test_s3_lists_every_page_by_prefix_and_age() -> None:
    old, fresh = NOW - timedelta(hours=2), NOW
    paginator = _Paginator(
        [
            {"Contents": [{"Key": "2026/01/02/a", "LastModified": old}]},
            {"Contents": [{"Key": "2026/01/02/b", "LastModified": fresh}]},
            {},  # an empty bucket's page has no Contents
        ]
    )
    uploads = _Paginator(
        [
            {"Uploads": [{"Key": "2026/01/02/c", "UploadId": "u1", "Initiated": old}]},
            {"Uploads": [{"Key": "2026/01/02/d", "UploadId": "u2", "Initiated": fresh}]},
            {},
        ]
    )
    storage = S3Storage(S3Settings(bucket="files"))
    storage._client = _ListingClient(paginator, uploads)

    listed = await _listed(storage, prefix="2026/01/", older_than=NOW - timedelta(hours=1))

    # Unfinished multipart uploads are offered as partial writes, by the same age rule.
    assert listed == {
        ListedKey("2026/01/02/a", old),
        ListedKey("2026/01/02/c", old, partial=True, upload_id="u1"),
    }
    assert paginator.arguments == {"Bucket": "files", "Prefix": "2026/01/"}
    assert uploads.arguments == {"Bucket": "files", "Prefix": "2026/01/"}
