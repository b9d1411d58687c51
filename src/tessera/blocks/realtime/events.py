"""Events the realtime block publishes (through the outbox, after commit).

Consumers: this block itself turns them into channel messages (`chat:<room>`, and the
member's own `user:<id>` when they lose access). Payloads follow the outbox rule: add fields
with defaults, never rename or remove one.
"""

from __future__ import annotations

from datetime import datetime

from tessera.lib.tasks import EventPayload, Topic


class ChatMessagePosted(EventPayload):
    message_id: int
    room_id: int
    sender_id: int
    sender_username: str | None = None
    text: str
    created_at: datetime | None = None


class ChatRoomCreated(EventPayload):
    room_id: int
    kind: str  # support | group
    order_id: int | None = None
    name: str | None = None
    member_ids: list[int] = []


class ChatMembershipChanged(EventPayload):
    room_id: int
    user_id: int
    change: str  # added | removed


CHAT_MESSAGE_POSTED = Topic(
    "chat.message_posted", ChatMessagePosted, description="A chat message was stored"
)
CHAT_ROOM_CREATED = Topic(
    "chat.room_created", ChatRoomCreated, description="A support or group chat room was created"
)
CHAT_MEMBERSHIP_CHANGED = Topic(
    "chat.membership_changed",
    ChatMembershipChanged,
    description="Someone was added to or removed from a group chat room",
)
