"""Image work with bounded memory: decoding untrusted pictures (avatars) into small squares.

A tiny file can describe a huge canvas: a 4096 x 4096 PNG of one colour compresses to a few
dozen KB but decodes to a 64 MiB bitmap, and the naive path (decode, convert, transpose,
resample) keeps three or four such copies alive per request. Ten at once took a server past
1 GiB, and glibc kept much of it afterwards. Here:

- decoding reserves its bitmap's cost from a memory budget (`IMAGE_MEMORY_BUDGET_BYTES`,
  read from the header before any pixel is decoded), on a dedicated pool of `IMAGE_WORKERS`
  threads: small pictures are decoded side by side, huge ones one after another, waiting
  requests hold only their compressed upload, and other thread-pool work is not starved;
- JPEG is decoded at reduced scale (`draft`: the decoder skips DCT detail it would throw
  away); other formats are reduced by an integer factor right after decoding, before any
  conversion, so the full-size bitmap is the only large buffer and lives briefly;
- large buffers are served by mmap and unmapped when freed (`mallopt` on glibc), so memory
  returns to the system after a burst instead of staying in the heap.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import io
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from tessera.lib.errors import ValidationFailed

IMAGE_WORKERS = 2
# Pillow's PNG decoder peaks at about twice the bitmap while loading, so one 4096 x 4096 RGBA
# picture costs ~128 MiB: this budget lets one such decode run at a time (and small ones
# beside it), keeping a burst of worst-case avatars well under 300 MiB of growth.
IMAGE_MEMORY_BUDGET_BYTES = 160 * 1024 * 1024
# Allocations at least this large are mmapped (and unmapped on free): set once, process-wide.
_MMAP_THRESHOLD_BYTES = 1024 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
_executor = ThreadPoolExecutor(max_workers=IMAGE_WORKERS, thread_name_prefix="image")
_allocator_lock = threading.Lock()
_allocator_tuned = False
_FORMATS = ("PNG", "JPEG", "WEBP")


class _MemoryBudget:
    """Bytes of decoded pixels that may be alive at once, shared by the image threads."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.free = total
        self._changed = threading.Condition()

    @contextmanager
    def reserve(self, amount: int) -> Iterator[None]:
        amount = min(amount, self.total)  # a job bigger than the budget runs alone
        with self._changed:
            while self.free < amount:
                self._changed.wait()
            self.free -= amount
        try:
            yield
        finally:
            with self._changed:
                self.free += amount
                self._changed.notify_all()


_budget = _MemoryBudget(IMAGE_MEMORY_BUDGET_BYTES)


def _invalid() -> ValidationFailed:
    return ValidationFailed(
        "The image cannot be decoded.",
        code="file.invalid_image",
        errors=[{"loc": ["body", "file"], "msg": "not a valid image", "type": "image"}],
    )


def _too_large(max_pixels: int) -> ValidationFailed:
    return ValidationFailed(
        f"The image has more than {max_pixels} pixels.",
        code="file.image_too_large",
        errors=[{"loc": ["body", "file"], "msg": "too many pixels", "type": "image"}],
    )


def _tune_allocator() -> None:
    """Make glibc return large freed buffers to the system (no dynamic mmap threshold)."""
    global _allocator_tuned
    with _allocator_lock:
        if _allocator_tuned or not sys.platform.startswith("linux"):
            return
        _allocator_tuned = True
        name = ctypes.util.find_library("c")
        if not name:
            return
        try:
            libc = ctypes.CDLL(name)
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        except (OSError, AttributeError):
            return  # not glibc: nothing to tune


def render_squares(data: bytes, sizes: Sequence[int], *, max_pixels: int) -> dict[int, bytes]:
    """Decode `data` (PNG, JPEG or WebP) and return a centred square PNG per size.

    Only pixels survive (no metadata, no trailing payloads); EXIF orientation is applied.
    Raises ValidationFailed (`file.invalid_image`, `file.image_too_large`).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    # Keep at least twice the largest output on the short side for a clean resample.
    wanted = 2 * max(sizes)
    try:
        with Image.open(io.BytesIO(data), formats=_FORMATS) as image:
            width, height = image.size
            # Checked before decoding: the header alone tells how much memory it would take.
            if width * height > max_pixels:
                raise _too_large(max_pixels)
            orientation = image.getexif().get(0x0112, 1)
            if image.format == "JPEG":
                image.draft("RGB", (wanted, wanted))  # the size shrinks before decoding
            # Decoding peaks at twice the bitmap; a non-reducible mode adds an RGBA copy.
            pixels = image.size[0] * image.size[1]
            cost = pixels * (8 if image.mode in _REDUCIBLE else 9)
            with _budget.reserve(cost):
                image.load()
                # Palette and other modes cannot be reduced: convert them first.
                decoded = image if image.mode in _REDUCIBLE else image.convert("RGBA")
                factor = min(decoded.size) // wanted
                working = decoded.reduce(factor) if factor > 1 else decoded.copy()
                # The full-size bitmaps go now, before the budget is handed on.
                decoded.close()
                image.close()
    except Image.DecompressionBombError:
        raise _too_large(max_pixels) from None
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _invalid() from None
    transpose = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    if transpose is not None:  # what ImageOps.exif_transpose does, on the small image
        working = working.transpose(transpose)
    upright = working.convert("RGBA")
    rendered: dict[int, bytes] = {}
    for size in sizes:
        fitted = ImageOps.fit(upright, (size, size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        fitted.save(buffer, format="PNG")
        rendered[size] = buffer.getvalue()
    return rendered


_REDUCIBLE = frozenset({"L", "LA", "RGB", "RGBA", "RGBa", "La", "I", "F", "CMYK", "YCbCr"})


async def render_squares_bounded(
    data: bytes, sizes: Sequence[int], *, max_pixels: int
) -> dict[int, bytes]:
    """`render_squares` on the image pool, within the memory budget."""
    _tune_allocator()
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        _executor, lambda: render_squares(data, sizes, max_pixels=max_pixels)
    )
