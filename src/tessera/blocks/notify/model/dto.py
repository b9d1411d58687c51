"""Request and response schemas of the notify block (pydantic v2); never touch SQL."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tessera.blocks.order.events import ORDER_TOPICS

# The names of the order block's status topics, in lifecycle order (the settings list them).
ORDER_TOPIC_NAMES: tuple[str, ...] = tuple(topic.name for topic in ORDER_TOPICS)
if TYPE_CHECKING:
    OrderTopic = str
else:  # a Literal built from the order block's declaration: the schema lists the names
    OrderTopic = Literal[ORDER_TOPIC_NAMES]
Channel = Literal["mail", "sms"]
Status = Literal["queued", "sent", "failed", "dead"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NotificationSettingsIO(_In):
    """Order events delivered by mail and by SMS (SMS needs a verified phone)."""

    mail: list[OrderTopic] = Field(max_length=len(ORDER_TOPIC_NAMES))
    sms: list[OrderTopic] = Field(max_length=len(ORDER_TOPIC_NAMES))

    @field_validator("mail", "sms")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value), key=ORDER_TOPIC_NAMES.index)


class NotificationOut(BaseModel):
    id: int
    channel: Channel
    user_id: int | None
    recipient: str = Field(description="masked")
    template: str
    locale: str
    status: Status
    provider_id: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
