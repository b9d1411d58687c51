"""Alembic migrations of the whole application: find them, apply them, tell what is missing.

Used by `tessera db upgrade`, by `tessera serve` (which refuses a database that is behind),
and by the test suite and benchmarks, which migrate their own databases.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tessera.lib.db import sqlite_file


def migrations_dir() -> Path:
    configured = os.environ.get("TESSERA_MIGRATIONS_DIR")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "migrations"
        if (candidate / "env.py").is_file():
            return candidate
    raise RuntimeError("cannot find the migrations folder; set TESSERA_MIGRATIONS_DIR")


def upgrade_database(database_url: str, revision: str = "heads") -> None:
    """Apply Alembic migrations (used by `tessera db upgrade` and the test suite)."""
    from alembic import command
    from alembic.config import Config

    path = sqlite_file(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


def pending_migrations(database_url: str) -> set[str]:
    """Heads of the migration scripts that the database has not reached yet."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    script = ScriptDirectory(str(migrations_dir()))
    path = sqlite_file(database_url)
    if path is not None and not path.exists():
        return set(script.get_heads())  # a new embedded database: nothing applied yet

    def applied(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async def read() -> set[str]:
        engine = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(applied)
        finally:
            await engine.dispose()

    current = asyncio.run(read())
    reached = {
        revision.revision
        for head in current
        for revision in script.iterate_revisions(head, "base")
        if revision is not None
    }
    return set(script.get_heads()) - reached
