"""The streaming `multipart/form-data` reader behind every upload endpoint.

It is why uploads never spool: it feeds `request.stream()` through python-multipart's push
parser and hands the file part on as it arrives, one network chunk at a time, so the service
can hash, sniff, size-check and store while the client sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from tessera.lib.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

# Form fields other than the file are tiny (`purpose`); cap them so a body cannot grow
# without limit outside the file part, where the size limit applies.
MAX_FIELD_BYTES = 1024
MAX_NON_FILE_BYTES = 64 * 1024


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
