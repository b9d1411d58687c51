"""WebSocket benchmark: memory per idle connection, broadcast latency, chat throughput, each
next to a bare uvicorn + websockets app measured in the same run (the ceiling).

What it measures
----------------
1. Idle connections (`--connections`, default 10,000) on ONE server process: the bare app
   (`bench/ws_bare_app.py`: accept, read one frame, ack) and `tessera serve`, each socket
   signed in (Tessera: first-frame auth with a real access token, 100 users) and, on Tessera,
   subscribed to its user's channel. RSS of the server process is read before (after a
   warm-up of 200 sockets opened and closed) and after; the difference divided by the number
   of sockets is the cost of one connection.
2. Broadcast to `--subscribers` (default 1,000) of those sockets, `--broadcasts` times
   (default 20, 0.3 s apart). Bare: `POST /broadcast` sends the text to every socket.
   Tessera: the members' sockets are subscribed to a group chat room; an admin posts a
   message over REST: stored in the database, outbox, in-process worker, broker, hub, every
   socket. Latency per (message, subscriber) from just before the HTTP request to receipt
   (same clock); for Tessera also from the message's `created_at` (stored in the committing
   transaction) to receipt, i.e. commit-to-receive.
3. Chat end to end: `--chat-senders` (default 20) sockets publish `--chat-messages` (default
   2,000) messages over the socket (each waits for its ack: stored and queued), one member's
   socket receives them all from the room channel; messages per second from the first send
   to the last receipt.

Servers run one worker with `tessera serve`'s uvicorn options (uvloop, httptools, websockets
sans-I/O, no per-message deflate). Tessera runs embedded (temporary SQLite, in-process cache
and broker: the presence entries of sockets live in that process too) or `--backend mariadb`
(throw-away database, Redis with a unique prefix). The load generator is this process, with
its file limit raised to the hard limit.

Run: `.venv/bin/python bench/ws_bench.py [--connections 10000] [--backend embedded|mariadb]`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PASSWORD = "Bench-Passphrase-9z"
USERS = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def raise_file_limit() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], port: int, cwd: Path) -> None:
        self.port = port
        self.log = cwd / f"server-{port}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self) -> str:
        return self.log.read_text()[-3000:]

    def stop(self) -> None:
        if os.environ.get("WS_BENCH_VERBOSE"):
            shutil.copy(self.log, Path(tempfile.gettempdir()) / f"ws-bench-{self.log.name}")
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


async def open_sockets(
    url: str, count: int, first_frames: list[list[str]], *, concurrency: int = 200
) -> list[ClientConnection]:
    """Open `count` sockets; socket i sends first_frames[i % len] and waits one answer each."""
    sockets: list[ClientConnection] = [None] * count  # type: ignore[list-item]
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            ws = await connect(
                url, compression=None, ping_interval=None, max_queue=None, open_timeout=60
            )
            for frame in first_frames[index % len(first_frames)]:
                await ws.send(frame)
                answer = json.loads(await ws.recv())
                if answer.get("type") == "error":
                    raise RuntimeError(f"socket {index}: {answer}")
            sockets[index] = ws

    await asyncio.gather(*(one(index) for index in range(count)))
    return sockets


async def close_all(sockets: list[ClientConnection]) -> None:
    gate = asyncio.Semaphore(500)

    async def one(ws: ClientConnection) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await ws.close()

    await asyncio.gather(*(one(ws) for ws in sockets if ws is not None))


async def settle_rss(pid: int, seconds: float = 2.0) -> int:
    await asyncio.sleep(seconds)
    return rss_kib(pid)


async def idle_cost(
    server: Server, url: str, count: int, frames: list[list[str]]
) -> tuple[float, list[ClientConnection]]:
    warm = await open_sockets(url, 200, frames)
    await close_all(warm)
    before = await settle_rss(server.pid)
    started = time.monotonic()
    sockets = await open_sockets(url, count, frames)
    opened_in = time.monotonic() - started
    after = await settle_rss(server.pid)
    per_connection = (after - before) * 1024 / count
    print(
        f"  {count} sockets open in {opened_in:.1f} s; RSS {before / 1024:.0f} -> "
        f"{after / 1024:.0f} MiB: {per_connection / 1024:.1f} KiB per connection"
    )
    return per_connection, sockets


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50 * 1000, p99 * 1000


async def broadcast_latency(
    subscribers: list[ClientConnection],
    send_one: Any,
    rounds: int,
    *,
    stamp_key: str | None = None,
) -> tuple[list[float], list[float]]:
    """Send `rounds` broadcasts; latency from send (and from the payload's stamp) to receipt."""
    from_send: list[float] = []
    from_stamp: list[float] = []
    sent_at: dict[str, float] = {}
    per_round: dict[str, list[float]] = {}
    remaining = {"n": rounds * len(subscribers)}
    done = asyncio.Event()

    async def reader(ws: ClientConnection) -> None:
        async for raw in ws:
            now = time.time()
            frame = json.loads(raw)
            if frame.get("type") not in ("message", "broadcast"):
                continue
            data = frame.get("data", frame)
            tag = data.get("text") if stamp_key else data.get("tag")
            if tag not in sent_at:
                continue
            from_send.append(now - sent_at[tag])
            per_round.setdefault(tag, []).append(now - sent_at[tag])
            if stamp_key and data.get(stamp_key):
                stamped = data[stamp_key].replace("Z", "+00:00")
                from datetime import datetime

                from_stamp.append(now - datetime.fromisoformat(stamped).timestamp())
            remaining["n"] -= 1
            if remaining["n"] == 0:
                done.set()

    readers = [asyncio.create_task(reader(ws)) for ws in subscribers]
    for round_index in range(rounds):
        tag = f"b{round_index}-{uuid.uuid4().hex[:6]}"
        sent_at[tag] = time.time()
        await send_one(tag)
        await asyncio.sleep(0.3)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), 30)
    for task in readers:
        task.cancel()
    if os.environ.get("WS_BENCH_VERBOSE"):
        for tag, values in per_round.items():
            print(f"    {tag}: min {min(values) * 1000:.0f} max {max(values) * 1000:.0f} ms")
    if remaining["n"]:
        print(f"  WARNING: {remaining['n']} deliveries missing")
    return from_send, from_stamp


