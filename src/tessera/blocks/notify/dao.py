"""Queries of the notify block (SQLAlchemy 2). Functions flush, never commit."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.notify.model.do import NotificationDO, NotificationSettingsDO


async def add_notification(session: AsyncSession, row: NotificationDO) -> NotificationDO:
    session.add(row)
    await session.flush()
    return row


async def get_notification(session: AsyncSession, notification_id: int) -> NotificationDO | None:
    return await session.get(NotificationDO, notification_id)


async def source_event_handled(session: AsyncSession, source_event_id: str) -> bool:
    found = await session.scalar(
        select(NotificationDO.id).where(NotificationDO.source_event_id == source_event_id).limit(1)
    )
    return found is not None


async def search_notifications(
    session: AsyncSession,
    *,
    channel: str | None,
    status: str | None,
    user_id: int | None,
    template: str | None,
    offset: int,
    limit: int,
) -> tuple[list[NotificationDO], int]:
    query = select(NotificationDO)
    if channel:
        query = query.where(NotificationDO.channel == channel)
    if status:
        query = query.where(NotificationDO.status == status)
    if user_id is not None:
        query = query.where(NotificationDO.user_id == user_id)
    if template:
        query = query.where(NotificationDO.template == template)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(NotificationDO.id.desc()).offset(offset).limit(limit)
    )
    return list(rows.scalars()), int(total or 0)


async def get_settings(session: AsyncSession, user_id: int) -> NotificationSettingsDO | None:
    return await session.get(NotificationSettingsDO, user_id)


async def save_settings(session: AsyncSession, row: NotificationSettingsDO) -> None:
    await session.merge(row)
    await session.flush()
