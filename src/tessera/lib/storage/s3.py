"""S3-compatible storage (AWS S3, MinIO, Ceph RGW, ...) through aioboto3.

Bodies up to `multipart_threshold_bytes` go up in one PUT; bigger ones as a multipart upload
of `part_size_bytes` parts, holding one part in memory at a time, aborted on any failure so
no hidden parts keep costing money. Downloads are ranged GETs streamed in chunks.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

from tessera.lib.config import S3Settings
from tessera.lib.storage.base import ByteRange, ListedKey, StoredStat, extension_of
from tessera.lib.storage.errors import (
    StorageError,
    StorageInvalidRequest,
    StorageNotFound,
    StorageUnavailable,
)

READ_CHUNK_BYTES = 256 * 1024
_NOT_FOUND_CODES = {"NoSuchKey", "NoSuchUpload", "NotFound", "404"}
# A missing bucket is a configuration or outage problem, never proof that a file is gone:
# taken as "not found" it would answer 404 and mark deletes done while the bytes remain.
_UNAVAILABLE_CODES = {"NoSuchBucket", "SlowDown", "ServiceUnavailable", "RequestTimeout"}


def _translate(exc: Exception, what: str) -> StorageError:
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in _UNAVAILABLE_CODES:
            return StorageUnavailable(f"S3 {what}: {code}")
        if code in _NOT_FOUND_CODES or (status == 404 and not code):
            return StorageNotFound(f"S3 {what}: {code or status}")
        if code == "InvalidRange" or status == 416:
            return StorageInvalidRequest(f"S3 {what}: {code}")
        if status >= 500:
            return StorageUnavailable(f"S3 {what}: {code or status}")
        return StorageError(f"S3 {what}: {code or status} {error.get('Message', '')}".strip())
    if isinstance(exc, BotoCoreError | OSError | TimeoutError):
        return StorageUnavailable(f"S3 {what}: {exc}")
    return StorageError(f"S3 {what}: {exc!r}")


def _is_backend_error(exc: BaseException) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, BotoCoreError | ClientError | OSError | TimeoutError)


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    """Raise failures of the S3 client inside the block as `StorageError`s (the one place
    botocore's errors are mapped); anything else, a caller's own error included, passes."""
    try:
        yield
    except Exception as exc:
        if _is_backend_error(exc):
            raise _translate(exc, what) from exc
        raise


class S3File:
    def __init__(self, body: Any, size: int, length: int) -> None:
        self._body = body
        self.size = size
        self.length = length

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            with _translated("read"):
                async for chunk in self._body.iter_chunks(READ_CHUNK_BYTES):
                    if chunk:
                        yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            body.close()


class S3Storage:
    backend = "s3"
    can_list = True

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None

    async def start(self) -> S3Storage:
        import aioboto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]

        s = self.settings
        session = aioboto3.Session()
        config = Config(
            connect_timeout=s.connect_timeout_seconds,
            read_timeout=s.read_timeout_seconds,
            retries={"max_attempts": 3, "mode": "standard"},
            # Path-style addressing works with every S3-compatible server behind one host.
            s3={"addressing_style": "path" if s.endpoint_url else "auto"},
        )
        self._client = await self._stack.enter_async_context(
            session.client(
                "s3",
                endpoint_url=s.endpoint_url,
                region_name=s.region,
                aws_access_key_id=s.access_key_id,
                aws_secret_access_key=(
                    s.secret_access_key.get_secret_value() if s.secret_access_key else None
                ),
                config=config,
            )
        )
        return self

    @property
    def client(self) -> Any:
        if self._client is None:
            raise StorageUnavailable("S3 storage is not started")
        return self._client

    def plan_key(self, name: str) -> str:
        ext = extension_of(name)
        return f"{datetime.now(UTC):%Y/%m/%d}/{uuid.uuid4().hex}" + (f".{ext}" if ext else "")

    async def save(
        self,
        stream: AsyncIterable[bytes],
        *,
        name: str,
        content_type: str,
        key: str | None = None,
    ) -> str:
        key = key or self.plan_key(name)
        threshold = self.settings.multipart_threshold_bytes
        part_size = self.settings.part_size_bytes
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            with _translated(f"save {key}"):
                async for chunk in stream:
                    buffer += chunk
                    if upload_id is None and len(buffer) > threshold:
                        created = await self.client.create_multipart_upload(
                            Bucket=self.bucket, Key=key, ContentType=content_type
                        )
                        upload_id = str(created["UploadId"])
                    while upload_id is not None and len(buffer) >= part_size:
                        part = bytes(buffer[:part_size])
                        del buffer[:part_size]
                        parts.append(await self._upload_part(key, upload_id, len(parts) + 1, part))
                if upload_id is None:
                    await self.client.put_object(
                        Bucket=self.bucket, Key=key, Body=bytes(buffer), ContentType=content_type
                    )
                    return key
                if buffer or not parts:
                    last = bytes(buffer)
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, last))
                await self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
                return key
        except BaseException:
            # Parts of an unfinished multipart upload are invisible but billed: abort it.
            if upload_id is not None:
                with contextlib.suppress(Exception):
                    await self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id
                    )
            raise

    async def _upload_part(
        self, key: str, upload_id: str, number: int, data: bytes
    ) -> dict[str, Any]:
        reply = await self.client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"PartNumber": number, "ETag": reply["ETag"]}

    async def open(self, key: str, byte_range: ByteRange | None = None) -> S3File:
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if byte_range is not None:
            if byte_range.length == 0:
                stat = await self.stat(key)
                return S3File(_EmptyBody(), stat.size, 0)
            arguments["Range"] = f"bytes={byte_range.offset}-{byte_range.last}"
        with _translated(f"get {key}"):
            reply = await self.client.get_object(**arguments)
        length = int(reply["ContentLength"])
        size = length
        content_range = reply.get("ContentRange")
        if content_range and "/" in content_range:
            size = int(content_range.rpartition("/")[2])
        return S3File(reply["Body"], size, length)

    async def delete(self, key: str) -> None:
        # S3 answers a DELETE of a missing key with success; callers treat "gone" alike.
        with _translated(f"delete {key}"):
            await self.client.delete_object(Bucket=self.bucket, Key=key)

    async def stat(self, key: str) -> StoredStat:
        with _translated(f"head {key}"):
            reply = await self.client.head_object(Bucket=self.bucket, Key=key)
        return StoredStat(size=int(reply["ContentLength"]))

    async def ping(self) -> None:
        with _translated("head bucket"):
            await self.client.head_bucket(Bucket=self.bucket)

    async def list_keys(
        self, *, prefix: str = "", older_than: datetime | None = None
    ) -> AsyncIterator[ListedKey]:
        """The bucket's keys under `prefix`, a page of up to 1,000 at a time."""
        paginator = self.client.get_paginator("list_objects_v2")
        arguments: dict[str, Any] = {"Bucket": self.bucket}
        if prefix:
            arguments["Prefix"] = prefix
        with _translated(f"list {prefix or '/'}"):
            async for page in paginator.paginate(**arguments):
                for item in page.get("Contents", []):
                    modified: datetime = item["LastModified"]
                    if older_than is None or modified < older_than:
                        yield ListedKey(str(item["Key"]), modified)
            # A save that died between CreateMultipartUpload and Complete/Abort leaves parts
            # no listing of objects shows but the bucket bills for: offer them as partial.
            uploads = self.client.get_paginator("list_multipart_uploads")
            async for page in uploads.paginate(**arguments):
                for upload in page.get("Uploads", []):
                    started: datetime = upload["Initiated"]
                    if older_than is None or started < older_than:
                        yield ListedKey(
                            str(upload["Key"]),
                            started,
                            partial=True,
                            upload_id=str(upload["UploadId"]),
                        )

    async def discard_partial(self, item: ListedKey) -> bool:
        if item.upload_id is None:
            raise StorageInvalidRequest(f"not an unfinished upload: {item.key!r}")
        try:
            with _translated(f"abort upload of {item.key}"):
                await self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=item.key, UploadId=item.upload_id
                )
        except StorageNotFound:
            return False
        return True

    async def aclose(self) -> None:
        await self._stack.aclose()
        self._client = None


class _EmptyBody:
    async def iter_chunks(self, size: int) -> AsyncIterator[bytes]:
        return
        yield b""  # pragma: no cover - makes this an async generator

    def close(self) -> None:
        return None
