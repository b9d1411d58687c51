"""New, migrated databases of a given kind for tests that need an installation of their own
(the fault suite's servers, two installations sharing one Redis)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tessera.lib.migrations import upgrade_database
from tests.conftest import (
    MARIADB_HOST,
    MARIADB_PASSWORD,
    MARIADB_PORT,
    MARIADB_USER,
    _mariadb_execute,
)


@contextmanager
def fresh_databases(kind: str, directory: Path, count: int = 1) -> Iterator[list[str]]:
    """`count` database URLs of `kind` (sqlite or mariadb), migrated; dropped afterwards."""
    created: list[str] = []
    urls: list[str] = []
    try:
        for _ in range(count):
            name = f"tessera_test_{uuid.uuid4().hex[:12]}"
            if kind == "sqlite":
                url = f"sqlite+aiosqlite:///{directory / (name + '.db')}"
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
            urls.append(url)
        yield urls
    finally:
        for name in created:
            asyncio.run(_mariadb_execute(f"DROP DATABASE IF EXISTS `{name}`"))
