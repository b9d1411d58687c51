"""Use cases of the notify block: queueing and delivering messages, verification links and
codes, password reset, order notifications, per-user settings and the operators' log.

Nothing is sent inside a request. A use case writes a `notification` row and publishes
`notify.message_queued` in the same transaction; the outbox worker's `deliver_message` sends
it, retrying transient failures with backoff until `tasks.max_attempts`, then `dead`. Flows
that must not reveal whether an account exists (forgot password, SMS codes) do only the same
constant work in the request (rate limit + one event) and decide in the worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import structlog
from sqlalchemy.exc import IntegrityError

from tessera.blocks.notify import dao
from tessera.blocks.notify.events import (
    MESSAGE_QUEUED,
    PASSWORD_RESET_REQUESTED,
    SMS_CODE_REQUESTED,
    MessageQueued,
    PasswordResetRequested,
    SmsCodeRequested,
)
from tessera.blocks.notify.model.do import (
    DEAD,
    FAILED,
    QUEUED,
    SENT,
    NotificationDO,
    NotificationSettingsDO,
)
from tessera.blocks.notify.model.dto import NotificationOut, NotificationSettingsIO
from tessera.blocks.notify.utility import (
    mask_recipient,
    open_params,
    renderer,
    seal_params,
    wipe_secrets,
)
from tessera.blocks.order.events import (
    ORDER_CANCELLED,
    ORDER_PAID,
    ORDER_REFUNDED,
    ORDER_SHIPPED,
    ORDER_TOPICS,
    OrderEvent,
)
from tessera.blocks.user import service as user_service
from tessera.blocks.user.events import (
    MFA_SMS_REQUESTED,
    USER_REGISTERED,
    MfaSmsRequested,
    UserRegistered,
)
from tessera.blocks.user.model.dto import MfaChallengeOut, TokenPairOut, UserOut
from tessera.lib.db import UnitOfWork, utcnow
from tessera.lib.errors import BadRequest, Conflict, Unauthorized, ValidationFailed
from tessera.lib.mail import MailMessage, PermanentMailError, mailer_of
from tessera.lib.otp import hit_sms_limits, one_time_codes
from tessera.lib.pagination import Page, PageParams
from tessera.lib.ratelimit import Limit
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.sms import SmsError, SmsMessage, normalize_phone, sms_of
from tessera.lib.tasks import Event, EventPayload, publish
from tessera.lib.web import ClientInfo

log = structlog.get_logger("tessera.notify")
P = TypeVar("P", bound=EventPayload)

EMAIL_VERIFY = "email_verify"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose name, not a secret
CODE_TEMPLATE = "verification_code"

DEFAULT_MAIL_EVENTS = tuple(
    topic.name for topic in (ORDER_PAID, ORDER_SHIPPED, ORDER_CANCELLED, ORDER_REFUNDED)
)
DEFAULT_SMS_EVENTS = (ORDER_SHIPPED.name,)
# Which template parameters a provider's approved SMS template receives, in template order.
SMS_PARAMS: dict[str, tuple[str, ...]] = {
    CODE_TEMPLATE: ("code",),
    "order_shipped": ("order_no", "carrier", "tracking_no"),
}


# --- queueing --------------------------------------------------------------------------------


async def queue_message(
    uow: UnitOfWork,
    runtime: Runtime,
    *,
    channel: str,
    recipient: str,
    template: str,
    locale: str,
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
            locale=renderer().resolve_locale(locale),
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


async def _queue_once(runtime: Runtime, event: Event[Any], **message: Any) -> None:
    """Queue a message for `event` unless a retry of the same event already did."""
    try:
        async with runtime.db.transaction() as uow:
            if await dao.source_event_handled(uow.session, event.id):
                return
            await queue_message(uow, runtime, source_event_id=event.id, **message)
    except IntegrityError:
        log.info("notification_already_queued", event_id=event.id)


# --- delivery (outbox worker) ---------------------------------------------------------------


def _template_parts(template: str) -> tuple[str, dict[str, Any]]:
    if template.startswith("order_"):
        return "order", {"kind": template.removeprefix("order_")}
    return template, {}


def _render_mail(row: NotificationDO, params: dict[str, Any], from_address: str) -> MailMessage:
    name, extra = _template_parts(row.template)
    rendered = renderer().render_mail(name, locale=row.locale, context={**params, **extra})
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


def _render_sms(row: NotificationDO, params: dict[str, Any]) -> SmsMessage:
    name, extra = _template_parts(row.template)
    text = renderer().render_text(name, "sms.txt", row.locale, {**params, **extra})
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
    try:
        params = open_params(runtime, row.params)
        if row.channel == "mail":
            mail = _render_mail(row, params, runtime.settings.mail.from_address)
            provider_id = await mailer_of(runtime).send(mail)
        else:
            provider_id = await sms_of(runtime).send(_render_sms(row, params))
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


# --- email verification ---------------------------------------------------------------------


def _link(runtime: Runtime, path: str, token: str) -> str:
    return f"{runtime.settings.mail.public_base_url.rstrip('/')}/{path}?token={token}"


async def _queue_verification_mail(
    runtime: Runtime,
    *,
    user_id: int,
    email: str,
    name: str,
    locale: str,
    source_event_id: str | None,
) -> None:
    ttl = runtime.settings.notify.email_verify_ttl_seconds
    token = await one_time_codes(runtime).issue_token(
        EMAIL_VERIFY, {"user_id": user_id, "email": email}, ttl_seconds=ttl
    )
    async with runtime.db.transaction() as uow:
        if source_event_id and await dao.source_event_handled(uow.session, source_event_id):
            return
        await queue_message(
            uow,
            runtime,
            channel="mail",
            recipient=email,
            template="verify_email",
            locale=locale,
            params={"name": name, "email": email, "hours": max(1, ttl // 3600)},
            secret={"link": _link(runtime, "verify-email", token)},
            user_id=user_id,
            source_event_id=source_event_id,
        )


async def on_user_registered(runtime: Runtime, event: Event[UserRegistered]) -> None:
    contact = await user_service.get_contact(runtime=runtime, user_id=event.data.user_id)
    if contact is None or contact.email_verified:
        return
    try:
        await _queue_verification_mail(
            runtime,
            user_id=contact.user_id,
            email=contact.email,
            name=contact.display_name or contact.username,
            locale=contact.locale,
            source_event_id=event.id,
        )
    except IntegrityError:
        log.info("notification_already_queued", event_id=event.id)


async def verify_email(*, runtime: Runtime, token: str) -> None:
    data = await one_time_codes(runtime).consume_token(EMAIL_VERIFY, token)
    if data is None or not await user_service.mark_email_verified(
        runtime=runtime, user_id=int(data["user_id"]), email=str(data["email"])
    ):
        raise BadRequest(
            "The link is invalid, expired or already used.", code="notify.invalid_token"
        )


async def resend_verification(*, runtime: Runtime, principal: Principal) -> None:
    contact = await user_service.get_contact(runtime=runtime, user_id=principal.id)
    if contact is None:
        raise Unauthorized("The token's user no longer exists.", code="auth.user_not_found")
    if contact.email_verified:
        raise Conflict("The email address is already verified.", code="notify.already_verified")
    limits = runtime.settings.notify
    await runtime.ratelimiter.hit(
        "email_resend",
        str(principal.id),
        Limit(1, limits.email_resend_interval_seconds),
        code="notify.resend_rate_limited",
    )
    await runtime.ratelimiter.hit(
        "email_resend_day", str(principal.id), Limit(10, 86400), code="notify.resend_rate_limited"
    )
    await _queue_verification_mail(
        runtime,
        user_id=contact.user_id,
        email=contact.email,
        name=contact.display_name or contact.username,
        locale=contact.locale,
        source_event_id=None,
    )


# --- password reset -------------------------------------------------------------------------


async def forgot_password(*, runtime: Runtime, email: str, ip: str | None) -> None:
    """Same answer and the same work whether or not the address exists: one event."""
    limits = runtime.settings.notify
    await runtime.ratelimiter.hit(
        "password_forgot_ip",
        ip or "unknown",
        Limit(limits.password_reset_per_ip_per_hour, 3600),
        code="notify.reset_rate_limited",
    )
    normalized = email.strip().lower()
    # Per address too, so nobody can flood someone's inbox from many addresses.
    await runtime.ratelimiter.hit(
        "password_forgot_email", normalized, Limit(5, 3600), code="notify.reset_rate_limited"
    )
    async with runtime.db.transaction() as uow:
        await publish(
            uow, runtime.events, PASSWORD_RESET_REQUESTED, PasswordResetRequested(email=normalized)
        )


async def on_password_reset_requested(
    runtime: Runtime, event: Event[PasswordResetRequested]
) -> None:
    user_id = await user_service.find_user_id_by_email(runtime=runtime, email=event.data.email)
    if user_id is None:
        return  # nothing to send; the caller got the same 202 anyway
    contact = await user_service.get_contact(runtime=runtime, user_id=user_id)
    if contact is None:
        return
    async with runtime.db.read() as session:
        if await dao.source_event_handled(session, event.id):
            return
    ttl = runtime.settings.notify.password_reset_ttl_seconds
    token = await one_time_codes(runtime).issue_token(
        PASSWORD_RESET, {"user_id": user_id}, ttl_seconds=ttl
    )
    await _queue_once(
        runtime,
        event,
        channel="mail",
        recipient=contact.email,
        template="password_reset",
        locale=contact.locale,
        params={"name": contact.display_name or contact.username, "minutes": ttl // 60},
        secret={"link": _link(runtime, "reset-password", token)},
        user_id=user_id,
    )


async def reset_password_with_code(
    *, runtime: Runtime, raw_phone: str, code: str, new_password: str, ip: str | None
) -> None:
    """Reset with an SMS code (purpose `reset_password`) sent to the account's verified phone."""
    phone = parse_phone(runtime, raw_phone)
    user_id = await user_service.find_user_id_by_verified_phone(runtime=runtime, phone=phone)
    # Policy first (not revealing whether the phone has an account), so a refused password
    # does not spend the code.
    await user_service.validate_new_password(
        runtime=runtime, user_id=user_id, new_password=new_password
    )
    await _check_code(runtime, purpose="reset_password", phone=phone, code=code, ip=ip)
    if user_id is None:
        raise Unauthorized("The code is wrong or expired.", code="auth.invalid_code")
    await user_service.reset_password(runtime=runtime, user_id=user_id, new_password=new_password)


