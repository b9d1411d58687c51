"""How a proven first factor becomes a sign-in, shared by password, SMS and second-factor
sign-in: open a session (refresh family) and issue the token pair, or answer with an MFA
challenge when the account has a second factor; and the sign-in audit.

Refresh tokens are opaque, stored as SHA-256 and grouped in sessions (families); see
`auth.refresh_tokens` for rotation and reuse detection.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.user import dao
from tessera.blocks.user.model.do import AuthSessionDO, LoginAuditDO, RefreshTokenDO, UserDO
from tessera.blocks.user.model.dto import MfaChallengeOut, TokenPairOut
from tessera.blocks.user.service.common import truncate
from tessera.blocks.user.utility import mfa_methods
from tessera.lib.db import utcnow
from tessera.lib.errors import Unauthorized
from tessera.lib.otp import one_time_codes
from tessera.lib.runtime import Runtime
from tessera.lib.security import hash_token, new_refresh_token
from tessera.lib.web import ClientInfo

MFA_TOKEN_PURPOSE = "mfa_login"  # noqa: S105 - a Redis key part, not a secret


def audit_entry(
    *, user_id: int | None, identifier: str, client: ClientInfo, outcome: str
) -> LoginAuditDO:
    return LoginAuditDO(
        user_id=user_id,
        identifier=identifier[:254],
        ip=client.ip,
        user_agent=truncate(client.user_agent, 255),
        outcome=outcome,
    )


async def record_login(
    runtime: Runtime, *, user_id: int | None, identifier: str, client: ClientInfo, outcome: str
) -> None:
    """Audit a sign-in attempt that changes nothing else (its own transaction)."""
    async with runtime.db.transaction() as uow:
        await dao.add_login_audit(
            uow.session,
            audit_entry(user_id=user_id, identifier=identifier, client=client, outcome=outcome),
        )


def methods_for(user: UserDO, *, first_factor: str) -> list[str]:
    return mfa_methods(
        mfa_enabled=user.mfa_enabled_at is not None,
        phone_verified=user.phone_verified_at is not None,
        first_factor=first_factor,
    )


async def mfa_challenge(runtime: Runtime, user_id: int, methods: list[str]) -> MfaChallengeOut:
    ttl = runtime.settings.user.mfa_token_ttl_seconds
    token = await one_time_codes(runtime).issue_token(
        MFA_TOKEN_PURPOSE, {"user_id": user_id, "methods": methods}, ttl_seconds=ttl
    )
    return MfaChallengeOut(mfa_token=token, methods=methods, expires_in=ttl)


async def open_session(
    runtime: Runtime, session: AsyncSession, user: UserDO, client: ClientInfo
) -> TokenPairOut:
    now = utcnow()
    ttl = runtime.settings.security.refresh_token_ttl_seconds
    auth_session = AuthSessionDO(
        id=uuid.uuid4().hex,
        user_id=user.id,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(seconds=ttl),
        ip=client.ip,
        user_agent=truncate(client.user_agent, 255),
    )
    await dao.add_session(session, auth_session)
    return await issue_pair(runtime, session, user, auth_session)


async def issue_pair(
    runtime: Runtime, session: AsyncSession, user: UserDO, auth_session: AuthSessionDO
) -> TokenPairOut:
    now = utcnow()
    refresh = new_refresh_token()
    await dao.add_refresh_token(
        session,
        RefreshTokenDO(
            session_id=auth_session.id,
            token_hash=hash_token(refresh),
            created_at=now,
            expires_at=auth_session.expires_at,
        ),
    )
    access = runtime.tokens.issue_access(
        user_id=user.id,
        session_id=auth_session.id,
        roles=[role.name for role in user.roles],
    )
    return TokenPairOut(
        access_token=access.token,
        refresh_token=refresh,
        expires_in=access.expires_in,
        refresh_expires_in=max(0, int((auth_session.expires_at - now).total_seconds())),
    )


async def sign_in_user(
    *, runtime: Runtime, user_id: int, client: ClientInfo, first_factor: str
) -> TokenPairOut | MfaChallengeOut:
    """Open a session for a user proven by a factor other than the password (an SMS code)."""
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None or not user.is_active:
            raise Unauthorized("This account cannot sign in.", code="auth.user_inactive")
        methods = methods_for(user, first_factor=first_factor)
        pair = None if methods else await open_session(runtime, uow.session, user, client)
        await dao.add_login_audit(
            uow.session,
            audit_entry(
                user_id=user.id,
                identifier=f"{first_factor}:{user.username_key}",
                client=client,
                outcome="mfa_required" if methods else "success",
            ),
        )
    if pair is None:
        return await mfa_challenge(runtime, user_id, methods)
    return pair
