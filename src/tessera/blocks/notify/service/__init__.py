"""Use cases of the notify block, one module per subject:

- `delivery`: queueing a message and sending it from the outbox worker
- `consumers`: events of other blocks (identity, orders) that become mail and SMS
- `preferences`: which order events reach a user by mail and by SMS
- `operators`: the message log

Callers import this package (`from tessera.blocks.notify import service`): the public use
cases are re-exported here.
"""

from tessera.blocks.notify.service.consumers import (
    on_email_verification_requested,
    on_mfa_sms_requested,
    on_order_event,
    on_password_reset_requested,
    on_sms_code_requested,
    on_user_registered,
    subscribe_handlers,
)
from tessera.blocks.notify.service.delivery import deliver_message, queue_message
from tessera.blocks.notify.service.operators import list_notifications
from tessera.blocks.notify.service.preferences import (
    get_notification_settings,
    put_notification_settings,
)

__all__ = [
    "deliver_message",
    "get_notification_settings",
    "list_notifications",
    "on_email_verification_requested",
    "on_mfa_sms_requested",
    "on_order_event",
    "on_password_reset_requested",
    "on_sms_code_requested",
    "on_user_registered",
    "put_notification_settings",
    "queue_message",
    "subscribe_handlers",
]