# --- the bare ceiling ------------------------------------------------------------------------


async def run_bare(args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    port = free_port()
    server = Server(
        [sys.executable, str(ROOT / "bench" / "ws_bare_app.py"), "--port", str(port)],
        dict(os.environ),
        port,
        workdir,
    )
    try:
        print("bare uvicorn + websockets:")
        url = f"ws://127.0.0.1:{port}/ws"
        per_connection, sockets = await idle_cost(server, url, args.connections, [['{"a":1}']])
        subscribers = sockets[: args.subscribers]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

            async def send_one(tag: str) -> None:
                await http.post("/broadcast", content=json.dumps({"type": "broadcast", "tag": tag}))

            # Every socket gets the broadcast; only the subscribers are read (the rest are
            # closed first so the work matches Tessera's: one send per subscriber).
            await close_all(sockets[args.subscribers :])
            await asyncio.sleep(1)
            latencies, _ = await broadcast_latency(subscribers, send_one, args.broadcasts)
        p50, p99 = percentiles(latencies)
        print(f"  broadcast to {len(subscribers)}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        await close_all(subscribers)
        return {"kib_per_connection": per_connection / 1024, "p50_ms": p50, "p99_ms": p99}
    finally:
        server.stop()


# --- Tessera ---------------------------------------------------------------------------------


@contextlib.contextmanager
def tessera_backend(kind: str, workdir: Path) -> Iterator[dict[str, str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    env.update(
        TESSERA_CONFIG_DIR=str(ROOT / "config"),
        TESSERA_ENV="production",
        TESSERA_SECURITY__JWT_SECRET=secrets.token_urlsafe(48),
        TESSERA_VAR_DIR=str(workdir / "var"),
        TESSERA_LOGGING__LEVEL="WARNING",
        TESSERA_LOGGING__ACCESS_LOG="false",
        TESSERA_SECURITY__ARGON2_TIME_COST="1",
        TESSERA_SECURITY__ARGON2_MEMORY_KIB="1024",
        TESSERA_SECURITY__ARGON2_PARALLELISM="1",
        TESSERA_RATELIMIT__ENABLED="false",
        TESSERA_TASKS__WORKER_IN_PROCESS="on",
        TESSERA_REALTIME__MAX_CONNECTIONS_PER_USER="100000",
        TESSERA_REALTIME__MAX_CONNECTIONS="100000",
        TESSERA_REALTIME__MAX_INBOUND_PER_SECOND="100000",
        TESSERA_REALTIME__HEARTBEAT_INTERVAL_SECONDS="3600",
        TESSERA_REALTIME__IDLE_TIMEOUT_SECONDS="7200",
        TESSERA_REALTIME__AUTH_TIMEOUT_SECONDS="120",
        TESSERA_REALTIME__CHAT_MESSAGES_PER_MINUTE="10000000",
        TESSERA_REALTIME__CHAT_ROOM_MAX_MEMBERS="10000",
        TESSERA_REALTIME__MAX_QUEUED_MESSAGES="100000",
        TESSERA_REALTIME__MAX_QUEUED_BYTES="104857600",
    )
    if kind == "embedded":
        env["TESSERA_DATABASE__URL"] = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        yield env
        return
    import asyncmy

    name = f"tessera_bench_{uuid.uuid4().hex[:8]}"

    async def execute(sql: str) -> None:
        connection = await asyncmy.connect(host="127.0.0.1", user="root", password="")
        async with connection.cursor() as cursor:
            await cursor.execute(sql)
        connection.close()

    def run_sql(sql: str) -> None:
        # The caller's event loop is running: use a loop of its own in another thread.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, execute(sql)).result()

    charset = "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    run_sql(f"CREATE DATABASE `{name}` {charset}")
    env["TESSERA_DATABASE__URL"] = f"mysql+asyncmy://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    env["TESSERA_CACHE__URL"] = "redis://127.0.0.1:6379/0"
    env["TESSERA_CACHE__KEY_PREFIX"] = f"tessera-bench-{uuid.uuid4().hex[:8]}"
    try:
        yield env
    finally:
        run_sql(f"DROP DATABASE IF EXISTS `{name}`")
        import redis

        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        for key in client.scan_iter(match=env["TESSERA_CACHE__KEY_PREFIX"] + ":*", count=1000):
            client.delete(key)


def cli(env: dict[str, str], workdir: Path, *args: str) -> str:
    done = subprocess.run(
        [str(VENV_BIN / "tessera"), *args], env=env, cwd=workdir, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"tessera {' '.join(args)}: {done.stderr}")
    return done.stdout


async def sign_up(http: httpx.AsyncClient, name: str) -> tuple[int, str]:
    response = await http.post(
        "/api/v1/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
    )
    response.raise_for_status()
    user_id = int(response.json()["id"])
    login = await http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    login.raise_for_status()
    return user_id, str(login.json()["access_token"])


async def run_tessera(args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    with tessera_backend(args.backend, workdir) as env:
        cli(env, workdir, "db", "upgrade")
        admin_name = f"admin{uuid.uuid4().hex[:6]}"
        cli(env, workdir, "user", "create-admin", "--username", admin_name,
            "--email", f"{admin_name}@example.com", "--password", PASSWORD)  # fmt: skip
        port = free_port()
        server = Server(
            [str(VENV_BIN / "tessera"), "serve", "--port", str(port)], env, port, workdir
        )
        try:
            return await _measure_tessera(args, port, server, admin_name)
        except Exception:
            print(server.tail())
            raise
        finally:
            server.stop()


async def _measure_tessera(
    args: argparse.Namespace, port: int, server: Server, admin_name: str
) -> dict[str, float]:
    print(f"Tessera ({args.backend}):")
    base = f"http://127.0.0.1:{port}"
    url = f"ws://127.0.0.1:{port}/ws"
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        users = [await sign_up(http, f"bench{uuid.uuid4().hex[:10]}") for _ in range(USERS)]
        login = await http.post(
            "/api/v1/auth/login", json={"username": admin_name, "password": PASSWORD}
        )
        admin_token = login.json()["access_token"]
        admin = {"Authorization": f"Bearer {admin_token}"}
        room = await http.post(
            "/api/v1/chat/rooms",
            json={"name": "bench", "member_ids": [user_id for user_id, _ in users]},
            headers=admin,
        )
        room.raise_for_status()
        room_id = room.json()["id"]
        channel = f"chat:{room_id}"

        def auth(token: str) -> str:
            return json.dumps({"type": "auth", "token": token})

        idle_frames = [
            [auth(token), json.dumps({"type": "subscribe", "channel": f"user:{user_id}"})]
            for user_id, token in users
        ]
        per_connection, sockets = await idle_cost(server, url, args.connections, idle_frames)
        await close_all(sockets[args.subscribers :])
        subscribers = sockets[: args.subscribers]
        for ws in subscribers:
            await ws.send(json.dumps({"type": "subscribe", "channel": channel}))
            answer = json.loads(await ws.recv())
            if answer.get("type") != "ack":
                raise RuntimeError(f"subscribe failed: {answer}")
        await asyncio.sleep(1)

        async def send_one(tag: str) -> None:
            response = await http.post(
                f"/api/v1/chat/rooms/{room_id}/messages", json={"text": tag}, headers=admin
            )
            response.raise_for_status()

        from_send, from_commit = await broadcast_latency(
            subscribers, send_one, args.broadcasts, stamp_key="created_at"
        )
        p50, p99 = percentiles(from_send)
        c50, c99 = percentiles(from_commit) if from_commit else (0.0, 0.0)
        print(
            f"  broadcast to {len(subscribers)}: request-to-receive p50 {p50:.1f} ms, "
            f"p99 {p99:.1f} ms; commit-to-receive p50 {c50:.1f} ms, p99 {c99:.1f} ms"
        )
        await close_all(subscribers)
        rate = await chat_throughput(args, url, users, channel)
    return {
        "kib_per_connection": per_connection / 1024,
        "p50_ms": p50,
        "p99_ms": p99,
        "commit_p50_ms": c50,
        "commit_p99_ms": c99,
        "chat_per_second": rate,
    }


async def chat_throughput(
    args: argparse.Namespace, url: str, users: list[tuple[int, str]], channel: str
) -> float:
    receiver_token = users[0][1]
    (receiver,) = await open_sockets(
        url,
        1,
        [[json.dumps({"type": "auth", "token": receiver_token}),
          json.dumps({"type": "subscribe", "channel": channel})]],
    )  # fmt: skip
    senders = await open_sockets(
        url,
        args.chat_senders,
        [[json.dumps({"type": "auth", "token": token})] for _, token in users[1:]],
    )
    total = args.chat_messages
    per_sender = total // len(senders)
    total = per_sender * len(senders)
    received = 0
    done = asyncio.Event()

    async def read() -> None:
        nonlocal received
        async for raw in receiver:
            frame = json.loads(raw)
            if (
                frame.get("type") == "message"
                and frame["data"].get("topic") == "chat.message_posted"
            ):
                received += 1
                if received == total:
                    done.set()
                    return

    async def send(ws: ClientConnection, index: int) -> None:
        for number in range(per_sender):
            await ws.send(
                json.dumps(
                    {"type": "publish", "channel": channel, "data": {"text": f"{index}-{number}"}}
                )
            )
            answer = json.loads(await ws.recv())
            if answer.get("type") != "ack":
                raise RuntimeError(f"publish refused: {answer}")

    reader = asyncio.create_task(read())
    started = time.monotonic()
    await asyncio.gather(*(send(ws, index) for index, ws in enumerate(senders)))
    acked = time.monotonic() - started
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), 120)
    elapsed = time.monotonic() - started
    reader.cancel()
    await close_all([receiver, *senders])
    rate = received / elapsed
    print(
        f"  chat: {received}/{total} messages from {len(senders)} senders received in "
        f"{elapsed:.1f} s ({rate:.0f}/s end to end; all stored in {acked:.1f} s)"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--subscribers", type=int, default=1_000)
    parser.add_argument("--broadcasts", type=int, default=20)
    parser.add_argument("--chat-messages", type=int, default=2_000)
    parser.add_argument("--chat-senders", type=int, default=20)
    parser.add_argument("--backend", choices=("embedded", "mariadb"), default="embedded")
    args = parser.parse_args()
    limit = raise_file_limit()
    if limit < args.connections + 1000:
        sys.exit(f"the file limit ({limit}) is too low for {args.connections} connections")
    workdir = Path(tempfile.mkdtemp(prefix="tessera-ws-bench-"))
    try:
        bare = asyncio.run(run_bare(args, workdir))
        tessera = asyncio.run(run_tessera(args, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(f"| measure | bare uvicorn + websockets | Tessera ({args.backend}) | ratio |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| RSS per idle connection ({args.connections:,}) | {bare['kib_per_connection']:.1f} KiB"
        f" | {tessera['kib_per_connection']:.1f} KiB"
        f" | {tessera['kib_per_connection'] / bare['kib_per_connection']:.2f} |"
    )
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        print(
            f"| broadcast to {args.subscribers:,}, request-to-receive {label} | {bare[key]:.1f} ms"
            f" | {tessera[key]:.1f} ms | {tessera[key] / max(bare[key], 0.001):.2f} |"
        )
    print(
        f"| commit-to-receive p50 / p99 | | {tessera['commit_p50_ms']:.1f} / "
        f"{tessera['commit_p99_ms']:.1f} ms | |"
    )
    print(f"| chat messages/s end to end | | {tessera['chat_per_second']:.0f} | |")


if __name__ == "__main__":
    main()
