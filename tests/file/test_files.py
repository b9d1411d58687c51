"""The /api/v1/files endpoints on every storage backend and database backend: upload,
metadata, listing, streaming download with ranges, deletion through the outbox, limits,
content sniffing, file-name safety and the no-row-without-bytes rule."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest

from tessera.lib.db import utcnow
from tessera.lib.storage import StorageUnavailable, get_storage
from tests.conftest import Api, ApiFactory
from tests.file.conftest import MiB, StorageCase
from tests.file.helpers import (
    StreamedBody,
    files_of,
    intents_since,
    multipart,
    multipart_frame,
    pdf_bytes,
    upload,
)
from tests.helpers import drain, signed_in


async def test_upload_stores_bytes_and_metadata(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    content = pdf_bytes(10_000)
    # The client's claimed type is ignored: the content decides.
    response = await upload(files_api, user.headers, content, content_type="text/html")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "report.pdf"
    assert body["size"] == len(content)
    assert body["content_type"] == "application/pdf"
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["purpose"] == "attachment"
    assert body["owner_id"] == user.id
    assert body["download_url"] == f"/api/v1/files/{body['id']}/content"
    assert await storage_case.count() == 1

    meta = await files_api.get(f"/api/v1/files/{body['id']}", headers=user.headers)
    assert meta.status_code == 200
    assert meta.json() == body

    download = await files_api.get(body["download_url"], headers=user.headers)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-length"] == str(len(content))
    assert download.headers["etag"] == f'"{body["sha256"]}"'
    assert download.headers["accept-ranges"] == "bytes"
    assert download.headers["content-disposition"].startswith('attachment; filename="report.pdf"')


async def test_multi_mib_upload_streams_in_parts(files_api: Api, storage_case: StorageCase) -> None:
    """6 MiB, streamed without Content-Length: several FastDFS appends, an S3 multipart
    upload, a local temp file renamed into place."""
    user = await signed_in(files_api)
    head, tail, headers = multipart_frame(filename="big.pdf")
    streamed = StreamedBody(head, 6 * MiB, tail)
    expected = hashlib.sha256()
    async for piece in StreamedBody(b"", 6 * MiB, b""):
        expected.update(piece)
    response = await files_api.post(
        "/api/v1/files", content=streamed.__aiter__(), headers={**user.headers, **headers}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["size"] == 6 * MiB
    assert body["sha256"] == expected.hexdigest()
    assert await storage_case.count() == 1

    download = await files_api.get(body["download_url"], headers=user.headers)
    assert hashlib.sha256(download.content).hexdigest() == body["sha256"]
    middle = await files_api.get(
        body["download_url"], headers={**user.headers, "Range": f"bytes={5 * MiB}-{5 * MiB + 99}"}
    )
    assert middle.status_code == 206
    assert middle.content == download.content[5 * MiB : 5 * MiB + 100]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),  # first bytes
        ("bytes=-7", 993, 999),  # suffix
        ("bytes=990-", 990, 999),  # open-ended
        ("bytes=995-5000", 995, 999),  # clamped to the end
    ],
)
async def test_range_requests(
    files_api: Api, storage_case: StorageCase, header: str, start: int, end: int
) -> None:
    user = await signed_in(files_api)
    content = pdf_bytes(1000, seed=3)
    created = (await upload(files_api, user.headers, content)).json()
    response = await files_api.get(
        created["download_url"], headers={**user.headers, "Range": header}
    )
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/1000"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.content == content[start : end + 1]


async def test_unsatisfiable_range_is_416(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    created = (await upload(files_api, user.headers, pdf_bytes(100))).json()
    for header in ("bytes=100-", "bytes=5000-6000", "bytes=-0"):
        response = await files_api.get(
            created["download_url"], headers={**user.headers, "Range": header}
        )
        assert response.status_code == 416, header
        assert response.headers["content-range"] == "bytes */100"
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "file.range_not_satisfiable"
    # Malformed or multi-range headers are ignored: the whole file.
    whole = await files_api.get(
        created["download_url"], headers={**user.headers, "Range": "bytes=0-1,5-6"}
    )
    assert whole.status_code == 200
    assert len(whole.content) == 100


async def test_etag_gives_304(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    created = (await upload(files_api, user.headers, pdf_bytes(500))).json()
    etag = f'"{created["sha256"]}"'
    response = await files_api.get(
        created["download_url"], headers={**user.headers, "If-None-Match": etag}
    )
    assert response.status_code == 304
    assert response.content == b""
    # The pooled storage connection was released: the next download still works.
    again = await files_api.get(created["download_url"], headers=user.headers)
    assert again.status_code == 200
    assert len(again.content) == 500


async def test_another_users_file_is_not_found(files_api: Api, storage_case: StorageCase) -> None:
    owner = await signed_in(files_api)
    other = await signed_in(files_api)
    created = (await upload(files_api, owner.headers, pdf_bytes(300))).json()
    for path in (f"/api/v1/files/{created['id']}", created["download_url"]):
        response = await files_api.get(path, headers=other.headers)
        assert response.status_code == 404
        assert response.json()["code"] == "file.not_found"
    deleted = await files_api.delete(f"/api/v1/files/{created['id']}", headers=other.headers)
    assert deleted.status_code == 404
    listed = await files_api.get("/api/v1/files", headers=other.headers)
    assert listed.json()["total"] == 0
    forbidden = await files_api.get(
        "/api/v1/files", params={"owner_id": owner.id}, headers=other.headers
    )
    assert forbidden.status_code == 403
    assert (await files_api.get("/api/v1/files")).status_code == 401


async def test_staff_with_read_any_reads_every_file(
    files_api: Api, storage_case: StorageCase
) -> None:
    owner = await signed_in(files_api)
    staff = await signed_in(files_api, role="staff")
    content = pdf_bytes(400)
    created = (await upload(files_api, owner.headers, content)).json()
    meta = await files_api.get(f"/api/v1/files/{created['id']}", headers=staff.headers)
    assert meta.status_code == 200
    download = await files_api.get(created["download_url"], headers=staff.headers)
    assert download.content == content
    listed = await files_api.get(
        "/api/v1/files", params={"owner_id": owner.id}, headers=staff.headers
    )
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    # Reading is not deleting.
    deleted = await files_api.delete(f"/api/v1/files/{created['id']}", headers=staff.headers)
    assert deleted.status_code == 403


async def test_list_is_paged_and_own(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    ids = []
    for seed in range(3):
        response = await upload(
            files_api, user.headers, pdf_bytes(100, seed), fields_before={"purpose": "attachment"}
        )
        ids.append(response.json()["id"])
    page = await files_api.get("/api/v1/files", params={"size": 2}, headers=user.headers)
    assert page.json()["total"] == 3
    assert len(page.json()["items"]) == 2
    second = await files_api.get(
        "/api/v1/files", params={"size": 2, "page": 2}, headers=user.headers
    )
    seen = {item["id"] for item in page.json()["items"] + second.json()["items"]}
    assert seen == set(ids)


async def test_delete_removes_bytes_through_the_outbox(
    files_api: Api, storage_case: StorageCase
) -> None:
    user = await signed_in(files_api)
    created = (await upload(files_api, user.headers, pdf_bytes(2000))).json()
    storage = get_storage(files_api.runtime)
    real_delete = storage.delete
    calls = 0

    async def failing_delete(key: str) -> None:
        nonlocal calls
        calls += 1
        raise StorageUnavailable("storage is down")

    response = await files_api.delete(f"/api/v1/files/{created['id']}", headers=user.headers)
    assert response.status_code == 204
    assert (await files_api.get(created["download_url"], headers=user.headers)).status_code == 404
    assert await storage_case.count() == 1  # not yet: the outbox does it

    storage.delete = failing_delete  # type: ignore[method-assign]
    await drain(files_api)
    assert calls >= 1
    assert await storage_case.count() == 1

    storage.delete = real_delete  # type: ignore[method-assign]
    await _make_events_due(files_api)
    await drain(files_api)
    assert await storage_case.count() == 0


async def _make_events_due(api: Api) -> None:
    from sqlalchemy import update

    from tessera.lib.tasks.outbox import OutboxEventDO

    async with api.runtime.db.transaction() as uow:
        await uow.session.execute(
            update(OutboxEventDO)
            .where(OutboxEventDO.status == "pending")
            .values(available_at=utcnow() - timedelta(seconds=1))
        )


async def test_storage_failure_leaves_no_row(
    files_api: Api, storage_case: StorageCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await signed_in(files_api)
    storage = get_storage(files_api.runtime)
    started = utcnow()

    async def broken_save(stream: Any, **_: Any) -> str:
        async for _chunk in stream:
            raise StorageUnavailable("connection refused")
        raise AssertionError("unreachable")

    monkeypatch.setattr(storage, "save", broken_save)
    response = await upload(files_api, user.headers, pdf_bytes(5000))
    assert response.status_code == 503
    assert response.json()["code"] == "storage.unavailable"
    assert await files_of(files_api, user.id) == 0
    assert await intents_since(files_api, started) == 0


async def test_failed_commit_deletes_stored_bytes(
    files_api: Api, storage_case: StorageCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tessera.blocks.file import dao

    user = await signed_in(files_api)
    started = utcnow()

    async def failing_add(*_: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(dao, "add_file", failing_add)
    response = await upload(files_api, user.headers, pdf_bytes(3000))
    assert response.status_code == 500
    assert await storage_case.count() == 0
    assert await files_of(files_api, user.id) == 0
    assert await intents_since(files_api, started) == 0


async def test_too_large_is_413_as_soon_as_exceeded(
    api_with: ApiFactory, storage_case: StorageCase
) -> None:
    settings = {**storage_case.settings, "max_upload_bytes": 256 * 1024}
    async with api_with(storage=settings) as api:
        user = await signed_in(api)
        head, tail, headers = multipart_frame()
        streamed = StreamedBody(head, 64 * MiB, tail)
        response = await api.post(
            "/api/v1/files", content=streamed.__aiter__(), headers={**user.headers, **headers}
        )
        assert response.status_code == 413
        assert response.json()["code"] == "file.too_large"
        assert streamed.sent < 2 * MiB  # stopped reading long before the end
        assert await storage_case.count() == 0
        assert await files_of(api, user.id) == 0

        # A declared Content-Length that cannot fit is refused without reading.
        body, headers = multipart(pdf_bytes(400 * 1024))
        declared = await api.post(
            "/api/v1/files", content=body, headers={**user.headers, **headers}
        )
        assert declared.status_code == 413

        exact = await upload(api, user.headers, pdf_bytes(256 * 1024))
        assert exact.status_code == 201


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"<html><script>alert(1)</script></html>\x00", "cat.png"),  # HTML renamed .png
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200), "setup.pdf"),  # a PE executable
        (b"\x00\x01\x02\x03" * 100, "data.txt"),  # binary, not text
    ],
)
async def test_type_is_sniffed_from_content(
    files_api: Api, storage_case: StorageCase, content: bytes, filename: str
) -> None:
    user = await signed_in(files_api)
    response = await upload(
        files_api, user.headers, content, filename=filename, content_type="image/png"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "file.unsupported_type"
    assert await storage_case.count() == 0


async def test_text_and_images_are_recognised(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    text = await upload(files_api, user.headers, "naïve café, 日本語\n".encode(), filename="n.txt")
    assert text.json()["content_type"] == "text/plain"
    download = await files_api.get(text.json()["download_url"], headers=user.headers)
    assert download.headers["content-type"] == "text/plain; charset=utf-8"
    gif = await upload(files_api, user.headers, b"GIF89a" + bytes(50), filename="a.bin")
    assert gif.json()["content_type"] == "image/gif"


async def test_empty_file_is_422(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    response = await upload(files_api, user.headers, b"")
    assert response.status_code == 422
    assert response.json()["code"] == "file.empty"
    assert await storage_case.count() == 0


async def test_malformed_requests(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    not_multipart = await files_api.post("/api/v1/files", json={"file": "x"}, headers=user.headers)
    assert not_multipart.status_code == 415
    boundary = "b0undary"
    no_file = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nattachment\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    missing = await files_api.post(
        "/api/v1/files",
        content=no_file,
        headers={**user.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert missing.status_code == 422
    assert missing.json()["code"] == "file.missing"
    head, _, headers = multipart_frame()
    truncated = await files_api.post(
        "/api/v1/files", content=head + b"%PDF-1.4 cut", headers={**user.headers, **headers}
    )
    assert truncated.status_code == 400
    assert await storage_case.count() == 0


async def test_purpose_before_or_after_the_file(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    after = await upload(
        files_api, user.headers, pdf_bytes(100), fields_after={"purpose": "order_document"}
    )
    assert after.json()["purpose"] == "order_document"
    before_bad = await upload(
        files_api, user.headers, pdf_bytes(100), fields_before={"purpose": "x"}
    )
    assert before_bad.status_code == 422
    assert before_bad.json()["code"] == "file.invalid_purpose"
    after_bad = await upload(files_api, user.headers, pdf_bytes(100), fields_after={"purpose": "x"})
    assert after_bad.status_code == 422
    assert await storage_case.count() == 1  # the bytes of the refused upload were removed


@pytest.mark.parametrize(
    ("raw_name", "stored_name"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\me\\doc.pdf", "doc.pdf"),
        ("evil\t\u202egpj.pdf;x", "evil gpj.pdf_x"),  # control, bidi override, separator
        ("..", "file"),
        ("报告 2026.pdf", "报告 2026.pdf"),
    ],
)
async def test_file_names_are_sanitized(
    files_api: Api, storage_case: StorageCase, raw_name: str, stored_name: str
) -> None:
    user = await signed_in(files_api)
    response = await upload(files_api, user.headers, pdf_bytes(100), filename=raw_name)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == stored_name
    download = await files_api.get(response.json()["download_url"], headers=user.headers)
    disposition = download.headers["content-disposition"]
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert "set-cookie" not in {key.lower() for key in download.headers}
    if not stored_name.isascii():
        assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A%202026.pdf" in disposition
