"""Queries of the realtime block (SQLAlchemy 2). Functions flush, never commit."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.realtime.model.do import ChatMemberDO, ChatMessageDO, ChatRoomDO


async def get_room(session: AsyncSession, room_id: int) -> ChatRoomDO | None:
    return await session.get(ChatRoomDO, room_id)


async def lock_room(session: AsyncSession, room_id: int) -> None:
    """Take the room's row lock (MySQL/MariaDB; SQLite serializes writers anyway)."""
    await session.execute(select(ChatRoomDO.id).where(ChatRoomDO.id == room_id).with_for_update())


async def get_room_by_order(session: AsyncSession, order_id: int) -> ChatRoomDO | None:
    result = await session.scalar(select(ChatRoomDO).where(ChatRoomDO.order_id == order_id))
    return result


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


async def get_member(session: AsyncSession, room_id: int, user_id: int) -> ChatMemberDO | None:
    return await session.get(ChatMemberDO, (room_id, user_id))


async def member_ids(session: AsyncSession, room_ids: list[int]) -> dict[int, list[int]]:
    if not room_ids:
        return {}
    rows = await session.execute(
        select(ChatMemberDO.room_id, ChatMemberDO.user_id)
        .where(ChatMemberDO.room_id.in_(room_ids))
        .order_by(ChatMemberDO.room_id, ChatMemberDO.user_id)
    )
    found: dict[int, list[int]] = {room_id: [] for room_id in room_ids}
    for room_id, user_id in rows:
        found[room_id].append(user_id)
    return found


async def count_members(session: AsyncSession, room_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(ChatMemberDO).where(ChatMemberDO.room_id == room_id)
    )
    return int(count or 0)


async def remove_member(session: AsyncSession, room_id: int, user_id: int) -> bool:
    member = await get_member(session, room_id, user_id)
    if member is None:
        return False
    await session.delete(member)
    await session.flush()
    return True


async def rooms_of(
    session: AsyncSession, user_id: int, *, offset: int, limit: int
) -> tuple[list[tuple[ChatRoomDO, int]], int]:
    """Rooms the user is a member of, most recently active first, with their read marker."""
    joined = and_(ChatMemberDO.room_id == ChatRoomDO.id, ChatMemberDO.user_id == user_id)
    total = await session.scalar(
        select(func.count()).select_from(ChatRoomDO).join(ChatMemberDO, joined)
    )
    rows = await session.execute(
        select(ChatRoomDO, ChatMemberDO.last_read_message_id)
        .join(ChatMemberDO, joined)
        .order_by(ChatRoomDO.updated_at.desc(), ChatRoomDO.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [(room, int(last_read)) for room, last_read in rows], int(total or 0)


async def unread_counts(
    session: AsyncSession, user_id: int, markers: dict[int, int]
) -> dict[int, int]:
    """Messages from others after each room's read marker: one query for all rooms."""
    if not markers:
        return {}
    counts = {room_id: 0 for room_id in markers}
    conditions = [
        and_(ChatMessageDO.room_id == room_id, ChatMessageDO.id > last_read)
        for room_id, last_read in markers.items()
    ]
    rows = await session.execute(
        select(ChatMessageDO.room_id, func.count())
        .where(ChatMessageDO.sender_id != user_id)
        .where(or_(*conditions))
        .group_by(ChatMessageDO.room_id)
    )
    for room_id, count in rows:
        counts[room_id] = int(count)
    return counts


async def get_messages(session: AsyncSession, message_ids: list[int]) -> dict[int, ChatMessageDO]:
    if not message_ids:
        return {}
    rows = await session.scalars(select(ChatMessageDO).where(ChatMessageDO.id.in_(message_ids)))
    return {row.id: row for row in rows}


async def message_by_client_ref(
    session: AsyncSession, room_id: int, sender_id: int, client_ref: str
) -> ChatMessageDO | None:
    result = await session.scalar(
        select(ChatMessageDO).where(
            ChatMessageDO.room_id == room_id,
            ChatMessageDO.sender_id == sender_id,
            ChatMessageDO.client_ref == client_ref,
        )
    )
    return result


async def messages_before(
    session: AsyncSession, room_id: int, *, before: int | None, limit: int
) -> list[ChatMessageDO]:
    """Keyset page: the `limit` newest messages older than `before` (newest first)."""
    query = select(ChatMessageDO).where(ChatMessageDO.room_id == room_id)
    if before is not None:
        query = query.where(ChatMessageDO.id < before)
    rows = await session.scalars(query.order_by(ChatMessageDO.id.desc()).limit(limit))
    return list(rows)


async def mark_read(session: AsyncSession, room_id: int, user_id: int, message_id: int) -> None:
    """Move the read marker forward only (a late request never moves it back)."""
    await session.execute(
        update(ChatMemberDO)
        .where(
            ChatMemberDO.room_id == room_id,
            ChatMemberDO.user_id == user_id,
            ChatMemberDO.last_read_message_id < message_id,
        )
        .values(last_read_message_id=message_id)
    )
