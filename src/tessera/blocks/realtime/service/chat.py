"""Chat use cases: support rooms (one per order: its customer and staff), group rooms that
staff create with members, messages stored before they are published, read markers and
unread counts, presence.

Access is checked on every path the same way (`_open_room`): a member, or staff
(`order:read:any`) on a support room; anyone else gets 404, exactly as for a room that does
not exist. Staff join a support room (a member row, holding their read marker) the first time
they write or mark it read.
"""

from __future__ import annotations

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.order import service as order_service
from tessera.blocks.realtime import dao
from tessera.blocks.realtime.events import (
    CHAT_MEMBERSHIP_CHANGED,
    CHAT_MESSAGE_POSTED,
    CHAT_ROOM_CREATED,
    ChatMembershipChanged,
    ChatMessagePosted,
    ChatRoomCreated,
)
from tessera.blocks.realtime.model.do import (
    GROUP,
    SUPPORT,
    ChatMemberDO,
    ChatMessageDO,
    ChatRoomDO,
)
from tessera.blocks.realtime.model.dto import (
    MessageOut,
    MessagePage,
    PresenceOut,
    ReadOut,
    RoomCreateIn,
    RoomOut,
)
from tessera.blocks.user import service as user_service
from tessera.lib.db import UnitOfWork, utcnow
from tessera.lib.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tessera.lib.pagination import Page, PageParams
from tessera.lib.ratelimit import Limit
from tessera.lib.realtime import Presence
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.tasks import publish

log = structlog.get_logger("tessera.realtime")

CHAT_MANAGE = "chat:manage"
ORDER_READ_ANY = "order:read:any"
MAX_PAGE = 100


def chat_channel(room_id: int) -> str:
    return f"chat:{room_id}"


def room_not_found() -> NotFound:
    return NotFound("No such chat room.", code="chat.room_not_found")


async def _open_room(
    session: AsyncSession, principal: Principal, room_id: int, *, join: bool
) -> tuple[ChatRoomDO, ChatMemberDO | None]:
    """The room and the caller's membership, if the caller may use it; 404 otherwise."""
    room = await dao.get_room(session, room_id)
    if room is None:
        raise room_not_found()
    member = await dao.get_member(session, room.id, principal.id)
    if member is not None:
        return room, member
    if room.kind == SUPPORT and principal.has(ORDER_READ_ANY):
        if join:
            member = ChatMemberDO(room_id=room.id, user_id=principal.id, last_read_message_id=0)
            await dao.add(session, member)
        return room, member
    raise room_not_found()


async def can_read_room(*, runtime: Runtime, principal: Principal, room_id: int) -> bool:
    async with runtime.db.read() as session:
        try:
            await _open_room(session, principal, room_id, join=False)
        except NotFound:
            return False
    return True


def _message_out(row: ChatMessageDO) -> MessageOut:
    return MessageOut(
        id=row.id,
        room_id=row.room_id,
        sender_id=row.sender_id,
        sender_username=row.sender_username,
        text=row.text,
        created_at=row.created_at,
    )


async def _rooms_out(
    session: AsyncSession, principal: Principal, rooms: list[tuple[ChatRoomDO, int]]
) -> list[RoomOut]:
    ids = [room.id for room, _ in rooms]
    members = await dao.member_ids(session, ids)
    unread = await dao.unread_counts(session, principal.id, {room.id: mark for room, mark in rooms})
    last = await dao.get_messages(session, [room.last_message_id for room, _ in rooms])
    out = []
    for room, mark in rooms:
        last_message = last.get(room.last_message_id)
        out.append(
            RoomOut(
                id=room.id,
                kind="support" if room.kind == SUPPORT else "group",
                name=room.name,
                order_id=room.order_id,
                member_ids=members.get(room.id, []),
                unread_count=unread.get(room.id, 0),
                last_read_message_id=mark,
                last_message=_message_out(last_message) if last_message else None,
                created_at=room.created_at,
            )
        )
    return out


