"""Alembic environment: async engines for SQLite and MySQL/MariaDB, URL from Tessera settings.

Every block's tables are registered by importing its `model.do` module below.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from importlib import import_module

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tessera.blocks import KNOWN_BLOCKS
from tessera.lib import installation as _installation  # noqa: F401  (registers its table)
from tessera.lib.config import load_settings
from tessera.lib.db import Base
from tessera.lib.tasks import outbox as _outbox  # noqa: F401  (registers outbox tables)

for _block in KNOWN_BLOCKS:
    with contextlib.suppress(ModuleNotFoundError):
        import_module(f"tessera.blocks.{_block}.model.do")

config = context.config
# MariaDB notes that constraint names are ignored for primary keys, once per table: noise.
logging.getLogger("asyncmy").setLevel(logging.ERROR)
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or load_settings().database.url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
