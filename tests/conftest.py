"""Shared fixtures: every API test runs against embedded SQLite + in-process cache AND against
the real MariaDB + Redis of this machine.

Each test session creates its own MariaDB database (dropped at the end) and each test its own
Redis key prefix, so runs never collide. Under `CI=true` an unreachable MariaDB or Redis is a
failure; elsewhere those parameters are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tessera.app import create_app
from tessera.lib.config import LoggingSettings, Settings
from tessera.lib.logging import configure_logging
from tessera.lib.migrations import upgrade_database
from tessera.lib.runtime import Runtime
from tests.messages import SmtpSink

MARIADB_HOST = os.environ.get("TESSERA_TEST_MYSQL_HOST", "127.0.0.1")
MARIADB_PORT = int(os.environ.get("TESSERA_TEST_MYSQL_PORT", "3306"))
MARIADB_USER = os.environ.get("TESSERA_TEST_MYSQL_USER", "root")
MARIADB_PASSWORD = os.environ.get("TESSERA_TEST_MYSQL_PASSWORD", "")
REDIS_URL = os.environ.get("TESSERA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
RUN_ID = uuid.uuid4().hex[:10]

configure_logging(LoggingSettings(level="WARNING", access_log=False), production=False)


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str
    cache_url: str | None


async def _mariadb_execute(statement: str) -> None:
    import asyncmy

    connection = await asyncmy.connect(
        host=MARIADB_HOST,
        port=MARIADB_PORT,
        user=MARIADB_USER,
        password=MARIADB_PASSWORD,
        connect_timeout=5,
    )
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(statement)
    finally:
        connection.close()


async def _redis_ping() -> None:
    import redis.asyncio as redis_asyncio

    client = redis_asyncio.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        await client.ping()
    finally:
        await client.aclose()


def _unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} is not reachable: {exc!r}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: the integration suite must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    path = tmp_path_factory.mktemp("db") / "tessera.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_database(url)
    return Backend("sqlite", url, None)


@pytest.fixture(scope="session")
def mariadb_backend() -> Iterator[Backend]:
    name = f"tessera_test_{RUN_ID}"
    try:
        asyncio.run(
            _mariadb_execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        )
    except Exception as exc:
        _unavailable(f"MariaDB at {MARIADB_HOST}:{MARIADB_PORT}", exc)
    try:
        asyncio.run(_redis_ping())
    except Exception as exc:
        asyncio.run(_mariadb_execute(f"DROP DATABASE IF EXISTS `{name}`"))
        _unavailable(f"Redis at {REDIS_URL}", exc)
    auth = MARIADB_USER + (f":{MARIADB_PASSWORD}" if MARIADB_PASSWORD else "")
    url = f"mysql+asyncmy://{auth}@{MARIADB_HOST}:{MARIADB_PORT}/{name}?charset=utf8mb4"
    try:
        upgrade_database(url)
        yield Backend("mariadb", url, REDIS_URL)
    finally:
        asyncio.run(_mariadb_execute(f"DROP DATABASE IF EXISTS `{name}`"))


@pytest.fixture(scope="session", params=["sqlite", "mariadb"])
def backend(request: pytest.FixtureRequest) -> Backend:
    fixture: Backend = request.getfixturevalue(f"{request.param}_backend")
    return fixture


def make_settings(backend: Backend, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for one test: its own cache prefix and var dir, cheap argon2, quiet logs."""
    values: dict[str, Any] = {
        "env": "test",
        "var_dir": tmp_path / "var",
        "database": {"url": backend.database_url},
        "cache": {"url": backend.cache_url, "key_prefix": f"tessera-test-{uuid.uuid4().hex[:12]}"},
        "security": {
            "jwt_secret": "test-secret-" + "x" * 40,
            "argon2_time_cost": 1,
            "argon2_memory_kib": 1024,
            "argon2_parallelism": 1,
        },
        "logging": {"level": "WARNING", "access_log": False},
        # Tests drain the outbox explicitly (tests.helpers.drain) for determinism.
        "tasks": {"worker_in_process": "off", "backoff_base_seconds": 0.01},
    }
    for section, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(section), dict):
            values[section] = {**values[section], **value}
        else:
            values[section] = value
    return Settings(**values)


class Api(httpx.AsyncClient):
    """An HTTP client bound to one app instance, with access to its runtime for set-up."""

    runtime: Runtime
    settings: Settings


@asynccontextmanager
async def open_api(settings: Settings, blocks: list[str] | None = None) -> AsyncIterator[Api]:
    app = create_app(settings, blocks=blocks)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with Api(transport=transport, base_url="http://testserver") as client:
            client.runtime = app.state.runtime
            client.settings = settings
            try:
                yield client
            finally:
                await client.runtime.cache.delete_prefix(settings.cache.key_prefix + ":")


@pytest_asyncio.fixture
async def api(backend: Backend, tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(make_settings(backend, tmp_path)) as client:
        yield client


ApiFactory = Callable[..., AbstractAsyncContextManager[Api]]


@pytest.fixture
def api_with(backend: Backend, tmp_path: Path) -> ApiFactory:
    """`async with api_with(user={...}) as api:` for tests that need other settings."""

    def factory(**overrides: Any) -> AbstractAsyncContextManager[Api]:
        return open_api(make_settings(backend, tmp_path, **overrides))

    return factory


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def notify_api(api_with: ApiFactory, smtp_sink: SmtpSink) -> ApiFactory:
    """`async with notify_api(user={...}) as api:` — an app whose notify block mails to the
    SMTP sink and writes SMS to a file (or a fake provider, see tests/fakes/sms_providers.py)."""

    def factory(**overrides: Any) -> AbstractAsyncContextManager[Api]:
        mail = {
            "backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
            "smtp_starttls": False,
            "smtp_timeout_seconds": 5,
            **overrides.pop("mail", {}),
        }
        return api_with(mail=mail, **overrides)

    return factory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`@pytest.mark.backend_only("mariadb")`: the test exists only for that backend (it
    needs what only that backend has, e.g. a real Redis), so the other is not collected
    rather than skipped."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("backend_only")
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        if marker is not None and backend is not None and backend != marker.args[0]:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
