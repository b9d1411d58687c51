"""Use cases of the realtime block, by concern: WebSocket tickets (`tickets`), channel rules
(`channels`), chat rooms and messages (`chat`), and the event consumers that turn outbox
events into channel messages (`consumers`). Other blocks import this package only.
"""

from __future__ import annotations

from tessera.blocks.realtime.service.channels import (
    STAFF_ORDERS,
    Rules,
    authorize_channel,
    order_channel,
    product_channel,
    user_channel,
)
from tessera.blocks.realtime.service.chat import (
    CHAT_MANAGE,
    add_members,
    can_read_room,
    chat_channel,
    create_room,
    get_room,
    list_messages,
    list_rooms,
    mark_read,
    post_message,
    remove_member,
    room_presence,
)
from tessera.blocks.realtime.service.consumers import subscribe_handlers
from tessera.blocks.realtime.service.tickets import create_ticket, redeem_ticket

__all__ = [
    "CHAT_MANAGE",
    "STAFF_ORDERS",
    "Rules",
    "add_members",
    "authorize_channel",
    "can_read_room",
    "chat_channel",
    "create_room",
    "create_ticket",
    "get_room",
    "list_messages",
    "list_rooms",
    "mark_read",
    "order_channel",
    "post_message",
    "product_channel",
    "redeem_ticket",
    "remove_member",
    "room_presence",
    "subscribe_handlers",
    "user_channel",
]