async def _room_out(session: AsyncSession, principal: Principal, room: ChatRoomDO) -> RoomOut:
    member = await dao.get_member(session, room.id, principal.id)
    mark = member.last_read_message_id if member is not None else 0
    return (await _rooms_out(session, principal, [(room, mark)]))[0]


# --- rooms ----------------------------------------------------------------------------------


async def create_room(
    *, runtime: Runtime, principal: Principal, data: RoomCreateIn
) -> tuple[RoomOut, bool]:
    """A group room, or the order's support room (found or created). Returns (room, created)."""
    if data.order_id is not None:
        return await _support_room(runtime, principal, data.order_id)
    return await _group_room(runtime, principal, data), True


async def _support_room(
    runtime: Runtime, principal: Principal, order_id: int
) -> tuple[RoomOut, bool]:
    # 404 unless the caller may see the order (its owner, or staff).
    order = await order_service.get_order_for_viewer(
        runtime=runtime, principal=principal, order_id=order_id
    )
    for _ in range(2):
        try:
            async with runtime.db.transaction() as uow:
                room = await dao.get_room_by_order(uow.session, order_id)
                created = room is None
                if room is None:
                    now = utcnow()
                    room = ChatRoomDO(
                        kind=SUPPORT,
                        order_id=order_id,
                        owner_id=order.user_id,
                        created_by=principal.id,
                        created_at=now,
                        updated_at=now,
                    )
                    await dao.add(uow.session, room)
                    for user_id in sorted({order.user_id, principal.id}):
                        await dao.add(uow.session, ChatMemberDO(room_id=room.id, user_id=user_id))
                    await publish(
                        uow,
                        runtime.events,
                        CHAT_ROOM_CREATED,
                        ChatRoomCreated(
                            room_id=room.id,
                            kind=SUPPORT,
                            order_id=order_id,
                            member_ids=sorted({order.user_id, principal.id}),
                        ),
                        aggregate_id=room.id,
                    )
                else:
                    await _open_room(uow.session, principal, room.id, join=True)
                return await _room_out(uow.session, principal, room), created
        except IntegrityError:
            continue  # a concurrent request created it: read it on the second pass
    raise Conflict("The support room is being created; try again.", code="chat.busy")


async def _group_room(runtime: Runtime, principal: Principal, data: RoomCreateIn) -> RoomOut:
    if not principal.has(CHAT_MANAGE):
        raise Forbidden(f"Missing permission {CHAT_MANAGE}.", code="auth.permission_denied")
    member_ids = sorted({principal.id, *data.member_ids})
    limit = runtime.settings.realtime.chat_room_max_members
    if len(member_ids) > limit:
        raise ValidationFailed(
            f"A room has at most {limit} members.",
            code="chat.too_many_members",
            errors=[{"loc": ["body", "member_ids"], "msg": "too many members", "type": "too_long"}],
        )
    await _require_users(runtime, data.member_ids, field="member_ids")
    async with runtime.db.transaction() as uow:
        now = utcnow()
        room = ChatRoomDO(
            kind=GROUP, name=data.name, created_by=principal.id, created_at=now, updated_at=now
        )
        await dao.add(uow.session, room)
        for user_id in member_ids:
            await dao.add(uow.session, ChatMemberDO(room_id=room.id, user_id=user_id))
        await publish(
            uow,
            runtime.events,
            CHAT_ROOM_CREATED,
            ChatRoomCreated(room_id=room.id, kind=GROUP, name=data.name, member_ids=member_ids),
            aggregate_id=room.id,
        )
        return await _room_out(uow.session, principal, room)


async def _require_users(runtime: Runtime, user_ids: list[int], *, field: str) -> None:
    missing = []
    for user_id in sorted(set(user_ids)):
        try:
            await user_service.get_user(runtime=runtime, user_id=user_id)
        except NotFound:
            missing.append(user_id)
    if missing:
        raise ValidationFailed(
            f"Unknown users: {', '.join(map(str, missing))}.",
            code="chat.unknown_user",
            errors=[
                {"loc": ["body", field], "msg": f"unknown user {user_id}", "type": "unknown_user"}
                for user_id in missing
            ],
        )


