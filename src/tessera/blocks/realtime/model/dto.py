"""Request and response schemas of the realtime block: WebSocket tickets and chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tessera.lib.types import Id

RoomKind = Literal["support", "group"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketOut(BaseModel):
    ticket: str = Field(description="Open `/ws?ticket=<ticket>` within `expires_in` seconds")
    expires_in: int


def _one_kind_schema(schema: dict[str, Any]) -> None:
    """The document says what `_one_kind` checks (a null counts as left out)."""
    given, absent = {"not": {"type": "null"}}, {"type": "null"}
    schema["oneOf"] = [
        {
            "required": ["order_id"],
            "properties": {"order_id": given, "name": absent, "member_ids": {"maxItems": 0}},
        },
        {"required": ["name"], "properties": {"name": given, "order_id": absent}},
    ]


class RoomCreateIn(_In):
    """Either `order_id` (the order's support room, created on first use) or `name` and
    `member_ids` (a group room; permission `chat:manage`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_kind_schema)

    order_id: Id | None = None
    name: str | None = Field(default=None, min_length=1, max_length=100)
    member_ids: list[Id] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _one_kind(self) -> RoomCreateIn:
        if (self.order_id is None) == (self.name is None):
            raise ValueError("give either order_id (support room) or name (group room)")
        if self.order_id is not None and self.member_ids:
            raise ValueError("a support room's members are the order's owner and staff")
        return self


class MessageOut(BaseModel):
    id: int
    room_id: int
    sender_id: int
    sender_username: str
    text: str
    created_at: datetime


class RoomOut(BaseModel):
    id: int
    kind: RoomKind
    name: str | None
    order_id: int | None
    member_ids: list[int]
    unread_count: int
    last_read_message_id: int
    last_message: MessageOut | None
    created_at: datetime


class MessageIn(_In):
    text: str = Field(min_length=1, max_length=20000)
    client_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Your id for this send: a retry with the same value stores one message",
    )


class MessagePage(BaseModel):
    items: list[MessageOut] = Field(description="Newest first")
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null at the beginning"
    )


class ReadIn(_In):
    message_id: Id = Field(description="The newest message the user has seen")


class ReadOut(BaseModel):
    last_read_message_id: int
    unread_count: int


class MembersIn(_In):
    user_ids: list[Id] = Field(min_length=1, max_length=500)


class PresenceOut(BaseModel):
    user_ids: list[int] = Field(description="Users with the room open right now, on any instance")
