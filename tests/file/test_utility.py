"""Unit tests of the file block's pure helpers: names, Content-Disposition, sniffing, ranges."""

from __future__ import annotations

import pytest

from tessera.blocks.file.utility import (
    Unsatisfiable,
    content_disposition,
    parse_range,
    sanitize_filename,
    sniff_content_type,
)
from tessera.lib.storage import ByteRange


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('a"\r\nSet-Cookie: x=y.txt', "a_ Set-Cookie_ x=y.txt"),
        ("/etc/../../x.pdf", "x.pdf"),
        ("\x00\x1b[31mred.txt", "[31mred.txt"),
        ("   ", "file"),
        (None, "file"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
def test_sanitize_filename(raw: str | None, expected: str) -> None:
    assert sanitize_filename(raw) == expected


def test_content_disposition_cannot_inject_headers() -> None:
    header = content_disposition('naïve "q"\\%.pdf')
    assert header == (
        "attachment; filename=\"na_ve _q___.pdf\"; filename*=UTF-8''na%C3%AFve%20%22q%22%5C%25.pdf"
    )


@pytest.mark.parametrize(
    ("head", "complete", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n rest", False, "image/png"),
        (b"\xff\xd8\xff\xe0", False, "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", False, "image/webp"),
        (b"%PDF-1.4", False, "application/pdf"),
        (b"PK\x03\x04", False, "application/zip"),
        ("héllo".encode() + b"\xe6\x97", False, "text/plain"),  # cut mid-character
        ("héllo".encode() + b"\xe6\x97", True, None),  # ... but that was the whole file
        (b"MZ\x90\x00", False, None),
        (b"hello\x00world", False, None),
    ],
)
def test_sniff(head: bytes, complete: bool, expected: str | None) -> None:
    assert sniff_content_type(head, complete=complete) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", ByteRange(0, 1)),
        ("bytes=-3", ByteRange(7, 3)),
        ("bytes=-30", ByteRange(0, 10)),
        ("bytes=4-", ByteRange(4, 6)),
        ("bytes=2-100", ByteRange(2, 8)),
        ("bytes=5-2", None),  # invalid: ignored
        ("items=0-1", None),
        ("bytes=0-1,3-4", None),
    ],
)
def test_parse_range(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 10) == expected


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=-0", "bytes=99-100"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, 10)
