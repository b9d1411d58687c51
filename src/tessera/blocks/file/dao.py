"""Queries of the file block (SQLAlchemy 2). Functions flush, never commit: the service owns
the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.file.model.do import StorageIntentDO, StoredFileDO


async def add_file(session: AsyncSession, row: StoredFileDO) -> None:
    session.add(row)
    await session.flush()


async def get_file(session: AsyncSession, file_id: str) -> StoredFileDO | None:
    return await session.get(StoredFileDO, file_id)


async def delete_file(session: AsyncSession, row: StoredFileDO) -> None:
    await session.delete(row)
    await session.flush()


async def list_files(
    session: AsyncSession,
    *,
    owner_id: int | None,
    purpose: str | None,
    order_id: int | None = None,
    offset: int,
    limit: int,
) -> tuple[list[StoredFileDO], int]:
    query = select(StoredFileDO)
    if owner_id is not None:
        query = query.where(StoredFileDO.owner_id == owner_id)
    if purpose is not None:
        query = query.where(StoredFileDO.purpose == purpose)
    if order_id is not None:
        query = query.where(StoredFileDO.order_id == order_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(StoredFileDO.created_at.desc(), StoredFileDO.id).offset(offset).limit(limit)
    )
    return list(rows.scalars()), int(total or 0)


async def avatar_files(session: AsyncSession, owner_id: int) -> list[StoredFileDO]:
    rows = await session.execute(
        select(StoredFileDO).where(
            StoredFileDO.owner_id == owner_id, StoredFileDO.purpose == "avatar"
        )
    )
    return list(rows.scalars())


async def has_file_with_key(session: AsyncSession, backend: str, key: str) -> bool:
    found = await session.scalar(
        select(StoredFileDO.id)
        .where(StoredFileDO.storage_backend == backend, StoredFileDO.storage_key == key)
        .limit(1)
    )
    return found is not None


async def existing_keys(session: AsyncSession, backend: str, keys: Sequence[str]) -> set[str]:
    """Which of `keys` belong to a file row (or a pending upload) of `backend`."""
    if not keys:
        return set()
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        batch = list(keys[start : start + 500])
        rows = await session.execute(
            select(StoredFileDO.storage_key).where(
                StoredFileDO.storage_backend == backend, StoredFileDO.storage_key.in_(batch)
            )
        )
        found.update(rows.scalars())
        intents = await session.execute(
            select(StorageIntentDO.storage_key).where(
                StorageIntentDO.storage_backend == backend, StorageIntentDO.storage_key.in_(batch)
            )
        )
        found.update(key for key in intents.scalars() if key is not None)
    return found


async def add_intent(session: AsyncSession, intent: StorageIntentDO) -> None:
    session.add(intent)
    await session.flush()


async def delete_intent(session: AsyncSession, intent_id: str) -> None:
    await session.execute(delete(StorageIntentDO).where(StorageIntentDO.id == intent_id))


async def delete_intents_for_key(session: AsyncSession, backend: str, key: str) -> None:
    await session.execute(
        delete(StorageIntentDO).where(
            StorageIntentDO.storage_backend == backend, StorageIntentDO.storage_key == key
        )
    )


async def stale_intents(session: AsyncSession, before: datetime) -> list[StorageIntentDO]:
    rows = await session.execute(
        select(StorageIntentDO)
        .where(StorageIntentDO.created_at < before)
        .order_by(StorageIntentDO.created_at)
    )
    return list(rows.scalars())
