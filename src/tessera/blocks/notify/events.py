"""Events the notify block publishes to itself (through the outbox, after commit).

`notify.message_queued` is how a queued message reaches the delivering worker; the request
events let the HTTP side answer in constant time while the worker decides what to send.
"""

from __future__ import annotations

from tessera.lib.tasks import EventPayload, Topic


class MessageQueued(EventPayload):
    notification_id: int
    # Who it is for and what it is (absent in rows written before these fields existed).
    user_id: int | None = None
    channel: str | None = None
    template: str | None = None


class SmsCodeRequested(EventPayload):
    phone: str
    purpose: str


class PasswordResetRequested(EventPayload):
    email: str


MESSAGE_QUEUED = Topic(
    "notify.message_queued", MessageQueued, description="A mail or SMS waits to be sent"
)
SMS_CODE_REQUESTED = Topic(
    "notify.sms_code_requested",
    SmsCodeRequested,
    description="Someone asked for an SMS code; the worker decides whether one is sent",
)
PASSWORD_RESET_REQUESTED = Topic(
    "notify.password_reset_requested",
    PasswordResetRequested,
    description="Someone asked for a password reset link for an address",
)
