"""Request and response schemas of the notify block (pydantic v2); never touch SQL."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from tessera.blocks.order.events import ORDER_TOPICS

MAX_PASSWORD_LENGTH = 256  # the user block applies the real policy

CodePurpose = Literal["login", "register", "reset_password", "bind_phone", "mfa"]
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


class VerifyEmailIn(_In):
    token: str = Field(min_length=10, max_length=128)


class SmsCodeIn(_In):
    phone: str = Field(min_length=5, max_length=32, examples=["+8613800138000"])
    purpose: CodePurpose


class SmsLoginIn(_In):
    phone: str = Field(min_length=5, max_length=32)
    code: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")


class BindPhoneIn(SmsLoginIn):
    pass


class ForgotPasswordIn(_In):
    email: EmailStr = Field(max_length=254)


class ResetPasswordIn(_In):
    """Either the `token` of a reset link, or a verified `phone` and its `code`."""

    token: str | None = Field(default=None, min_length=10, max_length=128)
    phone: str | None = Field(default=None, min_length=5, max_length=32)
    code: str | None = Field(default=None, min_length=6, max_length=6, pattern=r"^[0-9]{6}$")
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)

    @model_validator(mode="after")
    def _one_proof(self) -> ResetPasswordIn:
        by_phone = self.phone is not None and self.code is not None
        if (self.token is None) == (not by_phone) or (self.token and (self.phone or self.code)):
            raise ValueError("give either token, or phone and code")
        return self


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
