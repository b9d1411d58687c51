"""Events the notify block publishes to itself (through the outbox, after commit).

`notify.message_queued` is how a queued message reaches the delivering worker. The requests
for links and codes are the user block's events (`tessera.blocks.user.events`); before this
split they were `notify.sms_code_requested` and `notify.password_reset_requested`, renamed in
undelivered outbox rows by migration `notify_0002`.
"""

from __future__ import annotations

from tessera.lib.tasks import EventPayload, Topic


class MessageQueued(EventPayload):
    notification_id: int
    # Who it is for and what it is (absent in rows written before these fields existed).
    user_id: int | None = None
    channel: str | None = None
    template: str | None = None


MESSAGE_QUEUED = Topic(
    "notify.message_queued", MessageQueued, description="A mail or SMS waits to be sent"
)
