"""Fixtures for the hardening regression tests: fresh databases of the parametrised kind,
all sharing the machine's real Redis (the one thing two installations may share)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera.cli import upgrade_database
from tests.conftest import (
    MARIADB_HOST,
    MARIADB_PASSWORD,
    MARIADB_PORT,
    MARIADB_USER,
    REDIS_URL,
    Backend,
    _mariadb_execute,
    _redis_ping,
    _unavailable,
)


@pytest.fixture
def two_installations(backend: Backend, tmp_path: Path) -> Iterator[tuple[Backend, Backend]]:
    """Two new, migrated databases of the current kind, both on the machine's real Redis."""
    try:
        asyncio.run(_redis_ping())
    except Exception as exc:
        _unavailable(f"Redis at {REDIS_URL}", exc)
    created: list[str] = []

    def make() -> Backend:
        name = f"tessera_test_{uuid.uuid4().hex[:12]}"
        if backend.name == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / (name + '.db')}"
        else:
            asyncio.run(
                _mariadb_execute(
                    f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
            )
            created.append(name)
            auth = MARIADB_USER + (f":{MARIADB_PASSWORD}" if MARIADB_PASSWORD else "")
            url = f"mysql+asyncmy://{auth}@{MARIADB_HOST}:{MARIADB_PORT}/{name}?charset=utf8mb4"
        upgrade_database(url)
        return Backend(backend.name, url, REDIS_URL)

    try:
        yield make(), make()
    finally:
        for name in created:
            asyncio.run(_mariadb_execute(f"DROP DATABASE IF EXISTS `{name}`"))