async def reset_password(*, runtime: Runtime, token: str, new_password: str) -> None:
    store = one_time_codes(runtime)
    # Check the password before spending the token, so a refused password can be corrected.
    data = await store.peek_token(PASSWORD_RESET, token)
    if data is None:
        raise BadRequest(
            "The link is invalid, expired or already used.", code="notify.invalid_token"
        )
    user_id = int(data["user_id"])
    await user_service.validate_new_password(
        runtime=runtime, user_id=user_id, new_password=new_password
    )
    if await store.consume_token(PASSWORD_RESET, token) is None:
        raise BadRequest(
            "The link is invalid, expired or already used.", code="notify.invalid_token"
        )
    await user_service.reset_password(runtime=runtime, user_id=user_id, new_password=new_password)


# --- SMS codes ------------------------------------------------------------------------------


def parse_phone(runtime: Runtime, raw: str) -> str:
    try:
        return normalize_phone(raw, default_region=runtime.settings.sms.default_region)
    except ValueError as exc:
        raise ValidationFailed(
            "Not a valid phone number.",
            code="notify.invalid_phone",
            errors=[{"loc": ["body", "phone"], "msg": str(exc), "type": "value_error"}],
        ) from exc


async def request_sms_code(
    *, runtime: Runtime, raw_phone: str, purpose: str, ip: str | None
) -> None:
    """202 for every valid number: whether a code is really sent is decided in the worker."""
    phone = parse_phone(runtime, raw_phone)
    await hit_sms_limits(runtime, phone=phone, ip=ip)
    async with runtime.db.transaction() as uow:
        await publish(
            uow, runtime.events, SMS_CODE_REQUESTED, SmsCodeRequested(phone=phone, purpose=purpose)
        )


