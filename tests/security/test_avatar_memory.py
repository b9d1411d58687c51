"""Issue 9 item 12: ten worst-case avatars at once (4096 x 4096 canvases that compress to a
few dozen KB) stay under 300 MiB of memory growth, and the memory returns afterwards.
bench/avatar_bench.py measures the same against the real server."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import Api
from tests.file.helpers import multipart
from tests.helpers import signed_in

MiB = 1024 * 1024


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def worst_case_png() -> bytes:
    from PIL import Image, ImageDraw

    picture = Image.new("RGBA", (4096, 4096), (30, 120, 200, 255))
    ImageDraw.Draw(picture).ellipse((1024, 1024, 3072, 3072), fill=(250, 200, 20, 255))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
async def test_ten_worst_case_avatars_stay_under_300_mib(api: Api):
    content = worst_case_png()
    assert len(content) < api.settings.storage.max_avatar_bytes
    users = [await signed_in(api) for _ in range(10)]
    body, headers = multipart(content, filename="me.png")
    # Warm up imports and pools with one small avatar.
    small, small_headers = multipart(_small_png(), filename="s.png")
    warm = await api.put(
        "/api/v1/users/me/avatar", content=small, headers={**users[0].headers, **small_headers}
    )
    assert warm.status_code == 200, warm.text

    before = rss_bytes()
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        answers = await asyncio.gather(
            *(
                api.put("/api/v1/users/me/avatar", content=body, headers={**u.headers, **headers})
                for u in users
            )
        )
    finally:
        stop.set()
        sampler.join()
    assert [answer.status_code for answer in answers] == [200] * 10
    growth = peak[0] - before
    after = rss_bytes() - before
    assert growth < 300 * MiB, f"peak growth {growth / MiB:.0f} MiB"
    assert after < 64 * MiB, f"{after / MiB:.0f} MiB still held after the burst"


def _small_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (1, 2, 3)).save(buffer, format="PNG")
    return buffer.getvalue()
