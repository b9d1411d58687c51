"""Delivery: queueing a message and sending it from the outbox worker.

Nothing is sent inside a request. A use case (or an event consumer) writes a `notification`
row and publishes `notify.message_queued` in the same transaction; the worker's
`deliver_message` renders and sends it, retrying transient failures with backoff until
`tasks.max_attempts`, then `dead`. Secret parameters (codes, link tokens) travel sealed in the
row and are wiped once the message is sent or dead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError

from tessera.blocks.notify import dao
from tessera.blocks.notify.events import MESSAGE_QUEUED, MessageQueued
from tessera.blocks.notify.model.do import DEAD, FAILED, QUEUED, SENT, NotificationDO
from tessera.blocks.notify.utility import open_params, renderer_of, seal_params, wipe_secrets
from tessera.lib.db import UnitOfWork, utcnow
from tessera.lib.mail import (
    MailMessage,
    PermanentMailError,
    TemplateRenderer,
    attachments_for,
    mailer_of,
)
from tessera.lib.runtime import Runtime
from tessera.lib.sms import SmsError, SmsMessage, sms_of
from tessera.lib.tasks import Event, publish

log = structlog.get_logger("tessera.notify")

CODE_TEMPLATE = "verification_code"
# Which template parameters a provider's approved SMS template receives, in template order.
SMS_PARAMS: dict[str, tuple[str, ...]] = {
    CODE_TEMPLATE: ("code",),
    "order_shipped": ("order_no", "carrier", "tracking_no"),
}


async def queue_message(
    uow: UnitOfWork,
    runtime: Runtime,
    *,
    channel: str,
    recipient: str,
    template: str,
    locale: str | None,
    params: Mapping[str, Any],
    secret: Mapping[str, str] | None = None,
    user_id: int | None = None,
    source_event_id: str | None = None,
) -> int:
    """Add a message to the caller's transaction; the worker sends it after commit."""
    row = await dao.add_notification(
        uow.session,
        NotificationDO(
            channel=channel,
            user_id=user_id,
            recipient=recipient,
            template=template,
            locale=renderer_of(runtime).resolve_locale(locale),
            params=seal_params(runtime, dict(params), dict(secret or {})),
            status=QUEUED,
            source_event_id=source_event_id,
        ),
    )
    await publish(
        uow,
        runtime.events,
        MESSAGE_QUEUED,
        MessageQueued(notification_id=row.id, user_id=user_id, channel=channel, template=template),
        aggregate_id=row.id,
    )
    return row.id


async def already_handled(runtime: Runtime, event: Event[Any]) -> bool:
    """True when an earlier delivery of `event` already queued its message(s)."""
    async with runtime.db.read() as session:
        return await dao.source_event_handled(session, event.id)


async def queue_once(runtime: Runtime, event: Event[Any], **message: Any) -> None:
    """Queue a message for `event` unless a retry of the same event already did."""
    try:
        async with runtime.db.transaction() as uow:
            if await dao.source_event_handled(uow.session, event.id):
                return
            await queue_message(uow, runtime, source_event_id=event.id, **message)
    except IntegrityError:
        log.info("notification_already_queued", event_id=event.id)


def _template_parts(template: str) -> tuple[str, dict[str, Any]]:
    if template.startswith("order_"):
        return "order", {"kind": template.removeprefix("order_")}
    return template, {}


def _render_mail(
    renderer: TemplateRenderer, row: NotificationDO, params: dict[str, Any], from_address: str
) -> MailMessage:
    name, extra = _template_parts(row.template)
    rendered = renderer.render_mail(name, locale=row.locale, context={**params, **extra})
    domain = from_address.rsplit("@", 1)[-1].strip("> ") or "localhost"
    return MailMessage(
        to=row.recipient,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        # Stable per notification: a receiver can drop a duplicate after a retried send.
        message_id=f"<notification-{row.id}@{domain}>",
        headers={"X-Tessera-Notification": str(row.id)},
    )


def _render_sms(
    renderer: TemplateRenderer, row: NotificationDO, params: dict[str, Any]
) -> SmsMessage:
    name, extra = _template_parts(row.template)
    text = renderer.render_text(name, "sms.txt", row.locale, {**params, **extra})
    wanted = SMS_PARAMS.get(row.template, ("order_no",))
    return SmsMessage(
        phone=row.recipient,
        message_type=row.template,
        params={key: str(params.get(key) or "") for key in wanted},
        text=text,
    )


async def _record(runtime: Runtime, notification_id: int, **values: Any) -> None:
    async with runtime.db.transaction() as uow:
        row = await dao.get_notification(uow.session, notification_id)
        if row is None:
            return
        for key, value in values.items():
            setattr(row, key, value)
        if values.get("status") in (SENT, DEAD):
            row.params = wipe_secrets(row.params)


async def deliver_message(runtime: Runtime, event: Event[MessageQueued]) -> None:
    """Send one queued notification; raise on transient failure so the outbox retries."""
    notification_id = event.data.notification_id
    async with runtime.db.read() as session:
        row = await dao.get_notification(session, notification_id)
    if row is None or row.status in (SENT, DEAD):
        return  # already done by an earlier delivery of this event
    attempts = row.attempts + 1
    renderer = renderer_of(runtime)
    try:
        params = open_params(runtime, row.params)
        if row.channel == "mail":
            mail = _render_mail(renderer, row, params, runtime.settings.mail.from_address)
            # Other blocks' attachments (the report block: the invoice of a paid order).
            extra = await attachments_for(runtime, row.template, params)
            if extra:
                mail = dataclasses.replace(mail, attachments=mail.attachments + extra)
            provider_id = await mailer_of(runtime).send(mail)
        else:
            provider_id = await sms_of(runtime).send(_render_sms(renderer, row, params))
    except (PermanentMailError, SmsError) as exc:
        retryable = isinstance(exc, SmsError) and exc.retryable
        if not retryable:
            # Retrying cannot help (bad address, rejected template): park it at once.
            await _record(
                runtime, notification_id, status=DEAD, attempts=attempts, last_error=str(exc)
            )
            log.warning("notification_dead", notification_id=notification_id, error_code=_code(exc))
            return
        await _fail(runtime, event, notification_id, attempts, exc)
        raise
    except Exception as exc:
        await _fail(runtime, event, notification_id, attempts, exc)
        raise
    await _record(
        runtime,
        notification_id,
        status=SENT,
        attempts=attempts,
        provider_id=provider_id[:255],
        last_error=None,
        sent_at=utcnow(),
    )


def _code(exc: Exception) -> str:
    return str(getattr(exc, "code", type(exc).__name__))


async def _fail(
    runtime: Runtime,
    event: Event[MessageQueued],
    notification_id: int,
    attempts: int,
    exc: Exception,
) -> None:
    final = event.attempt >= runtime.settings.tasks.max_attempts
    await _record(
        runtime,
        notification_id,
        status=DEAD if final else FAILED,
        attempts=attempts,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
