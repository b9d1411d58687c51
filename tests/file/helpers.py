"""Builders for file-block tests: multipart bodies (in one piece or streamed), sample
files whose content sniffs as a given type, and small query helpers."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.conftest import Api

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def pdf_bytes(size: int, seed: int = 0) -> bytes:
    """`size` bytes that sniff as PDF; deterministic and not all alike."""
    head = b"%PDF-1.7\n"
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    body = (block * (size // len(block) + 1))[: size - len(head)]
    return head + body


def png_image(width: int = 300, height: int = 200, *, exif: bool = False) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (width, height), (200, 30, 60))
    buffer = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x0112] = 6  # Orientation: rotate 90 CW to display
        image.save(buffer, format="JPEG", exif=data.tobytes())
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def multipart(
    content: bytes,
    *,
    filename: str = "report.pdf",
    content_type: str = "application/octet-stream",
    fields_before: dict[str, str] | None = None,
    fields_after: dict[str, str] | None = None,
    boundary: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with one `file` part, and its Content-Type header."""
    head, tail, headers = multipart_frame(
        filename=filename,
        content_type=content_type,
        fields_before=fields_before,
        fields_after=fields_after,
        boundary=boundary,
    )
    return head + content + tail, headers


def multipart_frame(
    *,
    filename: str = "report.pdf",
    content_type: str = "application/octet-stream",
    fields_before: dict[str, str] | None = None,
    fields_after: dict[str, str] | None = None,
    boundary: str | None = None,
) -> tuple[bytes, bytes, dict[str, str]]:
    boundary = boundary or f"----tessera{uuid.uuid4().hex}"
    dash = f"--{boundary}\r\n".encode()

    def field(name: str, value: str) -> bytes:
        return (
            dash
            + f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )

    head = b"".join(field(k, v) for k, v in (fields_before or {}).items())
    head += (
        dash
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename.encode()
        + b'"\r\n'
        + f"Content-Type: {content_type}\r\n\r\n".encode()
    )
    tail = b"\r\n" + b"".join(field(k, v) for k, v in (fields_after or {}).items())
    tail += f"--{boundary}--\r\n".encode()
    return head, tail, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


class StreamedBody:
    """A multipart body produced chunk by chunk (no Content-Length), counting what was read."""

    def __init__(self, head: bytes, content_size: int, tail: bytes, *, chunk: int = 64 * 1024):
        self.head, self.size, self.tail, self.chunk = head, content_size, tail, chunk
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        block = b"%PDF-1.7\n" + b"x" * (self.chunk - 9)
        remaining = self.size
        first = True
        while remaining > 0:
            piece = block if first else b"y" * self.chunk
            first = False
            piece = piece[:remaining]
            remaining -= len(piece)
            self.sent += len(piece)
            yield piece
        yield self.tail


async def upload(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes,
    *,
    path: str = "/api/v1/files",
    method: str = "POST",
    **options: Any,
) -> httpx.Response:
    body, content_headers = multipart(content, **options)
    return await api.request(method, path, content=body, headers={**headers, **content_headers})


async def intents_since(api: Api, since: datetime) -> int:
    """Upload intents recorded since `since` (other tests share the database)."""
    from tessera.blocks.file.model.do import StorageIntentDO

    async with api.runtime.db.read() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(StorageIntentDO)
            .where(StorageIntentDO.created_at >= since)
        )
    return int(count or 0)


async def files_of(api: Api, owner_id: int) -> int:
    from tessera.blocks.file.model.do import StoredFileDO

    async with api.runtime.db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(StoredFileDO).where(StoredFileDO.owner_id == owner_id)
        )
    return int(count or 0)
