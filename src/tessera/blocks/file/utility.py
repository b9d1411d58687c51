"""Helpers of the file block with no I/O of their own: the streaming multipart reader, file
name sanitising, content sniffing, `Range` parsing and `Content-Disposition` building.

The multipart reader is why uploads never spool: it feeds `request.stream()` through
python-multipart's push parser and hands the file part on as it arrives, one network chunk
at a time, so the service can hash, sniff, size-check and store while the client sends.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from tessera.lib.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from tessera.lib.storage import ByteRange

MAX_NAME_LENGTH = 255
SNIFF_BYTES = 4096
# Form fields other than the file are tiny (`purpose`); cap them so a body cannot grow
# without limit outside the file part, where the size limit applies.
MAX_FIELD_BYTES = 1024
MAX_NON_FILE_BYTES = 64 * 1024

# --- file names ---------------------------------------------------------------------------

_UNSAFE_NAME_CHARS = re.compile(r'[\\/:*?"<>|;]')
_SPACES = re.compile(r"\s+")


def sanitize_filename(raw: str | None, *, default: str = "file") -> str:
    """A display name safe in paths, logs and headers: no directories, no control or format
    characters, no quotes or separators, at most 255 characters (extension kept)."""
    if not raw:
        return default
    name = unicodedata.normalize("NFC", raw)
    # Browsers and old clients may send a full path; keep only its last part.
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in name
    )
    name = _UNSAFE_NAME_CHARS.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")
    if not name:
        return default
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_NAME_LENGTH - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_NAME_LENGTH]
    return name


def content_disposition(name: str, *, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name as `filename*`."""
    fallback = "".join(
        ch if (ch.isascii() and ch.isprintable() and ch not in '"\\%') else "_" for ch in name
    )
    encoded = urllib.parse.quote(name, safe="")
    return f"{disposition}; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{encoded}"


# --- content sniffing -------------------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"PK\x05\x06", 0, "application/zip"),
)
_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c")


def sniff_content_type(head: bytes, *, complete: bool) -> str | None:
    """The media type the first bytes prove, or None. `complete`: `head` is the whole file
    (otherwise a UTF-8 sequence cut at the end of `head` is not held against it)."""
    for magic, offset, media_type in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return media_type
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if _looks_like_text(head, complete=complete):
        return "text/plain"
    return None


def _looks_like_text(head: bytes, *, complete: bool) -> bool:
    if not head or any(byte < 0x20 and byte not in _TEXT_CONTROLS for byte in head):
        return False
    if b"\x7f" in head:
        return False
    text = head.removeprefix(b"\xef\xbb\xbf")
    for cut in range(4 if not complete else 1):
        try:
            (text[: len(text) - cut] if cut else text).decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


# --- ranges ---------------------------------------------------------------------------------

_RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class Unsatisfiable(Exception):
    """A well-formed range that does not overlap the file."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """One `bytes=` range resolved against `size`; None means serve the whole file.

    Malformed headers and multi-range requests are ignored (RFC 9110 allows it);
    well-formed ranges that miss the file raise `Unsatisfiable` (answer 416).
    """
    if not header:
        return None
    match = _RANGE_RE.match(header)
    if not match:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        length = min(suffix, size)
        return ByteRange(size - length, length)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise Unsatisfiable
    end = min(end, size - 1)
    return ByteRange(start, end - start + 1)


# --- streaming multipart ----------------------------------------------------------------------


class MultipartUpload:
    """One `multipart/form-data` request body, read as it arrives.

    `await start()` reads up to the headers of the `file` part (form fields before it land in
    `fields`); `chunks()` then yields the file's bytes and, after the file part, reads the
    rest of the body so fields sent after the file are in `fields` once iteration ends.
    """

    def __init__(self, request: Request, *, file_field: str = "file") -> None:
        content_type = request.headers.get("content-type", "")
        media_type, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if media_type != b"multipart/form-data" or not boundary:
            raise UnsupportedMediaType(
                "Send the file as multipart/form-data with a boundary.",
                code="file.multipart_required",
            )
        self._body = request.stream().__aiter__()
        self._file_field = file_field.encode()
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.declared_type: str | None = None
        self._pending: list[bytes] = []
        self._file_started = False
        self._file_done = False
        self._ended = False
        self._non_file_bytes = 0
        self._part_kind = ""
        self._part_name = b""
        self._part_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._error: Exception | None = None
        callbacks: Any = {
            "on_part_begin": self._on_part_begin,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_end": self._on_end,
        }
        self._parser = MultipartParser(boundary, callbacks)

    # parser callbacks (synchronous, called from inside `write`)

    def _on_part_begin(self) -> None:
        self._headers = {}
        self._part_kind = ""
        self._part_value = bytearray()

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field = bytearray()
        self._header_value = bytearray()

    def _on_headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"")
        filename = params.get(b"filename")
        if name == self._file_field and filename is not None and not self._file_started:
            self._part_kind = "file"
            self._file_started = True
            self.filename = filename.decode("utf-8", "replace")
            declared = self._headers.get(b"content-type")
            self.declared_type = declared.decode("latin-1")[:127] if declared else None
        elif filename is not None:
            self._part_kind = "ignored"
        else:
            self._part_kind = "field"
            self._part_name = name

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part_kind == "file":
            self._pending.append(data[start:end])
            return
        self._non_file_bytes += end - start
        if self._part_kind == "field":
            self._part_value += data[start:end]
            if len(self._part_value) > MAX_FIELD_BYTES and self._error is None:
                self._error = ValidationFailed(
                    "A form field is too long.",
                    code="file.field_too_long",
                    errors=[
                        {
                            "loc": ["body", self._part_name.decode("utf-8", "replace")],
                            "msg": f"at most {MAX_FIELD_BYTES} bytes",
                            "type": "too_long",
                        }
                    ],
                )

    def _on_part_end(self) -> None:
        if self._part_kind == "file":
            self._file_done = True
        elif self._part_kind == "field":
            key = self._part_name.decode("utf-8", "replace")
            self.fields[key] = bytes(self._part_value).decode("utf-8", "replace")

    def _on_end(self) -> None:
        self._ended = True

    # reading

    async def _feed(self) -> bool:
        """Parse the next network chunk; False at the end of the body."""
        try:
            chunk = await self._body.__anext__()
        except StopAsyncIteration:
            return False
        except ClientDisconnect as exc:
            raise BadRequest(
                "The client went away mid-upload.", code="file.upload_aborted"
            ) from exc
        if chunk:
            try:
                self._parser.write(chunk)
            except Exception as exc:  # python-multipart's own parse errors
                raise BadRequest(
                    "The multipart body is malformed.", code="request.malformed_multipart"
                ) from exc
        if self._error is not None:
            raise self._error
        if self._non_file_bytes > MAX_NON_FILE_BYTES:
            raise PayloadTooLarge("Too much data outside the file part.", code="file.too_large")
        return True

    async def start(self) -> None:
        while not self._file_started:
            if self._ended or not await self._feed():
                raise ValidationFailed(
                    "The request has no file.",
                    code="file.missing",
                    errors=[{"loc": ["body", "file"], "msg": "field required", "type": "missing"}],
                )

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            if self._pending:
                data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
                self._pending.clear()
                yield data
            if self._file_done:
                break
            if not await self._feed():
                raise BadRequest(
                    "The multipart body ended inside the file.",
                    code="request.malformed_multipart",
                )
        # Fields may follow the file; read them (the rest is small, capped above).
        while not self._ended and await self._feed():
            pass
