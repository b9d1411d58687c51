"""The installation id: a random id created with the database (migration `lib_0001`) and read
at start-up, so that everything one installation keeps in a shared Redis is namespaced by it.

Two installations on one Redis with the same `cache.key_prefix` (or one whose database was
recreated) would otherwise read each other's cached principals, rate limits and one-time
codes: user 1 of one database is not user 1 of another. A restored backup keeps its id; after
restoring, `tessera db new-installation-id` starts a fresh key space (see the README).
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import String, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, mapped_column

from tessera.lib.db import Base, Database

_ID_RE = re.compile(r"^[0-9a-f]{32}$")


class InstallationRow(Base):
    """One row: the id of this installation (its key space in the shared cache)."""

    __tablename__ = "installation"

    # Always 1: the table holds exactly one row.
    singleton: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    installation_id: Mapped[str] = mapped_column(String(32))


class InstallationMissing(RuntimeError):
    """The database has no installation id (not migrated, or the row was removed)."""


def new_installation_id() -> str:
    return uuid.uuid4().hex


async def read_installation_id(db: Database) -> str:
    """The database's installation id; InstallationMissing names the command that fixes it."""
    try:
        async with db.read() as session:
            value = await session.scalar(
                select(InstallationRow.installation_id).where(InstallationRow.singleton == 1)
            )
    except DBAPIError as exc:
        if "installation" not in str(exc).lower():
            raise
        value = None
    if value is None or not _ID_RE.fullmatch(value):
        raise InstallationMissing(
            "the database has no installation id: run `tessera db upgrade` "
            "(it is created with the schema)"
        )
    return value


async def rotate_installation_id(db: Database) -> str:
    """Give the installation a new id (after restoring a backup): its cache entries, rate
    limits and one-time codes start empty once the servers restart."""
    fresh = new_installation_id()
    async with db.transaction() as uow:
        row = await uow.session.get(InstallationRow, 1)
        if row is None:
            uow.session.add(InstallationRow(singleton=1, installation_id=fresh))
        else:
            row.installation_id = fresh
    return fresh
