"""HTTP endpoints of the user block: `/api/v1/auth/*` (sign-in, tokens, email verification,
SMS codes, password reset), `/api/v1/users/*` (profile, phone, MFA, sessions, administration),
`/api/v1/roles`, `/api/v1/audit/logins`. Each handler validates input, resolves the caller
and calls one service function; errors come back as problem+json through `tessera.lib.errors`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Response, status

from tessera.blocks.user import service
from tessera.blocks.user.model.dto import (
    AdminUpdateUserIn,
    BindPhoneIn,
    ChangePasswordIn,
    ForgotPasswordIn,
    LoginAuditOut,
    LoginIn,
    LogoutIn,
    MfaChallengeOut,
    MfaDisableIn,
    MfaLoginIn,
    MfaSmsIn,
    RecoveryCodesOut,
    RefreshIn,
    RegisterIn,
    ResetPasswordIn,
    RoleOut,
    SessionOut,
    SmsCodeIn,
    SmsLoginIn,
    TokenPairOut,
    TotpConfirmIn,
    TotpSetupOut,
    UpdateMeIn,
    UserOut,
    VerifyEmailIn,
)
from tessera.lib.errors import Unauthorized, problem_responses
from tessera.lib.pagination import Page, Paging
from tessera.lib.runtime import RuntimeDep
from tessera.lib.security import CurrentUser, Principal, require_permission
from tessera.lib.types import PathId, QueryId
from tessera.lib.web import Client

router = APIRouter(prefix="/api/v1")

UserManager = Annotated[Principal, Depends(require_permission("user:manage"))]
AuditReader = Annotated[Principal, Depends(require_permission("audit:read"))]

AUTH_ERRORS = problem_responses(401)
ADMIN_ERRORS = problem_responses(401, 403)
ACCEPTED = status.HTTP_202_ACCEPTED
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.post(
    "/auth/register",
    tags=["auth"],
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 409, 422, 429),
)
async def register(body: RegisterIn, runtime: RuntimeDep, client: Client) -> UserOut:
    """Create a customer account."""
    return await service.register_user(runtime=runtime, data=body, client=client)


@router.post("/auth/login", tags=["auth"], responses=problem_responses(400, 401, 422, 429))
async def login(
    body: LoginIn, runtime: RuntimeDep, client: Client
) -> TokenPairOut | MfaChallengeOut:
    """Sign in with username (or email) and password; returns an access/refresh token pair,
    or `{mfa_required, mfa_token, methods}` when the account has a second factor."""
    return await service.authenticate(
        runtime=runtime, identifier=body.username, password=body.password, client=client
    )


@router.post("/auth/token", tags=["auth"], responses=problem_responses(401, 422, 429))
async def token(
    runtime: RuntimeDep,
    client: Client,
    username: Annotated[str, Form(min_length=1, max_length=254)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
) -> TokenPairOut:
    """OAuth2 password flow (form encoded), for the Authorize button of `/docs`."""
    result = await service.authenticate(
        runtime=runtime, identifier=username, password=password, client=client
    )
    if isinstance(result, MfaChallengeOut):
        raise Unauthorized(
            "This account needs a second factor: use POST /auth/login.", code="auth.mfa_required"
        )
    return result


@router.post("/auth/login/mfa", tags=["auth"], responses=problem_responses(400, 401, 422, 429))
async def login_mfa(body: MfaLoginIn, runtime: RuntimeDep, client: Client) -> TokenPairOut:
    """Finish a sign-in with a second factor: `method` is `totp`, `sms` or `recovery_code`."""
    return await service.complete_mfa_login(
        runtime=runtime, mfa_token=body.mfa_token, code=body.code, method=body.method, client=client
    )


@router.post(
    "/auth/login/mfa/sms",
    tags=["auth"],
    status_code=ACCEPTED,
    response_class=Response,
    response_description="Accepted; the answer has no body",
    responses=problem_responses(400, 401, 422, 429),
)
async def login_mfa_sms(body: MfaSmsIn, runtime: RuntimeDep, client: Client) -> Response:
    """Send the sign-in code by SMS to the account's verified phone."""
    await service.request_mfa_sms(runtime=runtime, mfa_token=body.mfa_token, client=client)
    return Response(status_code=ACCEPTED)


