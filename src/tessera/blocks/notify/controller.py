"""HTTP endpoints of the notify block: email verification, SMS codes and SMS sign-in, phone
binding, password reset, notification settings and the operators' message log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from tessera.blocks.notify import service
from tessera.blocks.notify.model.dto import (
    BindPhoneIn,
    Channel,
    ForgotPasswordIn,
    NotificationOut,
    NotificationSettingsIO,
    ResetPasswordIn,
    SmsCodeIn,
    SmsLoginIn,
    Status,
    VerifyEmailIn,
)
from tessera.blocks.user.model.dto import MfaChallengeOut, TokenPairOut, UserOut
from tessera.lib.errors import problem_responses
from tessera.lib.pagination import Page, Paging
from tessera.lib.runtime import RuntimeDep
from tessera.lib.security import CurrentUser, Principal, require_permission
from tessera.lib.web import Client

router = APIRouter(prefix="/api/v1")

NotifyReader = Annotated[Principal, Depends(require_permission("notify:read"))]


ACCEPTED = status.HTTP_202_ACCEPTED
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.post(
    "/auth/email/verify",
    tags=["auth"],
    status_code=NO_CONTENT,
    responses=problem_responses(400, 422),
)
async def verify_email(body: VerifyEmailIn, runtime: RuntimeDep) -> Response:
    """Confirm the address with the token from the verification link (single use)."""
    await service.verify_email(runtime=runtime, token=body.token)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/auth/email/resend",
    tags=["auth"],
    status_code=ACCEPTED,
    responses=problem_responses(401, 409, 429),
)
async def resend_verification(runtime: RuntimeDep, principal: CurrentUser) -> Response:
    """Send the verification link again (once a minute, 10 a day)."""
    await service.resend_verification(runtime=runtime, principal=principal)
    return Response(status_code=ACCEPTED)


@router.post(
    "/auth/sms-code", tags=["auth"], status_code=ACCEPTED, responses=problem_responses(422, 429)
)
async def sms_code(body: SmsCodeIn, runtime: RuntimeDep, client: Client) -> Response:
    """Send a 6-digit code (valid 5 minutes). The answer is 202 whether or not the number
    belongs to an account; 1 per minute and 10 a day per number, and a limit per IP."""
    await service.request_sms_code(
        runtime=runtime, raw_phone=body.phone, purpose=body.purpose, ip=client.ip
    )
    return Response(status_code=ACCEPTED)


@router.post("/auth/login/sms", tags=["auth"], responses=problem_responses(401, 422, 429))
async def login_sms(
    body: SmsLoginIn, runtime: RuntimeDep, client: Client
) -> TokenPairOut | MfaChallengeOut:
    """Sign in with a code sent to a verified phone (purpose `login`)."""
    return await service.login_with_sms(
        runtime=runtime, raw_phone=body.phone, code=body.code, client=client
    )


@router.post("/users/me/phone", tags=["users"], responses=problem_responses(401, 409, 422, 429))
async def bind_phone(
    body: BindPhoneIn, runtime: RuntimeDep, principal: CurrentUser, client: Client
) -> UserOut:
    """Bind a phone proven by a code (purpose `bind_phone`); it becomes verified."""
    return await service.bind_phone(
        runtime=runtime, principal=principal, raw_phone=body.phone, code=body.code, ip=client.ip
    )


@router.post(
    "/auth/password/forgot",
    tags=["auth"],
    status_code=ACCEPTED,
    responses=problem_responses(422, 429),
)
async def forgot_password(body: ForgotPasswordIn, runtime: RuntimeDep, client: Client) -> Response:
    """Mail a reset link (single use, 30 minutes). 202 whether or not the address exists."""
    await service.forgot_password(runtime=runtime, email=body.email, ip=client.ip)
    return Response(status_code=ACCEPTED)


@router.post(
    "/auth/password/reset",
    tags=["auth"],
    status_code=NO_CONTENT,
    responses=problem_responses(400, 401, 422, 429),
)
async def reset_password(body: ResetPasswordIn, runtime: RuntimeDep, client: Client) -> Response:
    """Set a new password with the token from the reset link, or with a verified phone and an
    SMS code (purpose `reset_password`); every session of the user is signed out."""
    if body.token is not None:
        await service.reset_password(
            runtime=runtime, token=body.token, new_password=body.new_password
        )
    else:
        assert body.phone is not None
        assert body.code is not None
        await service.reset_password_with_code(
            runtime=runtime,
            raw_phone=body.phone,
            code=body.code,
            new_password=body.new_password,
            ip=client.ip,
        )
    return Response(status_code=NO_CONTENT)


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
    user_id: int | None = None,
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
