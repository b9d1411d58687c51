"""Realtime fixtures: the app served by a real uvicorn (websockets sans-I/O, as `tessera
serve` configures it) on a free 127.0.0.1 port, inside the test's event loop, next to the
usual in-process HTTP client. Runs on both backends like every API test; timers are short so
no test waits long, and the outbox worker runs in-process so events flow on their own.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
import uvicorn

from tessera.app import create_app
from tessera.lib.config import Settings
from tessera.lib.realtime import uvicorn_options
from tests.conftest import Api, Backend, make_settings

REALTIME_TEST_SETTINGS: dict[str, Any] = {
    "auth_timeout_seconds": 1.0,
    "heartbeat_interval_seconds": 1.0,
    "idle_timeout_seconds": 3.0,
    "reauth_ahead_seconds": 1.0,
    "presence_ttl_seconds": 3,
    # Revocations must arrive by push; the periodic re-check would hide a broken push.
    "revocation_sweep_interval_seconds": 600,
    "close_timeout_seconds": 2.0,
}


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers (pytest owns the process's signals)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Live(Api):
    """The HTTP client of `Api` plus the address of the real WebSocket server."""

    ws_url: str
    server: uvicorn.Server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serve_live(settings: Settings) -> AsyncIterator[Live]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,
            access_log=False,
            proxy_headers=False,
            timeout_graceful_shutdown=5,
            **uvicorn_options(settings),  # type: ignore[arg-type]
        )
        server = _Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.01)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        try:
            async with Live(transport=transport, base_url="http://testserver") as client:
                client.runtime = app.state.runtime
                client.settings = settings
                client.ws_url = f"ws://127.0.0.1:{port}/ws"
                client.server = server
                try:
                    yield client
                finally:
                    await client.runtime.cache.delete_prefix(settings.cache.key_prefix + ":")
        finally:
            server.should_exit = True
            await serving
            sock.close()


def live_settings(backend: Backend, tmp_path: Path, **overrides: Any) -> Settings:
    realtime = {**REALTIME_TEST_SETTINGS, **overrides.pop("realtime", {})}
    tasks = {"worker_in_process": "on", "poll_interval_seconds": 0.2, **overrides.pop("tasks", {})}
    return make_settings(backend, tmp_path, realtime=realtime, tasks=tasks, **overrides)


@pytest_asyncio.fixture
async def live(backend: Backend, tmp_path: Path) -> AsyncIterator[Live]:
    async with serve_live(live_settings(backend, tmp_path)) as client:
        yield client


LiveFactory = Callable[..., AbstractAsyncContextManager[Live]]


@pytest_asyncio.fixture
async def live_with(backend: Backend, tmp_path: Path) -> LiveFactory:
    """`async with live_with(realtime={...}) as live:` for tests that need other limits."""

    def factory(**overrides: Any) -> AbstractAsyncContextManager[Live]:
        return serve_live(live_settings(backend, tmp_path, **overrides))

    return factory
