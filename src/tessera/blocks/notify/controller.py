"""HTTP endpoints of the notify block: a user's notification settings and the operators'
message log. (Verification, SMS codes and password reset are the user block's endpoints.)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tessera.blocks.notify import service
from tessera.blocks.notify.model.dto import (
    Channel,
    NotificationOut,
    NotificationSettingsIO,
    Status,
)
from tessera.lib.errors import problem_responses
from tessera.lib.pagination import Page, Paging
from tessera.lib.runtime import RuntimeDep
from tessera.lib.security import CurrentUser, Principal, require_permission
from tessera.lib.types import QueryId

router = APIRouter(prefix="/api/v1")

NotifyReader = Annotated[Principal, Depends(require_permission("notify:read"))]


@router.get("/users/me/notification-settings", tags=["users"], responses=problem_responses(401))
async def get_settings(runtime: RuntimeDep, principal: CurrentUser) -> NotificationSettingsIO:
    """Order events delivered by mail and by SMS."""
    return await service.get_notification_settings(runtime=runtime, principal=principal)


@router.put(
    "/users/me/notification-settings", tags=["users"], responses=problem_responses(401, 422)
)
async def put_settings(
    body: NotificationSettingsIO, runtime: RuntimeDep, principal: CurrentUser
) -> NotificationSettingsIO:
    return await service.put_notification_settings(runtime=runtime, principal=principal, data=body)


@router.get("/notifications", tags=["notify"], responses=problem_responses(401, 403, 422))
async def list_notifications(
    runtime: RuntimeDep,
    _: NotifyReader,
    paging: Paging,
    channel: Channel | None = None,
    status: Status | None = None,
    user_id: QueryId = None,
    template: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[NotificationOut]:
    """Every message, newest first, with its delivery state (recipients masked)."""
    return await service.list_notifications(
        runtime=runtime,
        paging=paging,
        channel=channel,
        status=status,
        user_id=user_id,
        template=template,
    )