@router.post("/auth/login/sms", tags=["auth"], responses=problem_responses(401, 422, 429))
async def login_sms(
    body: SmsLoginIn, runtime: RuntimeDep, client: Client
) -> TokenPairOut | MfaChallengeOut:
    """Sign in with a code sent to a verified phone (purpose `login`)."""
    return await service.login_with_sms(
        runtime=runtime, raw_phone=body.phone, code=body.code, client=client
    )


@router.post(
    "/auth/sms-code",
    tags=["auth"],
    status_code=ACCEPTED,
    response_class=Response,
    response_description="Accepted; the answer has no body",
    responses=problem_responses(422, 429),
)
async def sms_code(body: SmsCodeIn, runtime: RuntimeDep, client: Client) -> Response:
    """Send a 6-digit code (valid 5 minutes). The answer is 202 whether or not the number
    belongs to an account; 1 per minute and 10 a day per number, and a limit per IP."""
    await service.request_sms_code(
        runtime=runtime, raw_phone=body.phone, purpose=body.purpose, ip=client.ip
    )
    return Response(status_code=ACCEPTED)


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
    response_class=Response,
    response_description="Accepted; the answer has no body",
    responses=problem_responses(401, 409, 429),
)
async def resend_verification(runtime: RuntimeDep, principal: CurrentUser) -> Response:
    """Send the verification link again (once a minute, 10 a day)."""
    await service.resend_verification(runtime=runtime, principal=principal)
    return Response(status_code=ACCEPTED)


@router.post(
    "/auth/password/forgot",
    tags=["auth"],
    status_code=ACCEPTED,
    response_class=Response,
    response_description="Accepted; the answer has no body",
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
    await service.reset_password(runtime=runtime, data=body, ip=client.ip)
    return Response(status_code=NO_CONTENT)


@router.post("/auth/refresh", tags=["auth"], responses=problem_responses(400, 401, 422))
async def refresh(body: RefreshIn, runtime: RuntimeDep, client: Client) -> TokenPairOut:
    """Exchange a refresh token for a new pair; the presented token is spent."""
    return await service.refresh_tokens(
        runtime=runtime, refresh_token=body.refresh_token, client=client
    )


@router.post(
    "/auth/logout",
    tags=["auth"],
    status_code=NO_CONTENT,
    responses=problem_responses(400, 401, 422),
)
async def logout(
    runtime: RuntimeDep, principal: CurrentUser, body: LogoutIn | None = None
) -> Response:
    """Sign out this device: the access token and its refresh family stop working."""
    await service.logout(
        runtime=runtime,
        principal=principal,
        refresh_token=body.refresh_token if body else None,
    )
    return Response(status_code=NO_CONTENT)


@router.get("/users/me", tags=["users"], responses=AUTH_ERRORS)
async def me(runtime: RuntimeDep, principal: CurrentUser) -> UserOut:
    return await service.get_me(runtime=runtime, principal=principal)


@router.patch("/users/me", tags=["users"], responses=problem_responses(400, 401, 422))
async def update_me(body: UpdateMeIn, runtime: RuntimeDep, principal: CurrentUser) -> UserOut:
    return await service.update_me(runtime=runtime, principal=principal, data=body)


@router.post(
    "/users/me/password",
    tags=["users"],
    status_code=NO_CONTENT,
    responses=problem_responses(400, 401, 422),
)
async def change_password(
    body: ChangePasswordIn, runtime: RuntimeDep, principal: CurrentUser
) -> Response:
    """Change the password; every other session is signed out."""
    await service.change_password(runtime=runtime, principal=principal, data=body)
    return Response(status_code=NO_CONTENT)


@router.post("/users/me/phone", tags=["users"], responses=problem_responses(401, 409, 422, 429))
async def bind_phone(
    body: BindPhoneIn, runtime: RuntimeDep, principal: CurrentUser, client: Client
) -> UserOut:
    """Bind a phone proven by a code (purpose `bind_phone`); it becomes verified."""
    return await service.bind_phone(runtime=runtime, principal=principal, data=body, ip=client.ip)


@router.post("/users/me/mfa/totp", tags=["users"], responses=problem_responses(401, 409))
async def begin_totp(runtime: RuntimeDep, principal: CurrentUser) -> TotpSetupOut:
    """A new authenticator secret (and its QR code); confirm it with a code to turn MFA on."""
    return await service.begin_totp(runtime=runtime, principal=principal)


@router.post(
    "/users/me/mfa/totp/confirm", tags=["users"], responses=problem_responses(401, 409, 422, 429)
)
async def confirm_totp(
    body: TotpConfirmIn, runtime: RuntimeDep, principal: CurrentUser
) -> RecoveryCodesOut:
    """Turn two-factor sign-in on; returns 10 single-use recovery codes (shown only once)."""
    return await service.confirm_totp(runtime=runtime, principal=principal, code=body.code)


@router.delete(
    "/users/me/mfa",
    tags=["users"],
    status_code=NO_CONTENT,
    responses=problem_responses(401, 409, 422, 429),
)
async def disable_mfa(body: MfaDisableIn, runtime: RuntimeDep, principal: CurrentUser) -> Response:
    """Turn two-factor sign-in off: needs the password and a current code."""
    await service.disable_mfa(
        runtime=runtime, principal=principal, password=body.password, code=body.code
    )
    return Response(status_code=NO_CONTENT)


@router.get("/users/me/sessions", tags=["users"], responses=AUTH_ERRORS)
async def my_sessions(runtime: RuntimeDep, principal: CurrentUser) -> list[SessionOut]:
    """Devices signed in to this account (one per refresh-token family)."""
    return await service.list_my_sessions(runtime=runtime, principal=principal)


@router.delete(
    "/users/me/sessions/{session_id}",
    tags=["users"],
    status_code=NO_CONTENT,
    responses=problem_responses(401, 404),
)
async def revoke_my_session(
    session_id: str, runtime: RuntimeDep, principal: CurrentUser
) -> Response:
    """Sign that device out."""
    await service.revoke_my_session(runtime=runtime, principal=principal, session_id=session_id)
    return Response(status_code=NO_CONTENT)


@router.get("/users", tags=["admin"], responses=problem_responses(401, 403, 422))
async def list_users(
    runtime: RuntimeDep,
    _: UserManager,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100)] = None,
    role: Annotated[str | None, Query(max_length=32)] = None,
    is_active: bool | None = None,
) -> Page[UserOut]:
    return await service.list_users(
        runtime=runtime, paging=paging, q=q, role=role, is_active=is_active
    )