async def list_rooms(
    *, runtime: Runtime, principal: Principal, paging: PageParams
) -> Page[RoomOut]:
    """The caller's rooms, most recently active first, with unread counts."""
    async with runtime.db.read() as session:
        rows, total = await dao.rooms_of(
            session, principal.id, offset=paging.offset, limit=paging.size
        )
        items = await _rooms_out(session, principal, rows)
    return Page[RoomOut].of(items, total, paging)


async def get_room(*, runtime: Runtime, principal: Principal, room_id: int) -> RoomOut:
    async with runtime.db.read() as session:
        room, _ = await _open_room(session, principal, room_id, join=False)
        return await _room_out(session, principal, room)


async def _group_for_manager(uow: UnitOfWork, principal: Principal, room_id: int) -> ChatRoomDO:
    room, _ = await _open_room(uow.session, principal, room_id, join=False)
    if not principal.has(CHAT_MANAGE):
        raise Forbidden(f"Missing permission {CHAT_MANAGE}.", code="auth.permission_denied")
    if room.kind != GROUP:
        raise Conflict(
            "A support room's members are its customer and staff.", code="chat.not_a_group"
        )
    return room


async def add_members(
    *, runtime: Runtime, principal: Principal, room_id: int, user_ids: list[int]
) -> RoomOut:
    await _require_users(runtime, user_ids, field="user_ids")
    async with runtime.db.transaction() as uow:
        room = await _group_for_manager(uow, principal, room_id)
        present = set((await dao.member_ids(uow.session, [room.id]))[room.id])
        added = sorted(set(user_ids) - present)
        limit = runtime.settings.realtime.chat_room_max_members
        if len(present) + len(added) > limit:
            raise ValidationFailed(
                f"A room has at most {limit} members.", code="chat.too_many_members"
            )
        for user_id in added:
            await dao.add(uow.session, ChatMemberDO(room_id=room.id, user_id=user_id))
            await publish(
                uow,
                runtime.events,
                CHAT_MEMBERSHIP_CHANGED,
                ChatMembershipChanged(room_id=room.id, user_id=user_id, change="added"),
                aggregate_id=room.id,
            )
        return await _room_out(uow.session, principal, room)


async def remove_member(
    *, runtime: Runtime, principal: Principal, room_id: int, user_id: int
) -> None:
    """Remove a member; their open sockets stop receiving the room at once."""
    async with runtime.db.transaction() as uow:
        room = await _group_for_manager(uow, principal, room_id)
        if not await dao.remove_member(uow.session, room.id, user_id):
            raise NotFound("That user is not a member of this room.", code="chat.not_a_member")
        await publish(
            uow,
            runtime.events,
            CHAT_MEMBERSHIP_CHANGED,
            ChatMembershipChanged(room_id=room.id, user_id=user_id, change="removed"),
            aggregate_id=room.id,
        )


# --- messages -------------------------------------------------------------------------------


def _clean_text(runtime: Runtime, text: object) -> str:
    limit = runtime.settings.realtime.chat_message_max_chars
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed(
            "A message needs some text.",
            code="chat.empty_message",
            errors=[{"loc": ["body", "text"], "msg": "empty message", "type": "empty"}],
        )
    if len(text) > limit:
        raise ValidationFailed(
            f"A message has at most {limit} characters.",
            code="chat.message_too_long",
            errors=[{"loc": ["body", "text"], "msg": f"over {limit} chars", "type": "too_long"}],
        )
    return text


