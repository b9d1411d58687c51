"""Processes the fault suite starts and kills itself: `tessera serve` / `tessera worker`
subprocesses and private `redis-server`s on free ports. Waiting is always readiness polling
against a deadline, never a fixed sleep; everything started is stopped by its own pid."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
TESSERA = str(Path(sys.executable).with_name("tessera"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> float:
    """Poll `condition` until it holds; return the seconds it took, fail after `timeout`."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not reached within {timeout} s", pytrace=False)
        time.sleep(0.05)


def tessera_env(var_dir: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        TESSERA_CONFIG_DIR=str(REPO / "config"),
        TESSERA_MIGRATIONS_DIR=str(REPO / "migrations"),
        TESSERA_VAR_DIR=str(var_dir),
        TESSERA_LOGGING__LEVEL="WARNING",
        TESSERA_LOGGING__ACCESS_LOG="false",
        TESSERA_SECURITY__JWT_SECRET="fault-suite-secret-" + "k" * 40,
        TESSERA_SECURITY__ARGON2_TIME_COST="1",
        TESSERA_SECURITY__ARGON2_MEMORY_KIB="1024",
        TESSERA_SECURITY__ARGON2_PARALLELISM="1",
    )
    env.update(settings)
    return env


@dataclass
class Proc:
    """A process we started in its own process group."""

    process: subprocess.Popen[str]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no goodbyes (a crash)."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start(args: list[str], *, env: Mapping[str, str], cwd: Path, log_name: str) -> Proc:
    log_path = cwd / f"{log_name}.log"
    handle = open(log_path, "w")  # noqa: SIM115 - the child writes to it
    process = subprocess.Popen(
        args,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    handle.close()
    return Proc(process, log_path)


def serve(env: Mapping[str, str], cwd: Path, port: int, *extra: str, name: str = "serve") -> Proc:
    return start([TESSERA, "serve", "--port", str(port), *extra], env=env, cwd=cwd, log_name=name)


def wait_http_ok(proc: Proc, url: str, *, timeout: float = 60) -> None:
    def ready() -> bool:
        if not proc.alive():
            pytest.fail(f"process exited early:\n{proc.output()[-3000:]}", pytrace=False)
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(ready, timeout=timeout, what=f"{url} answering 200")


@contextlib.contextmanager
def stopping(*procs: Proc) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in procs:
            proc.stop()


class RedisServer:
    """A private redis-server on a free port; kill and restart it at will."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            message = "redis-server is not installed (Debian package redis-server)"
            if IN_CI:
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = start(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            env=os.environ,
            cwd=self.directory,
            log_name=f"redis-{self.port}",
        )
        wait_until(self._answers, timeout=20, what=f"redis-server on {self.port}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
