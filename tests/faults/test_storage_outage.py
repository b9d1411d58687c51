"""Issue 9 items 13 and 14 (fault suite): a FastDFS storage server stopped before or during
uploads, downloads and deletes. The client sees 503 with Retry-After (never 404 or 500),
readiness says so, and a delete made during the outage completes once the storage is back.
Runs against the protocol-faithful fake (tests/fakes/fastdfs.py) on both databases."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from tessera.lib.tasks.outbox import OutboxEventDO
from tests.conftest import Api, ApiFactory
from tests.fakes.fastdfs import FakeFastDFS
from tests.file.helpers import multipart_frame, pdf_bytes, upload
from tests.helpers import drain, signed_in

MiB = 1024 * 1024


@pytest_asyncio.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeFastDFS]:
    async with FakeFastDFS(tmp_path / "fdfs", tracker_count=2) as cluster:
        yield cluster


@pytest_asyncio.fixture
async def api(api_with: ApiFactory, fake: FakeFastDFS) -> AsyncIterator[Api]:
    trackers = [f"{host}:{port}" for host, port in fake.tracker_addresses]
    storage = {
        "backend": "fastdfs",
        "fastdfs": {
            "trackers": trackers,
            "connect_timeout_seconds": 2.0,
            "network_timeout_seconds": 5.0,
        },
        "fastdfs_part_size_bytes": 1 * MiB,
    }
    async with api_with(
        storage=storage, server={"readiness_timeout_seconds": 0.5}, tasks={"max_attempts": 50}
    ) as client:
        yield client


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "storage.unavailable"
    assert int(response.headers["retry-after"]) > 0


async def test_download_while_storage_is_down_is_503_not_404(api: Api, fake: FakeFastDFS):
    user = await signed_in(api)
    content = pdf_bytes(200_000)
    stored = (await upload(api, user.headers, content)).json()
    await fake.stop_storage()
    assert_unavailable(await api.get(stored["download_url"], headers=user.headers))
    ranged = await api.get(stored["download_url"], headers={**user.headers, "Range": "bytes=0-9"})
    assert_unavailable(ranged)
    await fake.start_storage()
    back = await api.get(stored["download_url"], headers=user.headers)
    assert back.status_code == 200
    assert back.content == content


async def test_upload_while_storage_is_down_is_503(api: Api, fake: FakeFastDFS):
    user = await signed_in(api)
    await fake.stop_storage()
    assert_unavailable(await upload(api, user.headers, pdf_bytes(50_000)))
    listed = await api.get("/api/v1/files", headers=user.headers)
    assert listed.json()["total"] == 0


async def test_storage_stopped_in_the_middle_of_an_upload(api: Api, fake: FakeFastDFS):
    user = await signed_in(api)
    head, tail, headers = multipart_frame(filename="big.pdf", content_type="application/pdf")
    content = pdf_bytes(4 * MiB)

    async def body() -> AsyncIterator[bytes]:
        yield head
        for offset in range(0, len(content), 256 * 1024):
            if offset == 2 * MiB:  # the first part is stored; the storage goes away
                await fake.stop_storage()
            yield content[offset : offset + 256 * 1024]
        yield tail

    response = await api.post("/api/v1/files", content=body(), headers={**user.headers, **headers})
    assert_unavailable(response)
    assert (await api.get("/api/v1/files", headers=user.headers)).json()["total"] == 0


async def test_delete_during_outage_completes_after_recovery(api: Api, fake: FakeFastDFS):
    user = await signed_in(api)
    stored = (await upload(api, user.headers, pdf_bytes(30_000))).json()
    assert len(fake.files) == 1
    await fake.stop_storage()

    deleted = await api.delete(f"/api/v1/files/{stored['id']}", headers=user.headers)
    assert deleted.status_code == 204
    await drain(api)
    # Not "done": the tracker's ENOENT meant no live storage, not a missing file.
    event = await deleted_event(api, stored["id"])
    assert event.status == "pending"
    assert event.attempts >= 1
    assert len(fake.files) == 1

    await fake.start_storage()
    deadline = time.monotonic() + 30
    while (event := await deleted_event(api, stored["id"])).status != "delivered":
        if time.monotonic() > deadline:
            pytest.fail(f"file.deleted still {event.status} after recovery: {event.last_error}")
        await drain(api)  # retries become due after a short backoff
    assert fake.files == {}


async def deleted_event(api: Api, file_id: int) -> OutboxEventDO:
    async with api.runtime.db.read() as session:
        rows = (
            await session.scalars(
                select(OutboxEventDO)
                .where(OutboxEventDO.topic == "file.deleted")
                .order_by(OutboxEventDO.id.desc())
            )
        ).all()
    for row in rows:
        if str(json.loads(row.payload).get("file_id")) == str(file_id):
            return row
    raise AssertionError(f"no file.deleted event for file {file_id}")


async def test_readyz_sees_a_stopped_storage_server(api: Api, fake: FakeFastDFS):
    assert (await api.get("/readyz")).status_code == 200
    await fake.stop_storage()
    response = await api.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "unavailable"
    await fake.start_storage()
    assert (await api.get("/readyz")).status_code == 200


async def test_readyz_sees_a_frozen_storage_server(api: Api, fake: FakeFastDFS):
    """The storage accepts connections but never answers (SIGSTOP, a hung disk): the tracker
    still calls it active, so only a probe of the storage itself with a timeout sees it."""
    fake.storage.delay_next(30, cmd=111)
    response = await api.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "storage": "unavailable",
    }


async def test_delete_outliving_the_outbox_retries_is_swept_later(
    api_with: ApiFactory, fake: FakeFastDFS, tmp_path: Path
):
    """The storage stays down longer than the outbox retries (the event goes dead): the
    tombstone keeps the key, and `tessera files sweep` deletes the bytes once it is back."""
    trackers = [f"{host}:{port}" for host, port in fake.tracker_addresses]
    storage = {"backend": "fastdfs", "fastdfs": {"trackers": trackers}}
    async with api_with(storage=storage, tasks={"max_attempts": 1}) as api:
        user = await signed_in(api)
        stored = (await upload(api, user.headers, pdf_bytes(20_000))).json()
        await fake.stop_storage()
        assert (
            await api.delete(f"/api/v1/files/{stored['id']}", headers=user.headers)
        ).status_code == 204
        await drain(api)
        assert (await deleted_event(api, stored["id"])).status == "dead"
        assert len(fake.files) == 1

        env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
        env.update(
            TESSERA_DATABASE__URL=api.settings.database.url,
            TESSERA_CACHE__URL=api.settings.cache.url or "",
            TESSERA_CACHE__KEY_PREFIX=api.settings.cache.key_prefix,
            TESSERA_VAR_DIR=str(tmp_path / "cli-var"),
            TESSERA_STORAGE__BACKEND="fastdfs",
            TESSERA_STORAGE__FASTDFS__TRACKERS=json.dumps(trackers),
            TESSERA_SECURITY__JWT_SECRET=api.settings.jwt_signing_secret,
        )
        if not api.settings.cache.url:
            del env["TESSERA_CACHE__URL"]

        async def sweep() -> str:
            process = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).with_name("tessera")),
                "files",
                "sweep",
                "--older-than-minutes",
                "0",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output, _ = await process.communicate()
            assert process.returncode == 0, output.decode()
            return output.decode()

        still_down = await sweep()
        assert "kept" in still_down
        assert len(fake.files) == 1
        await fake.start_storage()
        swept = await sweep()
        assert "removed" in swept, swept
        assert fake.files == {}
        assert "0 orphan(s) swept" in await sweep()  # the tombstone is gone too
