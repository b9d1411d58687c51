"""Pure helpers of the file block, free of I/O so unit tests cover them directly: file name
sanitising, `Content-Disposition` building, content sniffing, `Range` parsing and avatar
rendering (decode, crop to a square, re-encode).
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from collections.abc import Iterable

from tessera.lib.images import render_squares
from tessera.lib.storage import ByteRange

MAX_NAME_LENGTH = 255
SNIFF_BYTES = 4096

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


# --- avatars --------------------------------------------------------------------------------


def render_avatars(data: bytes, *, sizes: Iterable[int], max_pixels: int) -> dict[int, bytes]:
    """The image in `data` as square PNGs of each size (EXIF orientation applied, centre
    cropped). Only pixels survive: EXIF, ICC profiles, comments and anything appended to
    the file are dropped. Decoding keeps memory bounded (`tessera.lib.images`); services call
    `render_squares_bounded`, which also limits how many run at once."""
    return render_squares(data, tuple(sizes), max_pixels=max_pixels)
