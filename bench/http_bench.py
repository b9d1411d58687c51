"""HTTP throughput and tail latency of Tessera against a bare ASGI app, measured with `wrk`.

What it measures
----------------
In one run, for each ASGI server chosen (`--server uvicorn,granian`), it starts
production-like servers (one worker, no reload) and drives each with `wrk` (HTTP/1.1
keep-alive, `--connections` open connections, a 2 s warm-up that is thrown away, then
`--duration` seconds measured):

1. ``bare ASGI``: `bench/bare_app.py`, a framework-free ASGI callable returning the same body as
   `/healthz` (``{"status":"ok"}``, application/json), served by the same server with the
   same options. This is the baseline: what the server itself can do on this machine.
2. ``GET /healthz``: Tessera's liveness route, i.e. FastAPI routing plus Tessera's middleware
   stack (request id, security headers, Prometheus metrics, access log).
3. ``GET /api/v1/users/me`` with a valid bearer token: the above plus JWT verification, the
   revocation/principal look-up in the cache (one Redis MGET) and the handler's own work.

Tessera is started through its real CLI (`tessera serve --host 127.0.0.1 --port P`) under
uvicorn, or with `granian --interface asgi --loop uvloop --workers 1 --factory
tessera.app:app_from_environment` (only when granian is importable). Settings are
production's: ``TESSERA_ENV=production``, a random 48-byte JWT secret, JSON logs to a file,
the access log on at INFO (``--logging production``); ``--logging quiet`` also measures
``TESSERA_LOGGING__LEVEL=WARNING``, which drops the per-request access-log line. Every server
gets a fresh temporary directory for `var/`; the database is migrated with
`tessera db upgrade`, a user registers over HTTP and signs in to get the access token.

Backends (``--backend embedded,mariadb``):

* ``embedded``: a temporary SQLite file and the in-process (fakeredis) cache;
* ``mariadb``: a throw-away database ``tessera_bench_<random>`` (utf8mb4) on
  ``--mariadb-url`` (default root@127.0.0.1:3306, dropped at the end) and Redis at
  ``--redis-url`` with a unique key prefix (its keys are deleted at the end).

CPU placement: when the machine has at least two CPUs and `taskset` exists, the server
(with every thread and child process) is pinned to CPU 0 and wrk to CPU 1, so the load
generator does not steal the server's core. wrk gets two threads on its CPU: with one it
could not keep the bare app busy (the server sat at ~80% CPU). MariaDB and Redis are not
pinned (they share whatever CPU is free). ``--no-pin`` turns this off.

How to read the table
---------------------
``req/s`` is wrk's throughput; ``p50``/``p99`` its latency percentiles in milliseconds (with
64 connections against one Python process, latency is mostly queueing: p99 ~ connections /
throughput plus jitter). ``rps/bare`` is the target's throughput divided by the bare app's on
the same server (1.00 = as fast as the server allows; the issue's target for /users/me is
at least 0.30); ``p99/bare`` is its p99 divided by the bare app's (higher is worse). Any
error or non-2xx response is shown in ``errors`` and makes the row suspect. The CPU columns
are % of one CPU while measured: ``srv cpu`` the server's processes (~100%: the server was
the bottleneck, as it should be), ``db cpu`` MariaDB and Redis, ``oth cpu`` everything else
except wrk and interrupt handling. More than ~20% there means another program (a test run, a
build) competed for the CPUs and the row is noise: ``--wait-quiet 600`` waits for quiet CPUs
before each run and measures a noisy run again. When two servers are measured, a second table
gives granian's throughput as a multiple of uvicorn's.

Usage: ``make bench`` or ``.venv/bin/python bench/http_bench.py [--backend embedded,mariadb]
[--server uvicorn,granian] [--logging production,quiet] [--duration 10] [--connections 64]
[--threads 2] [--repeat 1] [--wait-quiet 0] [--json results.json] [--keep-logs DIR]``. wrk
comes from Debian: ``apt-get install -y wrk``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
LUA_REPORT = BENCH_DIR / "wrk_report.lua"
HEALTH_BODY = b'{"status":"ok"}'
TARGET_RATIO = 0.30
WARMUP_SECONDS = 2
HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
NOISE_CPU = 20.0  # % of one CPU used by others during a run that makes it unreliable
NOISY_RETRIES = 2  # with --wait-quiet, measure a noisy run again up to this many times
USERNAME = "bench_user"
PASSWORD = "Bench-" + secrets.token_urlsafe(18)  # one per run; meets the password policy

SERVERS = ("uvicorn", "granian")
BACKENDS = ("embedded", "mariadb")
LOGGING = ("production", "quiet")

# No proxies, ever: every request of this script goes to 127.0.0.1.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class BenchError(RuntimeError):
    """A setup step failed; the message says which and why."""


@dataclass
class Measurement:
    server: str
    backend: str
    logging: str
    target: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    server_cpu: float  # % of one CPU used by the server's processes while measured
    services_cpu: float  # ... by MariaDB and Redis
    other_cpu: float  # ... by everything else except wrk: noise from other programs
    rps_ratio: float | None = None
    p99_ratio: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# --- processes ---------------------------------------------------------------------------


class Server:
    """A server process in its own process group; `stop()` ends that group and nothing else."""

    running: list[Server] = []  # every started server, for the cleanup on errors/signals

    def __init__(
        self, name: str, argv: Sequence[str], *, env: dict[str, str], cwd: Path, port: int
    ) -> None:
        self.name = name
        self.port = port
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            list(argv),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        Server.running.append(self)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 25) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, urllib.error.URLError):
                status, _ = http("GET", f"{self.base_url}/healthz", timeout=1)
                if status == 200:
                    return
            time.sleep(0.1)
        raise BenchError(f"{self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self in Server.running:
            Server.running.remove(self)
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # A graceful exit may leave workers of the group behind (granian); end them too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()
        wait_port_free(self.port)


def stop_all() -> None:
    for server in list(Server.running):
        with contextlib.suppress(Exception):
            server.stop()


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port_free(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((HOST, port)) != 0:
                return
        time.sleep(0.1)
    print(f"warning: port {port} still accepts connections after {timeout:.0f}s", file=sys.stderr)


def http(
    method: str,
    url: str,
    *,
    body: dict[str, Any] | None = None,
    token: str | None = None,
    timeout: float = 30,
) -> tuple[int, bytes]:
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _HTTP.open(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


# --- CPU placement -------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    server_prefix: tuple[str, ...] = ()
    wrk_prefix: tuple[str, ...] = ()
    description: str = "not pinned"


def placement(pin: bool) -> Placement:
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    taskset = shutil.which("taskset")
    if not pin:
        return Placement(description="not pinned (--no-pin)")
    if len(cpus) < 2 or taskset is None:
        return Placement(description="not pinned (needs 2 CPUs and taskset)")
    server_cpu, wrk_cpus = cpus[0], ",".join(str(cpu) for cpu in cpus[1:])
    return Placement(
        server_prefix=(taskset, "-c", str(server_cpu)),
        wrk_prefix=(taskset, "-c", wrk_cpus),
        description=f"server on CPU {server_cpu}, wrk on CPU {wrk_cpus} (taskset)",
    )


# --- wrk -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadOptions:
    duration: int
    connections: int
    threads: int
    repeat: int
    placement: Placement
    wait_quiet: float = 0.0


def find_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            "wrk is not installed. On Debian/Ubuntu: sudo apt-get install -y wrk "
            "(or build it from https://github.com/wg/wrk), then run this again.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return wrk


def run_wrk(
    wrk: str,
    url: str,
    options: LoadOptions,
    seconds: int,
    headers: Sequence[str] = (),
    *,
    connections: int | None = None,
    script: Path = LUA_REPORT,
) -> dict[str, Any]:
    """One wrk run; `script` must print the `BENCH_JSON {...}` line (see wrk_report.lua)."""
    connections = connections or options.connections
    argv = [
        *options.placement.wrk_prefix,
        wrk,
        f"--threads={min(options.threads, connections)}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=5s",
        f"--script={script}",
    ]
    for header in headers:
        argv += ["--header", header]
    argv.append(url)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    match = re.search(r"^BENCH_JSON (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    report: dict[str, Any] = json.loads(match.group(1))
    return report


SERVICE_NAMES = frozenset({"mariadbd", "mysqld", "redis-server"})


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used so far by: the server's process group, MariaDB and Redis, this
    script's finished children (wrk), and the whole machine (user + nice + system)."""

    server: float
    services: float
    children: float
    machine: float

    @classmethod
    def take(cls, pgid: int) -> CpuSample:
        server = services = 0
        with contextlib.suppress(OSError):
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    stat = Path(entry.path, "stat").read_text()
                except OSError:
                    continue
                name, _, rest = stat.partition(" (")[2].rpartition(")")
                fields = rest.split()  # state ppid pgrp ... utime(11) stime(12)
                ticks = int(fields[11]) + int(fields[12])
                if int(fields[2]) == pgid:
                    server += ticks
                elif name in SERVICE_NAMES:
                    services += ticks
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(
            server=server / CLOCK_TICKS,
            services=services / CLOCK_TICKS,
            children=usage.ru_utime + usage.ru_stime,
            machine=machine_busy(),
        )


