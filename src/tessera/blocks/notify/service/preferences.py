"""Per-user notification preferences: which order events reach the user by mail and by SMS
(SMS only to a verified phone). Users who saved nothing get the defaults below."""

from __future__ import annotations

from tessera.blocks.notify import dao
from tessera.blocks.notify.model.do import NotificationSettingsDO
from tessera.blocks.notify.model.dto import NotificationSettingsIO
from tessera.blocks.order.events import ORDER_CANCELLED, ORDER_PAID, ORDER_REFUNDED, ORDER_SHIPPED
from tessera.lib.db import utcnow
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal

DEFAULT_MAIL_EVENTS = tuple(
    topic.name for topic in (ORDER_PAID, ORDER_SHIPPED, ORDER_CANCELLED, ORDER_REFUNDED)
)
DEFAULT_SMS_EVENTS = (ORDER_SHIPPED.name,)


def _split(value: str) -> list[str]:
    return [item for item in value.split(",") if item]


async def order_channels(runtime: Runtime, user_id: int) -> tuple[list[str], list[str]]:
    """The order topics the user gets by mail, and by SMS."""
    async with runtime.db.read() as session:
        row = await dao.get_settings(session, user_id)
    if row is None:
        return list(DEFAULT_MAIL_EVENTS), list(DEFAULT_SMS_EVENTS)
    return _split(row.mail_events), _split(row.sms_events)


async def get_notification_settings(
    *, runtime: Runtime, principal: Principal
) -> NotificationSettingsIO:
    mail, sms = await order_channels(runtime, principal.id)
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