async def post_message(
    *,
    runtime: Runtime,
    principal: Principal,
    room_id: int,
    text: object,
    client_ref: str | None = None,
) -> MessageOut:
    """Store a message and publish it to the room (after commit, through the outbox).

    A retry with the same `client_ref` returns the first message instead of a second one."""
    clean = _clean_text(runtime, text)
    if client_ref is not None and (
        not isinstance(client_ref, str) or not 0 < len(client_ref) <= 64
    ):
        raise ValidationFailed("client_ref is 1-64 characters.", code="chat.bad_client_ref")
    settings = runtime.settings.realtime
    # Membership first: a stranger's probe must not spend (or reveal) anyone's budget.
    if not await can_read_room(runtime=runtime, principal=principal, room_id=room_id):
        raise room_not_found()
    await runtime.ratelimiter.hit(
        "chat_send",
        str(principal.id),
        Limit(settings.chat_messages_per_minute, 60),
        code="chat.rate_limited",
    )
    try:
        async with runtime.db.transaction() as uow:
            # The room row is locked first: concurrent posts to one room queue here instead
            # of deadlocking (each message's foreign key takes a shared lock on the room,
            # and updating its last message needs an exclusive one).
            await dao.lock_room(uow.session, room_id)
            room, _ = await _open_room(uow.session, principal, room_id, join=True)
            if client_ref is not None:
                existing = await dao.message_by_client_ref(
                    uow.session, room.id, principal.id, client_ref
                )
                if existing is not None:
                    return _message_out(existing)
            now = utcnow()
            message = ChatMessageDO(
                room_id=room.id,
                sender_id=principal.id,
                sender_username=principal.username,
                text=clean,
                client_ref=client_ref,
                created_at=now,
            )
            await dao.add(uow.session, message)
            room.last_message_id = message.id
            room.updated_at = now
            await dao.mark_read(uow.session, room.id, principal.id, message.id)
            await publish(
                uow,
                runtime.events,
                CHAT_MESSAGE_POSTED,
                ChatMessagePosted(
                    message_id=message.id,
                    room_id=room.id,
                    sender_id=principal.id,
                    sender_username=principal.username,
                    text=clean,
                    created_at=now,
                ),
                aggregate_id=room.id,
            )
            return _message_out(message)
    except IntegrityError:
        if client_ref is None:
            raise
        async with runtime.db.read() as session:
            existing = await dao.message_by_client_ref(session, room_id, principal.id, client_ref)
        if existing is None:
            raise
        return _message_out(existing)


async def list_messages(
    *, runtime: Runtime, principal: Principal, room_id: int, before: int | None, limit: int
) -> MessagePage:
    """Newest first; pass `next_before` back as `before` for older messages (keyset)."""
    limit = max(1, min(limit, MAX_PAGE))
    async with runtime.db.read() as session:
        room, _ = await _open_room(session, principal, room_id, join=False)
        rows = await dao.messages_before(session, room.id, before=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return MessagePage(
        items=[_message_out(row) for row in rows],
        next_before=rows[-1].id if more and rows else None,
    )


async def mark_read(
    *, runtime: Runtime, principal: Principal, room_id: int, message_id: int
) -> ReadOut:
    async with runtime.db.transaction() as uow:
        room, _ = await _open_room(uow.session, principal, room_id, join=True)
        await dao.mark_read(
            uow.session, room.id, principal.id, min(message_id, room.last_message_id)
        )
        member = await dao.get_member(uow.session, room.id, principal.id)
        assert member is not None
        await uow.session.refresh(member)
        mark = member.last_read_message_id
        unread = await dao.unread_counts(uow.session, principal.id, {room.id: mark})
    return ReadOut(last_read_message_id=mark, unread_count=unread.get(room_id, 0))


async def room_presence(*, runtime: Runtime, principal: Principal, room_id: int) -> PresenceOut:
    """Users with a socket subscribed to the room now, on any instance."""
    if not await can_read_room(runtime=runtime, principal=principal, room_id=room_id):
        raise room_not_found()
    settings = runtime.settings
    presence = Presence(
        runtime.redis,
        prefix=settings.cache.key_prefix,
        ttl_seconds=settings.realtime.presence_ttl_seconds,
    )
    return PresenceOut(user_ids=await presence.users(chat_channel(room_id)))