async def _send_code(
    runtime: Runtime,
    event: Event[Any],
    *,
    phone: str,
    purpose: str,
    user_id: int | None,
    locale: str,
) -> None:
    async with runtime.db.read() as session:
        if await dao.source_event_handled(session, event.id):
            return
    settings = runtime.settings.notify
    code = await one_time_codes(runtime).issue_code(
        purpose, phone, ttl_seconds=settings.code_ttl_seconds
    )
    await _queue_once(
        runtime,
        event,
        channel="sms",
        recipient=phone,
        template=CODE_TEMPLATE,
        locale=locale,
        params={"minutes": max(1, settings.code_ttl_seconds // 60)},
        secret={"code": code},
        user_id=user_id,
    )


async def on_sms_code_requested(runtime: Runtime, event: Event[SmsCodeRequested]) -> None:
    phone, purpose = event.data.phone, event.data.purpose
    owner = await user_service.find_user_id_by_verified_phone(runtime=runtime, phone=phone)
    if purpose in ("login", "reset_password", "mfa") and owner is None:
        return  # no account to sign in to: send nothing, the caller saw 202 all the same
    if purpose == "register" and owner is not None:
        return
    locale = runtime.settings.notify.default_locale
    if owner is not None:
        contact = await user_service.get_contact(runtime=runtime, user_id=owner)
        if contact is not None:
            locale = contact.locale
    await _send_code(runtime, event, phone=phone, purpose=purpose, user_id=owner, locale=locale)


async def on_mfa_sms_requested(runtime: Runtime, event: Event[MfaSmsRequested]) -> None:
    await _send_code(
        runtime,
        event,
        phone=event.data.phone,
        purpose="mfa",
        user_id=event.data.user_id,
        locale=event.data.locale,
    )


async def _check_code(
    runtime: Runtime, *, purpose: str, phone: str, code: str, ip: str | None
) -> None:
    # Per IP: many numbers times 5 tries each must not add up to a brute force.
    await runtime.ratelimiter.hit(
        "code_check_ip", ip or "unknown", Limit(60, 900), code="notify.code_rate_limited"
    )
    check = await one_time_codes(runtime).check_code(
        purpose, phone, code, max_attempts=runtime.settings.notify.code_max_attempts
    )
    if not check.ok:
        raise Unauthorized("The code is wrong or expired.", code="auth.invalid_code")


async def login_with_sms(
    *, runtime: Runtime, raw_phone: str, code: str, client: ClientInfo
) -> TokenPairOut | MfaChallengeOut:
    phone = parse_phone(runtime, raw_phone)
    await _check_code(runtime, purpose="login", phone=phone, code=code, ip=client.ip)
    user_id = await user_service.find_user_id_by_verified_phone(runtime=runtime, phone=phone)
    if user_id is None:
        raise Unauthorized("The code is wrong or expired.", code="auth.invalid_code")
    return await user_service.sign_in_user(
        runtime=runtime, user_id=user_id, client=client, first_factor="sms"
    )


async def bind_phone(
    *, runtime: Runtime, principal: Principal, raw_phone: str, code: str, ip: str | None
) -> UserOut:
    phone = parse_phone(runtime, raw_phone)
    await _check_code(runtime, purpose="bind_phone", phone=phone, code=code, ip=ip)
    return await user_service.bind_phone(runtime=runtime, user_id=principal.id, phone=phone)


# --- order notifications --------------------------------------------------------------------


def _split(value: str) -> list[str]:
    return [item for item in value.split(",") if item]


async def _order_channels(runtime: Runtime, user_id: int) -> tuple[list[str], list[str]]:
    async with runtime.db.read() as session:
        row = await dao.get_settings(session, user_id)
    if row is None:
        return list(DEFAULT_MAIL_EVENTS), list(DEFAULT_SMS_EVENTS)
    return _split(row.mail_events), _split(row.sms_events)


async def on_order_event(runtime: Runtime, event: Event[OrderEvent]) -> None:
    """Mail and/or SMS for an order event, as the owner chose; once per event and channel."""
    order = event.data
    contact = await user_service.get_contact(runtime=runtime, user_id=order.user_id)
    if contact is None or not contact.is_active:
        return
    mail_events, sms_events = await _order_channels(runtime, contact.user_id)
    template = "order_" + event.topic.removeprefix("order.")
    params = {
        "name": contact.display_name or contact.username,
        **order.model_dump(
            mode="json",
            include={"order_no", "status", "total", "currency", "items", "reason", "carrier"}
            | {"tracking_no"},
        ),
    }
    async with runtime.db.read() as session:
        if await dao.source_event_handled(session, event.id):
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


async def get_notification_settings(
    *, runtime: Runtime, principal: Principal
) -> NotificationSettingsIO:
    mail, sms = await _order_channels(runtime, principal.id)
    return NotificationSettingsIO.model_validate({"mail": mail, "sms": sms})


async def put_notification_settings(
    *, runtime: Runtime, principal: Principal, data: NotificationSettingsIO
) -> NotificationSettingsIO:
    async with runtime.db.transaction() as uow:
        await dao.save_settings(
            uow.session,
            NotificationSettingsDO(
                user_id=principal.id,
                mail_events=",".join(data.mail),
                sms_events=",".join(data.sms),
                updated_at=utcnow(),
            ),
        )
    return data


# --- operators ------------------------------------------------------------------------------


def _out(row: NotificationDO) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        channel=row.channel,
        user_id=row.user_id,
        recipient=mask_recipient(row.channel, row.recipient),
        template=row.template,
        locale=row.locale,
        status=row.status,
        provider_id=row.provider_id,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


async def list_notifications(
    *,
    runtime: Runtime,
    paging: PageParams,
    channel: str | None,
    status: str | None,
    user_id: int | None,
    template: str | None,
) -> Page[NotificationOut]:
    async with runtime.db.read() as session:
        rows, total = await dao.search_notifications(
            session,
            channel=channel,
            status=status,
            user_id=user_id,
            template=template,
            offset=paging.offset,
            limit=paging.size,
        )
    return Page[NotificationOut].of([_out(row) for row in rows], total, paging)


def subscribe_handlers(runtime: Runtime) -> None:
    """Wire the notify block's event handlers (names key the outbox's idempotency records)."""

    def bind(
        handler: Callable[[Runtime, Event[P]], Awaitable[None]],
    ) -> Callable[[Event[P]], Awaitable[None]]:
        async def run(event: Event[P]) -> None:
            await handler(runtime, event)

        return run

    bus = runtime.events
    bus.subscribe(MESSAGE_QUEUED, "notify.deliver_message", bind(deliver_message))
    bus.subscribe(USER_REGISTERED, "notify.verification_mail", bind(on_user_registered))
    bus.subscribe(MFA_SMS_REQUESTED, "notify.mfa_sms_code", bind(on_mfa_sms_requested))
    bus.subscribe(SMS_CODE_REQUESTED, "notify.sms_code", bind(on_sms_code_requested))
    bus.subscribe(
        PASSWORD_RESET_REQUESTED, "notify.password_reset_mail", bind(on_password_reset_requested)
    )
    for topic in ORDER_TOPICS:
        bus.subscribe(topic, f"notify.{topic.name}", bind(on_order_event))
