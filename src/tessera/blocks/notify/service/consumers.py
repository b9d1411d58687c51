"""Event consumers of the notify block: what other blocks publish becomes mail and SMS.

Identity (the user block) publishes what must reach a user (`user.registered`,
`user.email_verification_requested`, `user.password_reset_requested`,
`user.sms_code_requested`, `user.mfa_sms_requested`) without secrets; the consumer asks the
user service to issue the link token or code (it decides whether anything is sent, e.g. no
sign-in code for an unknown number) and queues the message with the secret sealed. Order
events become mail and/or SMS as the owner's preferences say.

Each consumer queues at most one message per event and channel (`queue_once`), and checks
first whether an earlier delivery already did, so a retried event issues no second code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from tessera.blocks.notify.events import MESSAGE_QUEUED
from tessera.blocks.notify.service.delivery import (
    CODE_TEMPLATE,
    already_handled,
    deliver_message,
    log,
    queue_message,
    queue_once,
)
from tessera.blocks.notify.service.preferences import order_channels
from tessera.blocks.order.events import ORDER_TOPICS, OrderEvent
from tessera.blocks.user import service as user_service
from tessera.blocks.user.events import (
    EMAIL_VERIFICATION_REQUESTED,
    MFA_SMS_REQUESTED,
    PASSWORD_RESET_REQUESTED,
    SMS_CODE_REQUESTED,
    USER_REGISTERED,
    EmailVerificationRequested,
    MfaSmsRequested,
    PasswordResetRequested,
    SmsCodeRequested,
    UserRegistered,
)
from tessera.blocks.user.model.dto import IssuedCode
from tessera.lib.runtime import Runtime
from tessera.lib.tasks import Event, EventPayload

P = TypeVar("P", bound=EventPayload)


def _link(runtime: Runtime, path: str, token: str) -> str:
    return f"{runtime.settings.mail.public_base_url.rstrip('/')}/{path}?token={token}"


# --- identity -------------------------------------------------------------------------------


async def _mail_verification_link(runtime: Runtime, event: Event[Any], user_id: int) -> None:
    if await already_handled(runtime, event):
        return
    issued = await user_service.issue_email_verification(runtime=runtime, user_id=user_id)
    if issued is None:
        return  # gone, or verified meanwhile
    contact = issued.contact
    await queue_once(
        runtime,
        event,
        channel="mail",
        recipient=contact.email,
        template="verify_email",
        locale=contact.locale,
        params={
            "name": contact.display_name or contact.username,
            "email": contact.email,
            "hours": max(1, issued.ttl_seconds // 3600),
        },
        secret={"link": _link(runtime, "verify-email", issued.token.get_secret_value())},
        user_id=contact.user_id,
    )


async def on_user_registered(runtime: Runtime, event: Event[UserRegistered]) -> None:
    await _mail_verification_link(runtime, event, event.data.user_id)


async def on_email_verification_requested(
    runtime: Runtime, event: Event[EmailVerificationRequested]
) -> None:
    await _mail_verification_link(runtime, event, event.data.user_id)


async def on_password_reset_requested(
    runtime: Runtime, event: Event[PasswordResetRequested]
) -> None:
    if await already_handled(runtime, event):
        return
    issued = await user_service.issue_password_reset(runtime=runtime, email=event.data.email)
    if issued is None:
        return  # no such account: nothing to send, the caller got the same 202 anyway
    contact = issued.contact
    await queue_once(
        runtime,
        event,
        channel="mail",
        recipient=contact.email,
        template="password_reset",
        locale=contact.locale,
        params={
            "name": contact.display_name or contact.username,
            "minutes": issued.ttl_seconds // 60,
        },
        secret={"link": _link(runtime, "reset-password", issued.token.get_secret_value())},
        user_id=contact.user_id,
    )


async def _send_code(
    runtime: Runtime, event: Event[Any], *, phone: str, purpose: str, locale: str | None
) -> None:
    """`locale` is for a number no account owns; None: `notify.default_locale`."""
    if await already_handled(runtime, event):
        return
    issued: IssuedCode | None = await user_service.issue_sms_code(
        runtime=runtime, phone=phone, purpose=purpose
    )
    if issued is None:
        return  # e.g. a sign-in code for a number no account has: the caller saw 202 anyway
    await queue_once(
        runtime,
        event,
        channel="sms",
        recipient=issued.phone,
        template=CODE_TEMPLATE,
        locale=issued.locale or locale,
        params={"minutes": max(1, issued.ttl_seconds // 60)},
        secret={"code": issued.code.get_secret_value()},
        user_id=issued.user_id,
    )


async def on_sms_code_requested(runtime: Runtime, event: Event[SmsCodeRequested]) -> None:
    await _send_code(
        runtime, event, phone=event.data.phone, purpose=event.data.purpose, locale=None
    )


async def on_mfa_sms_requested(runtime: Runtime, event: Event[MfaSmsRequested]) -> None:
    await _send_code(
        runtime, event, phone=event.data.phone, purpose="mfa", locale=event.data.locale
    )


# --- orders ---------------------------------------------------------------------------------


async def on_order_event(runtime: Runtime, event: Event[OrderEvent]) -> None:
    """Mail and/or SMS for an order event, as the owner chose; once per event and channel."""
    order = event.data
    contact = await user_service.get_contact(runtime=runtime, user_id=order.user_id)
    if contact is None or not contact.is_active:
        return
    mail_events, sms_events = await order_channels(runtime, contact.user_id)
    template = "order_" + event.topic.removeprefix("order.")
    params = {
        "name": contact.display_name or contact.username,
        **order.model_dump(
            mode="json",
            include={"order_no", "status", "total", "currency", "items", "reason", "carrier"}
            | {"tracking_no", "order_id"},
        ),
    }
    if await already_handled(runtime, event):
        return
    try:
        async with runtime.db.transaction() as uow:
            if event.topic in mail_events:
                await queue_message(
                    uow,
                    runtime,
                    channel="mail",
                    recipient=contact.email,
                    template=template,
                    locale=contact.locale,
                    params=params,
                    user_id=contact.user_id,
                    source_event_id=event.id,
                )
            if event.topic in sms_events and contact.phone and contact.phone_verified:
                await queue_message(
                    uow,
                    runtime,
                    channel="sms",
                    recipient=contact.phone,
                    template=template,
                    locale=contact.locale,
                    params=params,
                    user_id=contact.user_id,
                    source_event_id=event.id,
                )
    except IntegrityError:
        log.info("notification_already_queued", event_id=event.id)


def subscribe_handlers(runtime: Runtime) -> None:
    """Wire the notify block's consumers. Their names key the outbox's idempotency records:
    never rename one (a retried event would run its handler again)."""

    def bind(
        handler: Callable[[Runtime, Event[P]], Awaitable[None]],
    ) -> Callable[[Event[P]], Awaitable[None]]:
        async def run(event: Event[P]) -> None:
            await handler(runtime, event)

        return run

    bus = runtime.events
    bus.subscribe(MESSAGE_QUEUED, "notify.deliver_message", bind(deliver_message))
    bus.subscribe(USER_REGISTERED, "notify.verification_mail", bind(on_user_registered))
    bus.subscribe(
        EMAIL_VERIFICATION_REQUESTED,
        "notify.verification_mail_again",
        bind(on_email_verification_requested),
    )
    bus.subscribe(MFA_SMS_REQUESTED, "notify.mfa_sms_code", bind(on_mfa_sms_requested))
    bus.subscribe(SMS_CODE_REQUESTED, "notify.sms_code", bind(on_sms_code_requested))
    bus.subscribe(
        PASSWORD_RESET_REQUESTED, "notify.password_reset_mail", bind(on_password_reset_requested)
    )
    for topic in ORDER_TOPICS:
        bus.subscribe(topic, f"notify.{topic.name}", bind(on_order_event))
