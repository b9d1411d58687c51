"""Unit tests of the file block's pure helpers: names, Content-Disposition, sniffing, ranges
and avatar rendering."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tessera.blocks.file.utility import (
    Unsatisfiable,
    content_disposition,
    parse_range,
    render_avatars,
    sanitize_filename,
    sniff_content_type,
)
from tessera.lib.errors import ValidationFailed
from tessera.lib.storage import ByteRange
from tests.file.helpers import png_image


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


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_avatars_are_square_pngs_of_each_size_with_pixels_only() -> None:
    original = png_image(300, 200, exif=True) + b"<?php system($_GET[1]); ?>"
    rendered = render_avatars(original, sizes=(256, 64), max_pixels=10_000_000)
    assert sorted(rendered) == [64, 256]
    for size, data in rendered.items():
        image = _decoded(data)
        assert (image.format, image.size) == ("PNG", (size, size))
        assert not image.getexif()
        assert b"SecretCam" not in data
        assert b"system" not in data


def test_avatar_exif_orientation_is_applied_before_cropping() -> None:
    # A wide image whose EXIF says "rotate 90 degrees": upright it is tall. Top half red,
    # bottom half blue as stored; after the rotation the left half is blue, the right red.
    stored = Image.new("RGB", (400, 200), (255, 0, 0))
    stored.paste((0, 0, 255), (0, 100, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, format="JPEG", exif=exif.tobytes(), quality=95)

    image = _decoded(render_avatars(buffer.getvalue(), sizes=(64,), max_pixels=10**6)[64])

    assert [_dominant(image.getpixel((5, 32))), _dominant(image.getpixel((58, 32)))] == [
        "blue",
        "red",
    ]


def _dominant(pixel: object) -> str:
    assert isinstance(pixel, tuple)
    red, _, blue = pixel[:3]
    return "red" if red > blue else "blue"


@pytest.mark.parametrize(
    ("data", "max_pixels", "code"),
    [
        (png_image(100, 100), 9_999, "file.image_too_large"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, 10**6, "file.invalid_image"),
        (b"GIF89a" + bytes(100), 10**6, "file.invalid_image"),  # no GIF decoder on purpose
    ],
)
def test_bad_avatar_images_are_refused(data: bytes, max_pixels: int, code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        render_avatars(data, sizes=(64,), max_pixels=max_pixels)
    assert refused.value.code == code
