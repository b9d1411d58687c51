"""HTTP endpoints of the realtime block: `/ws` (the WebSocket, served by the gateway in
`tessera.lib.realtime`), `POST /api/v1/realtime/tickets`, and chat under `/api/v1/chat`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse
from starlette.routing import WebSocketRoute

from tessera.blocks.realtime import service
from tessera.blocks.realtime.model.dto import (
    MembersIn,
    MessageIn,
    MessageOut,
    MessagePage,
    PresenceOut,
    ReadIn,
    ReadOut,
    RoomCreateIn,
    RoomOut,
    TicketOut,
)
from tessera.lib.errors import problem_responses
from tessera.lib.pagination import Page, Paging
from tessera.lib.realtime.gateway import WebSocketApp
from tessera.lib.runtime import RuntimeDep
from tessera.lib.security import CurrentUser
from tessera.lib.types import MAX_ID, PathId

router = APIRouter(prefix="/api/v1")
# A raw ASGI route: see tessera.lib.realtime.gateway for the protocol.
socket_route = WebSocketRoute("/ws", WebSocketApp(), name="realtime_socket")


@router.post(
    "/realtime/tickets",
    tags=["realtime"],
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401),
)
async def create_ticket(runtime: RuntimeDep, principal: CurrentUser) -> TicketOut:
    """A one-use ticket to open `/ws?ticket=...` within 30 seconds, signed in as the caller
    (browsers cannot set headers on a WebSocket; never put the access token in a URL)."""
    return await service.create_ticket(runtime=runtime, principal=principal)


@router.post(
    "/chat/rooms",
    tags=["chat"],
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": RoomOut, "description": "The order's support room already existed"},
        **problem_responses(401, 403, 404, 422),
    },
)
async def create_room(body: RoomCreateIn, runtime: RuntimeDep, principal: CurrentUser) -> Response:
    """`{"order_id"}`: the order's support room (its customer and staff; created on first
    use, 200 when it exists). `{"name", "member_ids"}`: a group room (`chat:manage`)."""
    room, created = await service.create_room(runtime=runtime, principal=principal, data=body)
    return JSONResponse(room.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/chat/rooms", tags=["chat"], responses=problem_responses(401, 422))
async def list_rooms(runtime: RuntimeDep, principal: CurrentUser, paging: Paging) -> Page[RoomOut]:
    """The caller's rooms, most recently active first, with unread counts."""
    return await service.list_rooms(runtime=runtime, principal=principal, paging=paging)


@router.get("/chat/rooms/{room_id}", tags=["chat"], responses=problem_responses(401, 404))
async def get_room(room_id: PathId, runtime: RuntimeDep, principal: CurrentUser) -> RoomOut:
    return await service.get_room(runtime=runtime, principal=principal, room_id=room_id)


@router.get(
    "/chat/rooms/{room_id}/messages", tags=["chat"], responses=problem_responses(401, 404, 422)
)
async def list_messages(
    room_id: PathId,
    runtime: RuntimeDep,
    principal: CurrentUser,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Messages older than this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> MessagePage:
    """Newest first, keyset-paged: pass `next_before` as `before` for the older page."""
    return await service.list_messages(
        runtime=runtime, principal=principal, room_id=room_id, before=before, limit=limit
    )


@router.post(
    "/chat/rooms/{room_id}/messages",
    tags=["chat"],
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 404, 422, 429),
)
async def post_message(
    room_id: PathId, body: MessageIn, runtime: RuntimeDep, principal: CurrentUser
) -> MessageOut:
    """Store a message; members' sockets get it on `chat:<room_id>`. Also possible over the
    socket: `{"type":"publish","channel":"chat:<id>","data":{"text":...}}`."""
    return await service.post_message(
        runtime=runtime,
        principal=principal,
        room_id=room_id,
        text=body.text,
        client_ref=body.client_ref,
    )


@router.post(
    "/chat/rooms/{room_id}/read", tags=["chat"], responses=problem_responses(401, 404, 422)
)
async def mark_read(
    room_id: PathId, body: ReadIn, runtime: RuntimeDep, principal: CurrentUser
) -> ReadOut:
    """Move the caller's read marker forward (never back); returns the unread count."""
    return await service.mark_read(
        runtime=runtime, principal=principal, room_id=room_id, message_id=body.message_id
    )


@router.get("/chat/rooms/{room_id}/presence", tags=["chat"], responses=problem_responses(401, 404))
async def room_presence(
    room_id: PathId, runtime: RuntimeDep, principal: CurrentUser
) -> PresenceOut:
    """Who has the room open now, across instances (an instance's users drop out within
    `realtime.presence_ttl_seconds` if it dies)."""
    return await service.room_presence(runtime=runtime, principal=principal, room_id=room_id)


@router.post(
    "/chat/rooms/{room_id}/members",
    tags=["chat"],
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def add_members(
    room_id: PathId, body: MembersIn, runtime: RuntimeDep, principal: CurrentUser
) -> RoomOut:
    """Add members to a group room (`chat:manage`)."""
    return await service.add_members(
        runtime=runtime, principal=principal, room_id=room_id, user_ids=body.user_ids
    )


@router.delete(
    "/chat/rooms/{room_id}/members/{user_id}",
    tags=["chat"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409),
)
async def remove_member(
    room_id: PathId, user_id: PathId, runtime: RuntimeDep, principal: CurrentUser
) -> Response:
    """Remove a member from a group room (`chat:manage`); their sockets leave it at once."""
    await service.remove_member(
        runtime=runtime, principal=principal, room_id=room_id, user_id=user_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


router.routes.append(socket_route)