def machine_busy() -> float:
    """CPU seconds all CPUs spent in user, nice and system time since boot. Interrupt time is
    left out: loopback traffic of the benchmark itself is handled there."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        user, nice, system = (int(v) for v in Path("/proc/stat").read_text().split()[1:4])
        return (user + nice + system) / CLOCK_TICKS
    return 0.0


def wait_until_quiet(timeout: float) -> None:
    """Wait (up to `timeout` s) until the CPUs are idle but for NOISE_CPU % of one CPU, so
    that another program's work (a test run, a build) does not land in the measurement."""
    deadline = time.monotonic() + timeout
    busy = 0.0
    while time.monotonic() < deadline:
        start = machine_busy()
        time.sleep(1.0)
        busy = 100 * (machine_busy() - start)
        if busy <= NOISE_CPU:
            return
    print(f"  note: the machine stayed busy ({busy:.0f}% of a CPU); measuring anyway")


def measured_run(
    wrk: str, proc: Server, url: str, options: LoadOptions, headers: Sequence[str]
) -> dict[str, Any]:
    """One measured wrk run, plus who used the CPUs meanwhile (% of one CPU)."""
    before = CpuSample.take(proc.proc.pid)
    report = run_wrk(wrk, url, options, options.duration, headers)
    after = CpuSample.take(proc.proc.pid)
    seconds = report["duration_us"] / 1e6
    server = after.server - before.server
    services = after.services - before.services
    wrk_cpu = after.children - before.children
    other = after.machine - before.machine - server - services - wrk_cpu
    report["server_cpu"] = round(100 * server / seconds, 1)
    report["services_cpu"] = round(100 * services / seconds, 1)
    report["other_cpu"] = round(max(0.0, 100 * other / seconds), 1)
    return report


