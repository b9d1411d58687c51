"""Backend-neutral errors raised by Tessera's file-storage clients.

Every storage backend (FastDFS today) translates its own failures into these classes, so
services and the HTTP layer handle one small, stable set of `code`s whatever stores the bytes.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every storage failure; `code` is stable, the message is for humans and logs."""

    code: str = "storage.error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class StorageNotFound(StorageError):
    """The file (or the thing asked about, such as its metadata or group) does not exist."""

    code = "storage.not_found"


class StorageFull(StorageError):
    """The backend has no space left for the write."""

    code = "storage.full"


class StorageUnavailable(StorageError):
    """No server could be reached or answered in time; retrying later may succeed."""

    code = "storage.unavailable"


class StorageProtocolError(StorageError):
    """A server answered with something the client cannot trust (truncated, malformed, wrong)."""

    code = "storage.protocol_error"


class StorageInvalidRequest(StorageError):
    """The request was rejected as invalid, locally or by the server."""

    code = "storage.invalid_request"


__all__ = [
    "StorageError",
    "StorageFull",
    "StorageInvalidRequest",
    "StorageNotFound",
    "StorageProtocolError",
    "StorageUnavailable",
]
