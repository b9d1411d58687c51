"""Who may read which channel, and what publishing on a socket does: the block's
`RealtimeRules` for the gateway.

| channel | readers |
| --- | --- |
| `user:<id>` | that user |
| `order:<id>` | the order's owner, or `order:read:any` |
| `staff:orders` | `order:read:any` (every new or changed order) |
| `product:<id>` | any signed-in user (an existing product) |
| `chat:<room>` | the room's members (staff on support rooms); presence is tracked |

A refusal is an error frame with code `realtime.channel_forbidden`, whether the resource is
someone else's or does not exist (as REST answers 404 to both).
"""

from __future__ import annotations

from typing import Any

from tessera.blocks.order import service as order_service
from tessera.blocks.realtime.service import chat, tickets
from tessera.lib.errors import DomainError, Forbidden, ValidationFailed
from tessera.lib.realtime import ChannelGrant
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal, principal_from_token

ORDER_READ_ANY = "order:read:any"
STAFF_ORDERS = "staff:orders"


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


def order_channel(order_id: int) -> str:
    return f"order:{order_id}"


def product_channel(product_id: int) -> str:
    return f"product:{product_id}"


def _forbidden(channel: str) -> Forbidden:
    return Forbidden(f"You may not read {channel}.", code="realtime.channel_forbidden")


def _numeric_id(name: str, channel: str) -> int:
    if not name.isdigit() or len(name) > 18 or name.startswith("0"):
        raise _forbidden(channel)
    return int(name)


async def authorize_channel(
    *, runtime: Runtime, principal: Principal, channel: str
) -> ChannelGrant:
    kind, _, name = channel.partition(":")
    if kind == "user":
        if _numeric_id(name, channel) != principal.id:
            raise _forbidden(channel)
        return ChannelGrant()
    if kind == "order":
        try:
            await order_service.get_order_for_viewer(
                runtime=runtime, principal=principal, order_id=_numeric_id(name, channel)
            )
        except DomainError as exc:
            raise _forbidden(channel) from exc
        return ChannelGrant()
    if channel == STAFF_ORDERS:
        if not principal.has(ORDER_READ_ANY):
            raise _forbidden(channel)
        return ChannelGrant()
    if kind == "product":
        try:
            await order_service.get_product(runtime=runtime, product_id=_numeric_id(name, channel))
        except DomainError as exc:
            raise _forbidden(channel) from exc
        return ChannelGrant()
    if kind == "chat":
        room_id = _numeric_id(name, channel)
        if not await chat.can_read_room(runtime=runtime, principal=principal, room_id=room_id):
            raise _forbidden(channel)
        return ChannelGrant(presence=True)
    raise Forbidden(
        f"Unknown channel {channel}: use user:, order:, staff:orders, product: or chat:.",
        code="realtime.unknown_channel",
    )


class Rules:
    """The gateway's view of this block (see `tessera.lib.realtime.RealtimeRules`)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def authenticate(self, token: str) -> Principal:
        return await principal_from_token(self.runtime, token)

    async def redeem_ticket(self, ticket: str) -> Principal:
        return await tickets.redeem_ticket(runtime=self.runtime, ticket=ticket)

    async def authorize(self, principal: Principal, channel: str) -> ChannelGrant:
        return await authorize_channel(runtime=self.runtime, principal=principal, channel=channel)

    async def publish(
        self, principal: Principal, channel: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        kind, _, name = channel.partition(":")
        if kind != "chat":
            raise Forbidden(
                "Only chat:<room> channels take messages from clients.",
                code="realtime.publish_forbidden",
            )
        client_ref = data.get("client_ref")
        if client_ref is not None and not isinstance(client_ref, str):
            raise ValidationFailed("client_ref must be a string.", code="chat.bad_client_ref")
        try:
            room_id = _numeric_id(name, channel)
        except Forbidden as exc:
            raise chat.room_not_found() from exc
        message = await chat.post_message(
            runtime=self.runtime,
            principal=principal,
            room_id=room_id,
            text=data.get("text"),
            client_ref=client_ref,
        )
        return {"message_id": message.id}
