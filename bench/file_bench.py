"""Upload and download of one large file through Tessera's API, against a plain loopback
socket copy of the same bytes, with the server's memory growth.

What it measures
----------------
For each storage backend (``--backends local,fastdfs``; FastDFS is the test fake run as a
separate process by `bench/fastdfs_fake_server.py`), it starts the real server
(`tessera serve`, one uvicorn worker, a temporary SQLite database, WARNING logs), signs a
user in, then:

* upload: ``POST /api/v1/files`` with a ``--size-mib`` (default 512) multipart body sent with
  Content-Length from a blocking socket (one 1 MiB buffer re-sent, so the client costs
  almost nothing); timed from the first byte sent to the 201 answer;
* download: ``GET /api/v1/files/{id}/content`` read into one reusable buffer and discarded.

The baseline, in the same run, is a plain TCP copy of the same number of bytes over
127.0.0.1 between this process and a child process (sink for "up", source for "down"): what
the loopback and the kernel can do with no HTTP, no parsing, no hashing and no storage.
The table shows MB/s and the ratio API / baseline.

Memory: the server's VmRSS is sampled every 10 ms from /proc/<pid>/status during each
transfer; "peak RSS growth" is the highest sample minus the RSS just before the transfer
(the target is < 64 MiB whatever the file size: uploads and downloads stream).

Run: ``.venv/bin/python bench/file_bench.py [--size-mib 512] [--backends local,fastdfs]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
MiB = 1024 * 1024
BLOCK = MiB
PASSWORD = "Bench-Passphrase-2026!"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def payload_block() -> bytes:
    """1 MiB that sniffs as a PDF at the start of the file; re-sent for the whole body."""
    head = b"%PDF-1.7\n"
    return head + bytes((i * 7919) & 0xFF for i in range(BLOCK - len(head)))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = rss_kib(pid)
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.01)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib(self.pid))

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.before) / 1024


# --- baseline: plain loopback copy ---------------------------------------------------------


def _sink(port: int, ready: multiprocessing.synchronize.Event) -> None:
    with socket.create_server(("127.0.0.1", port)) as server:
        ready.set()
        conn, _ = server.accept()
        buffer = bytearray(BLOCK)
        with conn:
            while conn.recv_into(buffer):
                pass


def _source(port: int, total: int, ready: multiprocessing.synchronize.Event) -> None:
    block = payload_block()
    with socket.create_server(("127.0.0.1", port)) as server:
        ready.set()
        conn, _ = server.accept()
        with conn:
            sent = 0
            while sent < total:
                piece = block[: min(BLOCK, total - sent)]
                conn.sendall(piece)
                sent += len(piece)


def baseline(total: int) -> tuple[float, float]:
    """(send MB/s, receive MB/s) of a raw loopback TCP copy of `total` bytes."""
    block = payload_block()
    port = free_port()
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, ready))
    sink.start()
    ready.wait()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        started = time.perf_counter()
        sent = 0
        while sent < total:
            piece = block[: min(BLOCK, total - sent)]
            conn.sendall(piece)
            sent += len(piece)
        conn.shutdown(socket.SHUT_WR)
        conn.recv(1)
    sink.join()
    up = total / (time.perf_counter() - started) / 1e6

    port = free_port()
    ready = multiprocessing.Event()
    source = multiprocessing.Process(target=_source, args=(port, total, ready))
    source.start()
    ready.wait()
    buffer = bytearray(BLOCK)
    with socket.create_connection(("127.0.0.1", port)) as conn:
        started = time.perf_counter()
        received = 0
        while received < total:
            count = conn.recv_into(buffer)
            if not count:
                break
            received += count
    down = total / (time.perf_counter() - started) / 1e6
    source.join()
    return up, down


# --- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    token: str = ""


def _json(method: str, url: str, body: dict[str, object], token: str = "") -> dict[str, object]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        result: dict[str, object] = json.loads(response.read())
        return result


@contextlib.contextmanager
def tessera(workdir: Path, storage_env: dict[str, str], size: int) -> Iterator[Server]:
    (workdir / "config").mkdir(parents=True, exist_ok=True)  # empty: no YAML overrides
    env = {
        **os.environ,
        "TESSERA_CONFIG_DIR": str(workdir / "config"),
        "TESSERA_VAR_DIR": str(workdir / "var"),
        "TESSERA_DATABASE__URL": f"sqlite+aiosqlite:///{workdir / 'tessera.db'}",
        "TESSERA_LOGGING__LEVEL": "WARNING",
        "TESSERA_STORAGE__MAX_UPLOAD_BYTES": str(size + MiB),
        **storage_env,
    }
    subprocess.run([BIN / "tessera", "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [BIN / "tessera", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "server.log", "wb"),  # noqa: SIM115
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            time.sleep(0.05)
        _json(
            "POST",
            base + "/api/v1/auth/register",
            {
                "username": "bench",
                "email": "bench@example.com",
                "password": PASSWORD,
            },
        )
        tokens = _json(
            "POST",
            base + "/api/v1/auth/login",
            {
                "username": "bench",
                "password": PASSWORD,
            },
        )
        yield Server(process, port, str(tokens["access_token"]))
    finally:
        process.terminate()
        process.wait(timeout=30)


def _read_head(conn: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed before the response head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, rest


def upload(server: Server, total: int) -> tuple[str, float]:
    block = payload_block()
    boundary = "benchboundary7MA4YWxkTrZu0gW"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    request = (
        f"POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {server.token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + total + len(tail)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        started = time.perf_counter()
        conn.sendall(request + head)
        sent = 0
        while sent < total:
            piece = block[: min(BLOCK, total - sent)]
            conn.sendall(piece)
            sent += len(piece)
        conn.sendall(tail)
        status, headers, rest = _read_head(conn)
        body = rest
        while len(body) < int(headers.get("content-length", "0")):
            body += conn.recv(65536)
        elapsed = time.perf_counter() - started
    if status != 201:
        raise RuntimeError(f"upload answered {status}: {body[:300]!r}")
    return str(json.loads(body)["id"]), total / elapsed / 1e6


def download(server: Server, file_id: str, total: int) -> float:
    buffer = bytearray(BLOCK)
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        started = time.perf_counter()
        conn.sendall(
            (
                f"GET /api/v1/files/{file_id}/content HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {server.token}\r\nConnection: close\r\n\r\n"
            ).encode()
        )
        status, headers, rest = _read_head(conn)
        if status != 200:
            raise RuntimeError(f"download answered {status}")
        received = len(rest)
        length = int(headers["content-length"])
        while received < length:
            count = conn.recv_into(buffer)
            if not count:
                break
            received += count
        elapsed = time.perf_counter() - started
    if received != total:
        raise RuntimeError(f"downloaded {received} of {total} bytes")
    return total / elapsed / 1e6


@contextlib.contextmanager
def fastdfs_fake(workdir: Path) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fastdfs_fake_server.py"), str(workdir / "fdfs")],
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        yield str(json.loads(line)["tracker"])
    finally:
        process.terminate()
        process.wait(timeout=30)


def run(backend: str, size: int, workdir: Path) -> dict[str, float]:
    with contextlib.ExitStack() as stack:
        if backend == "local":
            env = {
                "TESSERA_STORAGE__BACKEND": "local",
                "TESSERA_STORAGE__LOCAL_ROOT": str(workdir / "files"),
            }
        else:
            tracker = stack.enter_context(fastdfs_fake(workdir))
            env = {
                "TESSERA_STORAGE__BACKEND": "fastdfs",
                "TESSERA_STORAGE__FASTDFS__TRACKERS": json.dumps([tracker]),
            }
        server = stack.enter_context(tessera(workdir, env, size))
        with RssSampler(server.process.pid) as up_rss:
            file_id, up = upload(server, size)
        with RssSampler(server.process.pid) as down_rss:
            down = download(server, file_id, size)
        return {
            "up": up,
            "down": down,
            "up_rss": up_rss.growth_mib,
            "down_rss": down_rss.growth_mib,
            "rss_before": up_rss.before / 1024,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--backends", default="local,fastdfs")
    args = parser.parse_args()
    size = args.size_mib * MiB
    base_up, base_down = baseline(size)
    print(
        f"file: {args.size_mib} MiB   loopback socket copy: up {base_up:,.0f} MB/s, "
        f"down {base_down:,.0f} MB/s   (CPUs: {os.cpu_count()})"
    )
    print(
        f"{'backend':<9} {'upload MB/s':>12} {'ratio':>6} {'peak RSS +MiB':>14}   "
        f"{'download MB/s':>14} {'ratio':>6} {'peak RSS +MiB':>14}"
    )
    for backend in [name.strip() for name in args.backends.split(",") if name.strip()]:
        workdir = Path(tempfile.mkdtemp(prefix=f"tessera-filebench-{backend}-"))
        try:
            result = run(backend, size, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print(
            f"{backend:<9} {result['up']:>12,.0f} {result['up'] / base_up:>6.2f} "
            f"{result['up_rss']:>14.1f}   {result['down']:>14,.0f} "
            f"{result['down'] / base_down:>6.2f} {result['down_rss']:>14.1f}"
            f"   (server RSS before: {result['rss_before']:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
