"""Fixtures for the hardening regression tests: fresh databases of the parametrised kind,
all sharing the machine's real Redis (the one thing two installations may share)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL, Backend, _redis_ping, _unavailable
from tests.fresh_db import fresh_databases


@pytest.fixture
def two_installations(backend: Backend, tmp_path: Path) -> Iterator[tuple[Backend, Backend]]:
    """Two new, migrated databases of the current kind, both on the machine's real Redis."""
    try:
        asyncio.run(_redis_ping())
    except Exception as exc:
        _unavailable(f"Redis at {REDIS_URL}", exc)
    with fresh_databases(backend.name, tmp_path, 2) as (first, second):
        yield Backend(backend.name, first, REDIS_URL), Backend(backend.name, second, REDIS_URL)
