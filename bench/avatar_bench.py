"""Memory of avatar processing under the worst case: many large-canvas images at once.

What it measures
----------------
It starts the real server (`tessera serve`, one uvicorn worker, a temporary SQLite database,
local storage, WARNING logs), signs ``--clients`` users in (default 10), then each sends at
the same moment ``PUT /api/v1/users/me/avatar`` with the same worst-case image: a
4096 x 4096 picture (the largest `storage.max_avatar_pixels` lets through) that compresses to
a few dozen KB, so the upload limit does not stop it but decoding costs the whole bitmap.
Worst cases: PNG in RGBA (4 bytes a pixel, no reduced decoding possible) and a baseline JPEG
(which the decoder can scale down while decoding).

Memory is the server process tree's RSS (the server and any children), sampled every 10 ms
from /proc: "peak growth" is the highest sample minus the RSS before the burst; "after" is
the growth left 3 s after the last answer (does memory return?). The baseline, in the same
run, is the same burst with a 256 x 256 PNG, and the unit is one decoded 4096 x 4096 RGBA
bitmap (64 MiB): "peak / bitmap" says how many such bitmaps were alive at once.

Aim (issue 9 item 12): peak growth under 300 MiB for 10 concurrent worst-case avatars, and
memory returns afterwards.

Run: ``.venv/bin/python bench/avatar_bench.py [--clients 10] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
MiB = 1024 * 1024
PASSWORD = "Bench-Passphrase-2026!"
SIDE = 4096
BITMAP_MIB = SIDE * SIDE * 4 / MiB


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_rss_kib(pid: int) -> int:
    """RSS of `pid` and all its descendants."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
    return total


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = tree_rss_kib(pid)
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_kib(self.pid))
            time.sleep(0.01)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def image(kind: str, side: int) -> bytes:
    from PIL import Image, ImageDraw

    mode = "RGBA" if kind == "png" else "RGB"
    picture = Image.new(mode, (side, side), (30, 120, 200, 255)[: len(mode)])
    draw = ImageDraw.Draw(picture)
    draw.ellipse(
        (side // 4, side // 4, 3 * side // 4, 3 * side // 4), fill=(250, 200, 20, 255)[: len(mode)]
    )
    buffer = io.BytesIO()
    if kind == "png":
        picture.save(buffer, format="PNG", optimize=True)
    else:
        picture.save(buffer, format="JPEG", quality=30)
    return buffer.getvalue()


def request(
    method: str, url: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=300) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def multipart(content: bytes, name: str, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return (
        head + content + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def sign_in(base: str, name: str) -> str:
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    status, _ = request(
        "POST",
        f"{base}/api/v1/auth/register",
        json.dumps(body).encode(),
        {"content-type": "application/json"},
    )
    assert status == 201, status
    login = {"username": name, "password": PASSWORD}
    status, answer = request(
        "POST",
        f"{base}/api/v1/auth/login",
        json.dumps(login).encode(),
        {"content-type": "application/json"},
    )
    assert status == 200, answer
    return str(json.loads(answer)["access_token"])


def burst(base: str, tokens: list[str], content: bytes, name: str, content_type: str) -> list[int]:
    body, header = multipart(content, name, content_type)

    def put(token: str) -> int:
        status, _ = request(
            "PUT",
            f"{base}/api/v1/users/me/avatar",
            body,
            {"Authorization": f"Bearer {token}", "content-type": header},
        )
        return status

    with ThreadPoolExecutor(len(tokens)) as pool:
        return list(pool.map(put, tokens))


def measure(
    pid: int, base: str, tokens: list[str], content: bytes, name: str, content_type: str
) -> dict[str, float]:
    with Sampler(pid) as sampler:
        statuses = burst(base, tokens, content, name, content_type)
    settle_until = time.monotonic() + 3
    while time.monotonic() < settle_until:
        time.sleep(0.1)
    after = tree_rss_kib(pid)
    assert all(status == 200 for status in statuses), statuses
    return {
        "peak_growth_mib": round((sampler.peak - sampler.before) / 1024, 1),
        "after_mib": round((after - sampler.before) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="bursts per case; the worst is kept")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tessera-avatar-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env.update(
        TESSERA_CONFIG_DIR=str(ROOT / "config"),
        TESSERA_MIGRATIONS_DIR=str(ROOT / "migrations"),
        TESSERA_VAR_DIR=str(workdir / "var"),
        TESSERA_DATABASE__URL=f"sqlite+aiosqlite:///{workdir / 'var' / 'tessera.db'}",
        TESSERA_LOGGING__LEVEL="WARNING",
        TESSERA_RATELIMIT__ENABLED="false",
    )
    subprocess.run(
        [BIN / "tessera", "db", "upgrade"], env=env, cwd=workdir, check=True, capture_output=True
    )
    server = subprocess.Popen(
        [BIN / "tessera", "serve", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if request("GET", f"{base}/healthz", None, {})[0] == 200:
                    break
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        tokens = [
            sign_in(base, f"bench{index}{uuid.uuid4().hex[:6]}") for index in range(args.clients)
        ]
        small = image("png", 256)
        # Warm-up: imports, allocator arenas, the thread pool.
        burst(base, tokens, small, "a.png", "image/png")
        cases = [
            ("baseline: 256x256 PNG", small, "a.png", "image/png"),
            (
                f"{SIDE}x{SIDE} RGBA PNG ({len(image('png', SIDE)) // 1024} KB)",
                image("png", SIDE),
                "a.png",
                "image/png",
            ),
            (
                f"{SIDE}x{SIDE} JPEG ({len(image('jpeg', SIDE)) // 1024} KB)",
                image("jpeg", SIDE),
                "a.jpg",
                "image/jpeg",
            ),
        ]
        results = []
        for label, content, name, content_type in cases:
            rounds = [
                measure(server.pid, base, tokens, content, name, content_type)
                for _ in range(args.rounds)
            ]
            worst = {key: max(r[key] for r in rounds) for key in rounds[0]}
            results.append({"case": label, **worst})
        print(
            f"{args.clients} concurrent avatars; unit: one decoded {SIDE}x{SIDE} RGBA bitmap "
            f"= {BITMAP_MIB:.0f} MiB"
        )
        print(f"{'case':<36} {'peak growth MiB':>16} {'peak / bitmap':>14} {'after 3 s MiB':>14}")
        for row in results:
            print(
                f"{row['case']:<36} {row['peak_growth_mib']:>16.1f} "
                f"{row['peak_growth_mib'] / BITMAP_MIB:>14.2f} {row['after_mib']:>14.1f}"
            )
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
