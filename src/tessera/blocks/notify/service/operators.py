"""The operators' message log (`GET /notifications`, permission `notify:read`): every message
with its delivery state, recipients masked."""

from __future__ import annotations

from tessera.blocks.notify import dao
from tessera.blocks.notify.model.do import NotificationDO
from tessera.blocks.notify.model.dto import NotificationOut
from tessera.blocks.notify.utility import mask_recipient
from tessera.lib.pagination import Page, PageParams
from tessera.lib.runtime import Runtime


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