@router.get("/users/{user_id}", tags=["admin"], responses=problem_responses(401, 403, 404))
async def get_user(user_id: PathId, runtime: RuntimeDep, _: UserManager) -> UserOut:
    return await service.get_user(runtime=runtime, user_id=user_id)


@router.patch(
    "/users/{user_id}", tags=["admin"], responses=problem_responses(400, 401, 403, 404, 409, 422)
)
async def update_user(
    user_id: PathId, body: AdminUpdateUserIn, runtime: RuntimeDep, actor: UserManager
) -> UserOut:
    """Change a user's roles or disable them (their tokens stop working at once)."""
    return await service.admin_update_user(runtime=runtime, actor=actor, user_id=user_id, data=body)


@router.post(
    "/users/{user_id}/logout-all",
    tags=["admin"],
    status_code=NO_CONTENT,
    responses=problem_responses(401, 403, 404),
)
async def logout_all(user_id: PathId, runtime: RuntimeDep, _: UserManager) -> Response:
    """Sign the user out of every device."""
    await service.logout_everywhere(runtime=runtime, user_id=user_id)
    return Response(status_code=NO_CONTENT)


@router.get("/roles", tags=["admin"], responses=ADMIN_ERRORS)
async def list_roles(runtime: RuntimeDep, _: UserManager) -> list[RoleOut]:
    return await service.list_roles(runtime=runtime)


@router.get("/audit/logins", tags=["admin"], responses=problem_responses(401, 403, 422))
async def login_audit(
    runtime: RuntimeDep,
    _: AuditReader,
    paging: Paging,
    user_id: QueryId = None,
    outcome: Literal["success", "invalid_credentials", "inactive", "rate_limited", "mfa_required"]
    | None = None,
) -> Page[LoginAuditOut]:
    """Every sign-in attempt, newest first."""
    return await service.list_login_audit(
        runtime=runtime, paging=paging, user_id=user_id, outcome=outcome
    )
