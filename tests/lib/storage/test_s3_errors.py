"""How the S3 backend translates the client's failures into Tessera's storage errors: one
mapping for every operation, and a caller's own errors passing through untouched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tessera.lib.config import S3Settings
from tessera.lib.storage import (
    ByteRange,
    StorageError,
    StorageInvalidRequest,
    StorageNotFound,
    StorageUnavailable,
)
from tessera.lib.storage.s3 import S3Storage


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": "said the server"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "Operation",
    )


class FailingClient:
    """Stands in for the aioboto3 client: every call raises `error`."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        async def call(**_: Any) -> Any:
            raise self.error

        return call


def storage_failing_with(error: BaseException) -> S3Storage:
    storage = S3Storage(S3Settings(bucket="b"))
    storage._client = FailingClient(error)
    return storage


async def _one_chunk() -> AsyncIterator[bytes]:
    yield b"%PDF-1.7"


async def _save(storage: S3Storage) -> None:
    await storage.save(_one_chunk(), name="a.pdf", content_type="application/pdf")


async def _open(storage: S3Storage) -> None:
    await storage.open("2026/01/01/" + "a" * 32, ByteRange(0, 1))


async def _delete(storage: S3Storage) -> None:
    await storage.delete("2026/01/01/" + "a" * 32)


async def _stat(storage: S3Storage) -> None:
    await storage.stat("2026/01/01/" + "a" * 32)


async def _ping(storage: S3Storage) -> None:
    await storage.ping()


OPERATIONS = [_save, _open, _delete, _stat, _ping]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("NoSuchKey", 404), StorageNotFound),
        # A missing bucket is an outage or a misconfiguration, never a missing file.
        (client_error("NoSuchBucket", 404), StorageUnavailable),
        (client_error("", 404), StorageNotFound),
        (client_error("InvalidRange", 416), StorageInvalidRequest),
        (client_error("SlowDown", 503), StorageUnavailable),
        (client_error("InternalError", 500), StorageUnavailable),
        (client_error("RequestTimeout", 400), StorageUnavailable),
        (client_error("AccessDenied", 403), StorageError),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), StorageUnavailable),
        (ConnectionRefusedError("refused"), StorageUnavailable),
        (TimeoutError(), StorageUnavailable),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.__name__.strip("_"))
async def test_client_failures_become_storage_errors(
    operation: Any, error: BaseException, expected: type[StorageError]
) -> None:
    with pytest.raises(StorageError) as raised:
        await operation(storage_failing_with(error))
    assert type(raised.value) is expected
    assert raised.value.__cause__ is error


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.__name__.strip("_"))
async def test_other_errors_pass_through_unchanged(operation: Any) -> None:
    error = RuntimeError("a bug, not an outage")
    with pytest.raises(RuntimeError) as raised:
        await operation(storage_failing_with(error))
    assert raised.value is error


async def test_a_failing_read_becomes_a_storage_error() -> None:
    from tessera.lib.storage.s3 import S3File

    class BrokenBody:
        async def iter_chunks(self, size: int) -> AsyncIterator[bytes]:
            yield b"first"
            raise client_error("InternalError", 500)

        def close(self) -> None:
            return None

    received: list[bytes] = []

    async def read_all() -> None:
        async for chunk in S3File(BrokenBody(), 10, 10):
            received.append(chunk)

    with pytest.raises(StorageUnavailable):
        await read_all()
    assert received == [b"first"]
