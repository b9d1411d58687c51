"""Async SQLAlchemy 2 for MySQL/MariaDB (`mysql+asyncmy`) and SQLite (`sqlite+aiosqlite`).

Services open one unit of work per use case (`db.transaction()`): it commits once at the end,
rolls back on any error, and runs `after_commit` callbacks (cache invalidation, wake-ups) only
once the commit succeeded. On SQLite, writes go through a single connection that starts with
`BEGIN IMMEDIATE`, so concurrent writers queue instead of failing with "database is locked".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from tessera.lib.config import DatabaseSettings

log = structlog.get_logger("tessera.db")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (portable to MySQL DATETIME), hands out aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def sqlite_file(database_url: str) -> Path | None:
    """The file of a `sqlite+aiosqlite:///path` URL; None for other databases or memory."""
    if not database_url.startswith("sqlite"):
        return None
    _, _, path = database_url.partition(":///")
    return Path(path) if path and path != ":memory:" else None


def escape_like(text: str) -> str:
    """Escape LIKE wildcards in user input; use with `escape="\\"`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def utcnow() -> datetime:
    return datetime.now(UTC)


AfterCommit = Callable[[], Awaitable[None]]


class UnitOfWork:
    """One use case's transaction: a session plus work to run once it has committed."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._after_commit: list[AfterCommit] = []

    def after_commit(self, callback: AfterCommit) -> None:
        self._after_commit.append(callback)

    async def _run_after_commit(self) -> None:
        for callback in self._after_commit:
            try:
                await callback()
            except Exception:
                # The data is committed; a failed side effect (e.g. cache delete) must not turn
                # a successful use case into an error. Cache entries also carry a TTL.
                log.exception("after_commit_failed", callback=getattr(callback, "__name__", "?"))


class Database:
    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self.is_sqlite = settings.is_sqlite
        self.engine = self._make_engine(write=False)
        # SQLite allows one writer at a time: funnel writes through one connection that takes
        # the write lock up front, so they queue in the pool instead of failing.
        self.write_engine = self._make_engine(write=True) if self.is_sqlite else self.engine
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _make_engine(self, *, write: bool) -> AsyncEngine:
        s = self.settings
        if not s.is_sqlite:
            return create_async_engine(
                s.url,
                echo=s.echo,
                pool_size=s.pool_size,
                max_overflow=s.max_overflow,
                pool_timeout=s.pool_timeout_seconds,
                pool_recycle=s.pool_recycle_seconds,
                pool_pre_ping=True,
                isolation_level=s.isolation_level,
            )
        engine = create_async_engine(
            s.url,
            echo=s.echo,
            pool_size=1 if write else s.pool_size,
            max_overflow=0 if write else s.max_overflow,
            pool_timeout=s.pool_timeout_seconds,
            connect_args={"timeout": s.sqlite_busy_timeout_ms / 1000},
        )
        busy_ms = s.sqlite_busy_timeout_ms
        begin = "BEGIN IMMEDIATE" if write else "BEGIN"

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _: ConnectionPoolEntry) -> None:
            # Let us emit BEGIN ourselves (pysqlite's implicit BEGIN is deferred).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql(begin)

        return engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """Commit everything at the end or nothing at all."""
        async with self._write_sessions() as session:
            uow = UnitOfWork(session)
            try:
                yield uow
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
        await uow._run_after_commit()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries only: never committed. Closing it returns the connection,
        which the pool rolls back; loaded objects stay readable (detached, not expired)."""
        async with self._read_sessions() as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