def measure(
    wrk: str,
    proc: Server,
    path: str,
    options: LoadOptions,
    *,
    server: str,
    backend: str,
    logging: str,
    target: str,
    headers: Sequence[str] = (),
) -> Measurement:
    url = proc.base_url + path
    run_wrk(wrk, url, options, WARMUP_SECONDS, headers)
    reports = []
    for _ in range(options.repeat):
        attempts = []
        for _ in range(NOISY_RETRIES + 1 if options.wait_quiet > 0 else 1):
            if options.wait_quiet > 0:
                wait_until_quiet(options.wait_quiet)
            attempts.append(measured_run(wrk, proc, url, options, headers))
            if attempts[-1]["other_cpu"] <= NOISE_CPU:
                break
            print(f"  note: other programs used {attempts[-1]['other_cpu']:.0f}% of a CPU")
        reports.append(min(attempts, key=lambda item: item["other_cpu"]))
    # With --repeat, keep the run of median throughput (its own percentiles come with it).
    reports.sort(key=lambda item: item["requests"] / item["duration_us"])
    report = reports[len(reports) // 2]
    seconds = report["duration_us"] / 1e6
    errors = sum(
        report[key]
        for key in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    result = Measurement(
        server=server,
        backend=backend,
        logging=logging,
        target=target,
        requests=report["requests"],
        seconds=round(seconds, 3),
        rps=round(report["requests"] / seconds, 1),
        p50_ms=report["p50_us"] / 1000,
        p90_ms=report["p90_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        max_ms=report["max_us"] / 1000,
        errors=errors,
        server_cpu=report["server_cpu"],
        services_cpu=report["services_cpu"],
        other_cpu=report["other_cpu"],
    )
    if len(reports) > 1:
        result.extra["rps_runs"] = [
            round(item["requests"] / item["duration_us"] * 1e6, 1) for item in reports
        ]
    print(
        f"  {server:8} {backend:9} {logging:11} {target:14} {result.rps:9,.0f} req/s  "
        f"p99 {result.p99_ms:7.2f} ms  CPU: server {result.server_cpu:3.0f}% "
        f"db {result.services_cpu:3.0f}% other {result.other_cpu:3.0f}%  errors {errors}",
        flush=True,
    )
    return result


# --- servers -------------------------------------------------------------------------------


def granian_available() -> bool:
    return importlib.util.find_spec("granian") is not None


def venv_script(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if found is None:
        raise BenchError(f"cannot find the {name!r} command; run `make` first")
    return found


def granian_argv(target: str, port: int, *, factory: bool) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--loop",
        "uvloop",
        "--workers",
        "1",
        "--no-reload",
        "--no-access-log",  # Tessera writes its own access log, as under uvicorn
        "--host",
        HOST,
        "--port",
        str(port),
    ]
    if factory:
        argv.append("--factory")
    return [*argv, target]


def start_bare(server: str, place: Placement, workdir: Path) -> Server:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(BENCH_DIR)}
    if server == "uvicorn":
        argv = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--host", HOST, "--port", str(port)]
    else:
        argv = granian_argv("bare_app:app", port, factory=False)
    proc = Server(f"{server}-bare", [*place.server_prefix, *argv], env=env, cwd=workdir, port=port)
    proc.wait_ready()
    status, body = http("GET", f"{proc.base_url}/healthz")
    if status != 200 or body != HEALTH_BODY:
        raise BenchError(f"bare app answered {status} {body!r}")
    return proc


def tessera_env(base: dict[str, str], workdir: Path, logging: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    env.update(base)
    env.update(
        {
            "TESSERA_VAR_DIR": str(workdir / "var"),
            "TESSERA_LOGGING__FORMAT": "json",
            "TESSERA_LOGGING__ACCESS_LOG": "true",
            "TESSERA_LOGGING__LEVEL": "INFO" if logging == "production" else "WARNING",
        }
    )
    return env


def start_tessera(
    server: str, place: Placement, workdir: Path, env: dict[str, str], label: str
) -> tuple[Server, str]:
    """Start Tessera, sign a user up and in; returns the server and an access token."""
    port = free_port()
    if server == "uvicorn":
        argv = [venv_script("tessera"), "serve", "--host", HOST, "--port", str(port)]
    else:
        argv = granian_argv("tessera.app:app_from_environment", port, factory=True)
    proc = Server(label, [*place.server_prefix, *argv], env=env, cwd=workdir, port=port)
    proc.wait_ready()
    status, body = http("GET", f"{proc.base_url}/healthz")
    if status != 200 or body != HEALTH_BODY:
        raise BenchError(f"/healthz answered {status} {body!r}")
    status, body = http(
        "POST",
        f"{proc.base_url}/api/v1/auth/register",
        body={"username": USERNAME, "email": "bench@example.com", "password": PASSWORD},
    )
    if status not in (201, 409):  # 409: registered by an earlier server on this database
        raise BenchError(f"register answered {status}: {body!r}\n{proc.log_tail()}")
    status, body = http(
        "POST",
        f"{proc.base_url}/api/v1/auth/login",
        body={"username": USERNAME, "password": PASSWORD},
    )
    if status != 200:
        raise BenchError(f"login answered {status}: {body!r}\n{proc.log_tail()}")
    token: str = json.loads(body)["access_token"]
    status, body = http("GET", f"{proc.base_url}/api/v1/users/me", token=token)
    if status != 200 or json.loads(body).get("username") != USERNAME:
        raise BenchError(f"/users/me answered {status}: {body!r}")
    return proc, token


def tessera_cli(env: dict[str, str], workdir: Path, *args: str) -> None:
    """Run `tessera ARGS` with the benchmark's environment; BenchError if it fails."""
    done = subprocess.run(
        [venv_script("tessera"), *args],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"tessera {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def migrate(env: dict[str, str], workdir: Path) -> None:
    tessera_cli(env, workdir, "db", "upgrade")


# --- backends ------------------------------------------------------------------------------


@contextlib.contextmanager
def backend_settings(
    backend: str, args: argparse.Namespace, workdir: Path
) -> Iterator[dict[str, str]]:
    """Environment for one backend; creates and afterwards removes its database and keys."""
    tag = secrets.token_hex(4)
    base = {
        "TESSERA_ENV": "production",
        "TESSERA_SECURITY__JWT_SECRET": secrets.token_urlsafe(48),
        # Mail and SMS go to files: the benchmark sends nothing anywhere.
        "TESSERA_SECURITY__ALLOW_UNSAFE_SETTINGS": '["mail.backend", "sms.backend"]',
        "TESSERA_CONFIG_DIR": str(ROOT / "config"),
        "TESSERA_MIGRATIONS_DIR": str(ROOT / "migrations"),
    }
    if backend == "embedded":
        base["TESSERA_DATABASE__URL"] = f"sqlite+aiosqlite:///{workdir / 'var' / 'tessera.db'}"
        yield base
        return
    from sqlalchemy.engine import make_url

    server_url = make_url(args.mariadb_url)
    database = f"tessera_bench_{tag}"
    prefix = f"tessera_bench_{tag}"
    asyncio.run(_mariadb(server_url, f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4"))
    try:
        base["TESSERA_DATABASE__URL"] = (
            server_url.set(database=database, query={"charset": "utf8mb4"})
        ).render_as_string(hide_password=False)
        base["TESSERA_CACHE__URL"] = args.redis_url
        base["TESSERA_CACHE__KEY_PREFIX"] = prefix
        yield base
    finally:
        try:
            asyncio.run(_mariadb(server_url, f"DROP DATABASE IF EXISTS `{database}`"))
        finally:
            _delete_redis_prefix(args.redis_url, prefix)


async def _mariadb(url: Any, statement: str) -> None:
    import asyncmy

    connection = await asyncmy.connect(
        host=url.host or HOST,
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
    )
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(statement)
    finally:
        connection.close()


def _delete_redis_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- the run -------------------------------------------------------------------------------


def bench_server(
    server: str, args: argparse.Namespace, wrk: str, options: LoadOptions, root: Path
) -> list[Measurement]:
    results: list[Measurement] = []
    bare_dir = root / f"{server}-bare"
    bare_dir.mkdir()
    bare = start_bare(server, options.placement, bare_dir)
    try:
        baseline = measure(
            wrk,
            bare,
            "/healthz",
            options,
            server=server,
            backend="-",
            logging="-",
            target="bare ASGI",
        )
    finally:
        bare.stop()
        keep_log(bare, args.keep_logs)
    baseline.rps_ratio = baseline.p99_ratio = 1.0
    results.append(baseline)
    for backend in args.backend:
        backend_dir = root / f"{server}-{backend}"
        backend_dir.mkdir()
        with backend_settings(backend, args, backend_dir) as base:
            migrate(tessera_env(base, backend_dir, "production"), backend_dir)
            for logging in args.logging:
                env = tessera_env(base, backend_dir, logging)
                label = f"{server}-{backend}-{logging}"
                proc, token = start_tessera(server, options.placement, backend_dir, env, label)
                try:
                    for target, path, headers in (
                        ("GET /healthz", "/healthz", ()),
                        ("GET /users/me", "/api/v1/users/me", (f"Authorization: Bearer {token}",)),
                    ):
                        row = measure(
                            wrk,
                            proc,
                            path,
                            options,
                            server=server,
                            backend=backend,
                            logging=logging,
                            target=target,
                            headers=headers,
                        )
                        row.rps_ratio = row.rps / baseline.rps
                        row.p99_ratio = row.p99_ms / baseline.p99_ms
                        results.append(row)
                finally:
                    proc.stop()
                    keep_log(proc, args.keep_logs)
                log_bytes = proc.log_path.stat().st_size
                results[-1].extra["server_log_bytes"] = log_bytes
                results[-2].extra["server_log_bytes"] = log_bytes
    return results


def keep_log(server: Server, directory: Path | None) -> None:
    if directory is not None and server.log_path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(server.log_path, directory / server.log_path.name)


def format_table(results: list[Measurement]) -> str:
    header = (
        f"{'server':8} {'backend':9} {'logging':11} {'target':14} {'req/s':>9} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'rps/bare':>8} {'p99/bare':>8} {'errors':>6} "
        f"{'srv cpu':>7} {'db cpu':>7} {'oth cpu':>7}"
    )
    lines = [header, "-" * len(header)]
    for row in results:
        lines.append(
            f"{row.server:8} {row.backend:9} {row.logging:11} {row.target:14} "
            f"{row.rps:9,.0f} {row.p50_ms:7.2f} {row.p99_ms:7.2f} "
            f"{row.rps_ratio or 0:8.2f} {row.p99_ratio or 0:8.2f} {row.errors:6d} "
            f"{row.server_cpu:6.0f}% {row.services_cpu:6.0f}% {row.other_cpu:6.0f}%"
        )
    return "\n".join(lines)


def format_server_comparison(results: list[Measurement]) -> str | None:
    by_key = {(r.server, r.backend, r.logging, r.target): r for r in results}
    rows = []
    for (server, backend, logging, target), row in by_key.items():
        if server != "uvicorn":
            continue
        other = by_key.get(("granian", backend, logging, target))
        if other is None:
            continue
        rows.append(
            f"{backend:9} {logging:11} {target:14} {row.rps:9,.0f} {other.rps:9,.0f} "
            f"{other.rps / row.rps:8.2f} {row.p99_ms:9.2f} {other.p99_ms:9.2f}"
        )
    if not rows:
        return None
    header = (
        f"{'backend':9} {'logging':11} {'target':14} {'uvicorn':>9} {'granian':>9} "
        f"{'gr/uv':>8} {'uv p99':>9} {'gr p99':>9}"
    )
    return "\n".join([header, "-" * len(header), *rows])


def machine_summary() -> str:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {platform.system()}"
    )


def csv_choice(allowed: Sequence[str]) -> Any:
    def parse(value: str) -> list[str]:
        items = [item.strip() for item in value.split(",") if item.strip()]
        if items == ["all"]:
            return list(allowed)
        unknown = [item for item in items if item not in allowed]
        if unknown or not items:
            raise argparse.ArgumentTypeError(
                f"choose from {', '.join(allowed)} (comma-separated) or all"
            )
        return list(dict.fromkeys(items))

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Tessera vs a bare ASGI app under wrk (see the module docstring).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--backend",
        type=csv_choice(BACKENDS),
        default="embedded",
        help="embedded, mariadb, or both comma-separated",
    )
    parser.add_argument(
        "--server",
        type=csv_choice(SERVERS),
        default="uvicorn",
        help="uvicorn, granian (if installed), or both",
    )
    parser.add_argument(
        "--logging",
        type=csv_choice(LOGGING),
        default="production",
        help="production (INFO + access log) and/or quiet (WARNING)",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per target")
    parser.add_argument("--connections", type=int, default=64, help="wrk open connections")
    parser.add_argument(
        "--threads", type=int, default=2, help="wrk threads (1 cannot keep the bare app busy)"
    )
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="do not pin the server and wrk to separate CPUs (pinned: server CPU 0, wrk the rest)",
    )
    parser.add_argument(
        "--mariadb-url",
        default="mysql+asyncmy://root@127.0.0.1:3306",
        help="MariaDB server (a throw-away database is created on it)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--repeat", type=int, default=1, help="measured runs per target; the median is shown"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for other programs to leave the CPUs, "
        "and measure a run again when they came back meanwhile",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--keep-logs", type=Path, help="copy the servers' logs to this folder")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.duration < 1:
        parser.error("--repeat and --duration must be at least 1")
    if args.threads > args.connections:
        parser.error("--threads must not exceed --connections")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = find_wrk()
    if "granian" in args.server and not granian_available():
        if args.server == ["granian"]:
            print("granian is not installed: .venv/bin/pip install granian", file=sys.stderr)
            return 2
        print("note: granian is not installed; measuring uvicorn only", file=sys.stderr)
        args.server = [name for name in args.server if name != "granian"]
    place = placement(args.pin)
    options = LoadOptions(
        args.duration, args.connections, args.threads, args.repeat, place, args.wait_quiet
    )
    started = dt.datetime.now(dt.UTC)
    print(f"machine: {machine_summary()}")
    print(
        f"load: wrk {args.threads} thread(s), {args.connections} connections, "
        f"{WARMUP_SECONDS}s warm-up + {args.duration}s per target; {place.description}",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _raise_interrupt)
    results: list[Measurement] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
            try:
                for server in args.server:
                    results += bench_server(server, args, wrk, options, Path(tmp))
            finally:
                stop_all()  # before the temporary directory goes away
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    print(f"\nresults ({started:%Y-%m-%d %H:%M} UTC):\n")
    print(format_table(results))
    comparison = format_server_comparison(results)
    if comparison:
        print("\nserver comparison (throughput, req/s):\n")
        print(comparison)
    print()
    for row in results:
        if row.target == "GET /users/me" and row.rps_ratio is not None:
            verdict = "meets" if row.rps_ratio >= TARGET_RATIO else "MISSES"
            print(
                f"{row.server}/{row.backend}/{row.logging}: /users/me at {row.rps_ratio:.2f} "
                f"of the bare app {verdict} the target of {TARGET_RATIO:.2f}"
            )
    if any(row.errors for row in results):
        print("warning: some rows had errors or non-2xx responses", file=sys.stderr)
    noisy = [row for row in results if row.other_cpu > NOISE_CPU]
    if noisy:
        print(
            f"warning: other programs used more than {NOISE_CPU:.0f}% of a CPU during "
            f"{len(noisy)} row(s) (oth cpu): those numbers are unreliable; see --wait-quiet",
            file=sys.stderr,
        )
    if args.json:
        payload = {
            "started": started.isoformat(),
            "machine": machine_summary(),
            "placement": place.description,
            "options": {
                "duration": args.duration,
                "connections": args.connections,
                "threads": args.threads,
                "repeat": args.repeat,
                "warmup": WARMUP_SECONDS,
            },
            "results": [asdict(row) for row in results],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
