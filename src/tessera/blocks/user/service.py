"""Use cases of the user block: registration, sign-in, token rotation, sessions, profile,
administration and the sign-in audit. One function per use case, one transaction each.

Refresh tokens are opaque, stored as SHA-256 and grouped in sessions (families). Rotating one
spends it; presenting a spent one revokes its whole family, including the access tokens issued
from it (their session id is marked revoked in Redis).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import time
import uuid
from datetime import timedelta

import pyotp
import qrcode  # type: ignore[import-untyped]  # ships no type information
import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.user import dao
from tessera.blocks.user.events import (
    MFA_SMS_REQUESTED,
    USER_REGISTERED,
    MfaSmsRequested,
    UserRegistered,
)
from tessera.blocks.user.model.do import AuthSessionDO, LoginAuditDO, RefreshTokenDO, UserDO
from tessera.blocks.user.model.dto import (
    AdminUpdateUserIn,
    ChangePasswordIn,
    ContactOut,
    LoginAuditOut,
    MfaChallengeOut,
    RecoveryCodesOut,
    RegisterIn,
    RoleOut,
    SessionOut,
    TokenPairOut,
    TotpSetupOut,
    UpdateMeIn,
    UserOut,
)
from tessera.blocks.user.utility import password_problems
from tessera.lib.db import UnitOfWork, utcnow
from tessera.lib.errors import (
    Conflict,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from tessera.lib.otp import hit_sms_limits, one_time_codes, seal, unseal
from tessera.lib.pagination import Page, PageParams
from tessera.lib.ratelimit import Limit
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal, hash_token, new_refresh_token
from tessera.lib.tasks import publish
from tessera.lib.web import ClientInfo

log = structlog.get_logger("tessera.user")

BLOCK = "user"
DEFAULT_ROLE = "customer"
ADMIN_ROLE = "admin"


def _user_out(user: UserDO) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        email=user.email,
        phone=user.phone,
        display_name=user.display_name,
        locale=user.locale,
        roles=[role.name for role in user.roles],
        is_active=user.is_active,
        created_at=user.created_at,
        email_verified=user.email_verified_at is not None,
        phone_verified=user.phone_verified_at is not None,
        mfa_enabled=user.mfa_enabled_at is not None,
        avatar_url=user.avatar_url,
    )


def _principal_of(user: UserDO) -> Principal:
    return Principal(
        id=user.id,
        username=user.username,
        is_active=user.is_active,
        roles=frozenset(role.name for role in user.roles),
        permissions=frozenset(
            permission.code for role in user.roles for permission in role.permissions
        ),
        profile=_user_out(user).model_dump(mode="json"),
    )


def _user_changed(uow: UnitOfWork, runtime: Runtime, user_id: int) -> None:
    """Every use case that changes a user (profile, roles, flags) calls this: the cached
    principal and profile are dropped once the change has committed."""

    async def forget() -> None:
        await runtime.cache.delete(runtime.cache.key(BLOCK, "principal", user_id))

    uow.after_commit(forget)


class UserPrincipals:
    """The user block's `PrincipalSource`: principals cached in Redis, loaded on a miss."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def cache_key(self, user_id: int) -> str:
        return self.runtime.cache.key(BLOCK, "principal", user_id)

    async def load(self, user_id: int) -> Principal | None:
        async def from_db() -> Principal | None:
            async with self.runtime.db.read() as session:
                user = await dao.get_user(session, user_id)
                return None if user is None else _principal_of(user)

        return await self.runtime.cache.get_or_load(
            self.cache_key(user_id),
            from_db,
            encode=lambda principal: principal.to_cache(),
            decode=Principal.from_cache,
            ttl_seconds=self.runtime.settings.security.user_cache_ttl_seconds,
        )


def _truncate(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


# --- registration and sign-in -------------------------------------------------------------


async def register_user(*, runtime: Runtime, data: RegisterIn, client: ClientInfo) -> UserOut:
    limits = runtime.settings.ratelimit
    await runtime.ratelimiter.hit(
        "register",
        client.ip or "unknown",
        Limit(limits.register_per_ip, limits.register_window_seconds),
        code="auth.register_rate_limited",
    )
    username_key = data.username.lower()
    email = data.email.lower()
    password_hash = await runtime.passwords.hash(data.password)
    try:
        async with runtime.db.transaction() as uow:
            name_taken, email_taken = await dao.username_or_email_taken(
                uow.session, username_key=username_key, email=email
            )
            _raise_if_taken(name_taken=name_taken, email_taken=email_taken)
            user = UserDO(
                username=data.username,
                username_key=username_key,
                email=email,
                phone=data.phone,
                password_hash=password_hash,
                roles=await dao.roles_by_name(uow.session, [DEFAULT_ROLE]),
            )
            await dao.add_user(uow.session, user)
            out = _user_out(user)
            # The notify block sends the verification mail from this event.
            await publish(
                uow,
                runtime.events,
                USER_REGISTERED,
                UserRegistered(user_id=user.id, email=email, locale=user.locale),
                aggregate_id=user.id,
            )
    except IntegrityError as exc:
        # Two registrations raced past the check above; the unique index decided.
        raise Conflict("Username or email is already registered.", code="user.exists") from exc
    log.info("user_registered", user_id=out.id)
    return out


def _raise_if_taken(*, name_taken: bool, email_taken: bool) -> None:
    if name_taken:
        raise Conflict("This username is taken.", code="user.username_taken")
    if email_taken:
        raise Conflict("This email is already registered.", code="user.email_taken")


async def _record_login(
    runtime: Runtime, *, user_id: int | None, identifier: str, client: ClientInfo, outcome: str
) -> None:
    async with runtime.db.transaction() as uow:
        await dao.add_login_audit(
            uow.session,
            LoginAuditDO(
                user_id=user_id,
                identifier=identifier[:254],
                ip=client.ip,
                user_agent=_truncate(client.user_agent, 255),
                outcome=outcome,
            ),
        )


async def authenticate(
    *, runtime: Runtime, identifier: str, password: str, client: ClientInfo
) -> TokenPairOut | MfaChallengeOut:
    """Password sign-in; unknown users and wrong passwords look the same, in similar time.

    With a second factor enabled, the answer is a short-lived `mfa_token` instead of tokens.
    """
    limits = runtime.settings.ratelimit
    account = identifier.strip().lower()
    window = limits.login_window_seconds
    subjects = [f"account:{account}", f"ip:{client.ip or 'unknown'}"]
    account_limit = Limit(limits.login_failures_per_account, window)
    ip_limit = Limit(limits.login_failures_per_ip, window)
    try:
        await runtime.ratelimiter.blocked("login", subjects[:1], account_limit, code="auth.locked")
        await runtime.ratelimiter.blocked("login", subjects[1:], ip_limit, code="auth.locked")
    except TooManyRequests:
        await _record_login(
            runtime, user_id=None, identifier=account, client=client, outcome="rate_limited"
        )
        raise

    async with runtime.db.read() as session:
        user = await dao.find_user_by_login(session, account)
        user_id = user.id if user else None
        password_hash = user.password_hash if user else None
        is_active = bool(user and user.is_active)

    if password_hash is None:
        await runtime.passwords.verify_nobody(password)
        ok = False
    else:
        ok = await runtime.passwords.verify(password_hash, password)
    if not ok:
        await runtime.ratelimiter.record_failure("login", subjects[:1], account_limit)
        await runtime.ratelimiter.record_failure("login", subjects[1:], ip_limit)
        await _record_login(
            runtime,
            user_id=user_id,
            identifier=account,
            client=client,
            outcome="invalid_credentials",
        )
        raise Unauthorized("Wrong username or password.", code="auth.invalid_credentials")
    assert user_id is not None
    assert password_hash is not None
    if not is_active:
        await _record_login(
            runtime, user_id=user_id, identifier=account, client=client, outcome="inactive"
        )
        raise Unauthorized("This account is disabled.", code="auth.user_inactive")

    await runtime.ratelimiter.reset("login", subjects[0])
    new_hash = (
        await runtime.passwords.hash(password)
        if runtime.passwords.needs_rehash(password_hash)
        else None
    )
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None:
            raise Unauthorized("Wrong username or password.", code="auth.invalid_credentials")
        if new_hash is not None:
            user.password_hash = new_hash
        methods = _mfa_methods(user, first_factor="password")
        pair = None if methods else await _open_session(runtime, uow.session, user, client)
        await dao.add_login_audit(
            uow.session,
            LoginAuditDO(
                user_id=user_id,
                identifier=account[:254],
                ip=client.ip,
                user_agent=_truncate(client.user_agent, 255),
                outcome="mfa_required" if methods else "success",
            ),
        )
    if pair is None:
        return await _mfa_challenge(runtime, user_id, methods)
    log.info("login_succeeded", user_id=user_id)
    return pair


async def _open_session(
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
        user_agent=_truncate(client.user_agent, 255),
    )
    await dao.add_session(session, auth_session)
    return await _issue_pair(runtime, session, user, auth_session)


async def _issue_pair(
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


async def refresh_tokens(
    *, runtime: Runtime, refresh_token: str, client: ClientInfo
) -> TokenPairOut:
    """Rotate a refresh token. A replayed (already spent) token revokes its whole family."""
    now = utcnow()
    replayed_session: tuple[int, str] | None = None
    async with runtime.db.transaction() as uow:
        found = await dao.find_refresh_token(uow.session, hash_token(refresh_token))
        if found is None:
            raise Unauthorized("Unknown refresh token.", code="auth.invalid_refresh_token")
        token, auth_session = found
        if auth_session.revoked_at is not None:
            raise Unauthorized("This session has been signed out.", code="auth.session_revoked")
        if token.expires_at <= now or auth_session.expires_at <= now:
            raise Unauthorized("The refresh token has expired.", code="auth.refresh_token_expired")
        if token.used_at is not None or not await dao.spend_refresh_token(
            uow.session, token.id, now
        ):
            await dao.revoke_sessions(
                uow.session,
                user_id=auth_session.user_id,
                now=now,
                reason="refresh_reuse",
                only_ids=[auth_session.id],
            )
            replayed_session = (auth_session.user_id, auth_session.id)
        else:
            user = await dao.get_user(uow.session, auth_session.user_id)
            if user is None or not user.is_active:
                raise Unauthorized("This account is disabled.", code="auth.user_inactive")
            auth_session.last_used_at = now
            auth_session.ip = client.ip
            auth_session.user_agent = _truncate(client.user_agent, 255)
            pair = await _issue_pair(runtime, uow.session, user, auth_session)
    if replayed_session is not None:
        # Committed above: the family stays revoked even though this request fails.
        await runtime.revocations.revoke_sessions([replayed_session[1]])
        log.warning(
            "refresh_token_reuse", user_id=replayed_session[0], session_id=replayed_session[1]
        )
        raise Unauthorized(
            "This refresh token was already used; the session has been revoked.",
            code="auth.refresh_token_reused",
        )
    return pair


async def logout(*, runtime: Runtime, principal: Principal, refresh_token: str | None) -> None:
    """Sign out this device: deny the access token and revoke its session (refresh family)."""
    session_ids = [principal.session_id]
    now = utcnow()
    async with runtime.db.transaction() as uow:
        if refresh_token:
            found = await dao.find_refresh_token(uow.session, hash_token(refresh_token))
            if found is not None and found[1].user_id == principal.id:
                session_ids.append(found[1].id)
        revoked = await dao.revoke_sessions(
            uow.session, user_id=principal.id, now=now, reason="logout", only_ids=session_ids
        )
    await runtime.revocations.deny_token(principal.token_jti, principal.token_expires_at)
    await runtime.revocations.revoke_sessions(revoked)


# --- the signed-in user ---------------------------------------------------------------------


async def get_me(*, runtime: Runtime, principal: Principal) -> UserOut:
    if principal.profile is not None:
        return UserOut.model_validate(principal.profile)
    return await get_user(runtime=runtime, user_id=principal.id)


async def update_me(*, runtime: Runtime, principal: Principal, data: UpdateMeIn) -> UserOut:
    changes = data.model_dump(exclude_unset=True)
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, principal.id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        if "phone" in changes and changes["phone"] != user.phone:
            # A new number has not been proven: it needs POST /users/me/phone with a code.
            user.phone_verified_at = None
        for field_name in ("display_name", "phone", "locale"):
            if field_name in changes:
                setattr(user, field_name, changes[field_name])
        await uow.session.flush()
        _user_changed(uow, runtime, user.id)
        return _user_out(user)


async def set_avatar_url(*, runtime: Runtime, user_id: int, url: str | None) -> None:
    """Record where the user's avatar is served (called by the file block)."""
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        user.avatar_url = url
        _user_changed(uow, runtime, user_id)


async def change_password(
    *, runtime: Runtime, principal: Principal, data: ChangePasswordIn
) -> None:
    """New password; every other session of the user is signed out."""
    async with runtime.db.read() as session:
        user = await dao.get_user(session, principal.id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        current_hash, username = user.password_hash, user.username
    if not await runtime.passwords.verify(current_hash, data.current_password):
        raise ValidationFailed(
            "The current password is wrong.",
            code="user.wrong_password",
            errors=[
                {"loc": ["body", "current_password"], "msg": "wrong password", "type": "wrong"}
            ],
        )
    _raise_if_weak(
        data.new_password,
        username,
        also=(
            ["must differ from the current password"]
            if data.new_password == data.current_password
            else []
        ),
    )
    new_hash = await runtime.passwords.hash(data.new_password)
    now = utcnow()
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, principal.id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        user.password_hash = new_hash
        user.password_changed_at = now
        revoked = await dao.revoke_sessions(
            uow.session,
            user_id=principal.id,
            now=now,
            reason="password_changed",
            except_id=principal.session_id,
        )
    await runtime.revocations.revoke_sessions(revoked)


async def list_my_sessions(*, runtime: Runtime, principal: Principal) -> list[SessionOut]:
    async with runtime.db.read() as session:
        rows = await dao.active_sessions(session, principal.id, utcnow())
    return [
        SessionOut(
            id=row.id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            ip=row.ip,
            user_agent=row.user_agent,
            current=row.id == principal.session_id,
        )
        for row in rows
    ]


async def revoke_my_session(*, runtime: Runtime, principal: Principal, session_id: str) -> None:
    async with runtime.db.transaction() as uow:
        revoked = await dao.revoke_sessions(
            uow.session,
            user_id=principal.id,
            now=utcnow(),
            reason="signed_out_by_user",
            only_ids=[session_id],
        )
        if not revoked:
            raise NotFound("No such session.", code="session.not_found")
    await runtime.revocations.revoke_sessions(revoked)


# --- administration --------------------------------------------------------------------------


async def get_user(*, runtime: Runtime, user_id: int) -> UserOut:
    async with runtime.db.read() as session:
        user = await dao.get_user(session, user_id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        return _user_out(user)


async def list_users(
    *,
    runtime: Runtime,
    paging: PageParams,
    q: str | None,
    role: str | None,
    is_active: bool | None,
) -> Page[UserOut]:
    async with runtime.db.read() as session:
        users, total = await dao.search_users(
            session, q=q, role=role, is_active=is_active, offset=paging.offset, limit=paging.size
        )
        items = [_user_out(user) for user in users]
    return Page[UserOut].of(items, total, paging)


async def admin_update_user(
    *, runtime: Runtime, actor: Principal, user_id: int, data: AdminUpdateUserIn
) -> UserOut:
    """Change roles or the active flag; disabling signs the user out everywhere at once."""
    revoked: list[str] = []
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        if data.roles is not None:
            wanted = sorted(set(data.roles))
            roles = await dao.roles_by_name(uow.session, wanted)
            unknown = sorted(set(wanted) - {role.name for role in roles})
            if unknown:
                raise ValidationFailed(
                    f"Unknown roles: {', '.join(unknown)}.",
                    code="user.unknown_role",
                    errors=[
                        {"loc": ["body", "roles"], "msg": f"unknown role {name}", "type": "enum"}
                        for name in unknown
                    ],
                )
            if user.id == actor.id and ADMIN_ROLE not in wanted:
                raise Conflict("You cannot remove your own admin role.", code="user.self_demotion")
            user.roles = roles
        if data.is_active is not None:
            if user.id == actor.id and not data.is_active:
                raise Conflict("You cannot disable your own account.", code="user.self_disable")
            user.is_active = data.is_active
            if not data.is_active:
                revoked = await dao.revoke_sessions(
                    uow.session, user_id=user.id, now=utcnow(), reason="user_disabled"
                )
        await uow.session.flush()
        out = _user_out(user)
        _user_changed(uow, runtime, user_id)
    await runtime.revocations.revoke_sessions(revoked)
    log.info("user_updated_by_admin", user_id=user_id, actor_id=actor.id)
    return out


async def logout_everywhere(*, runtime: Runtime, user_id: int) -> int:
    async with runtime.db.transaction() as uow:
        if await dao.get_user(uow.session, user_id) is None:
            raise NotFound("No such user.", code="user.not_found")
        revoked = await dao.revoke_sessions(
            uow.session, user_id=user_id, now=utcnow(), reason="admin_logout_all"
        )
    await runtime.revocations.revoke_sessions(revoked)
    return len(revoked)


async def list_roles(*, runtime: Runtime) -> list[RoleOut]:
    async with runtime.db.read() as session:
        roles = await dao.list_roles(session)
        return [
            RoleOut(
                name=role.name,
                description=role.description,
                permissions=[permission.code for permission in role.permissions],
            )
            for role in roles
        ]


async def list_login_audit(
    *, runtime: Runtime, paging: PageParams, user_id: int | None, outcome: str | None
) -> Page[LoginAuditOut]:
    async with runtime.db.read() as session:
        rows, total = await dao.search_login_audit(
            session, user_id=user_id, outcome=outcome, offset=paging.offset, limit=paging.size
        )
    items = [LoginAuditOut.model_validate(row, from_attributes=True) for row in rows]
    return Page[LoginAuditOut].of(items, total, paging)


async def create_admin(*, runtime: Runtime, username: str, email: str, password: str) -> UserOut:
    """Operator use case (CLI): an active user holding the admin role."""
    data = RegisterIn(username=username, email=email, password=password)
    password_hash = await runtime.passwords.hash(data.password)
    async with runtime.db.transaction() as uow:
        name_taken, email_taken = await dao.username_or_email_taken(
            uow.session, username_key=data.username.lower(), email=data.email.lower()
        )
        _raise_if_taken(name_taken=name_taken, email_taken=email_taken)
        user = UserDO(
            username=data.username,
            username_key=data.username.lower(),
            email=data.email.lower(),
            password_hash=password_hash,
            roles=await dao.roles_by_name(uow.session, [ADMIN_ROLE]),
        )
        await dao.add_user(uow.session, user)
        return _user_out(user)


# --- verified contacts: used by the notify block --------------------------------------------


def _contact_of(user: UserDO) -> ContactOut:
    return ContactOut(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        email_verified=user.email_verified_at is not None,
        phone=user.phone,
        phone_verified=user.phone_verified_at is not None,
        locale=user.locale,
        is_active=user.is_active,
        mfa_enabled=user.mfa_enabled_at is not None,
    )


async def get_contact(*, runtime: Runtime, user_id: int) -> ContactOut | None:
    async with runtime.db.read() as session:
        user = await dao.get_user(session, user_id)
        return None if user is None else _contact_of(user)


async def find_user_id_by_email(*, runtime: Runtime, email: str) -> int | None:
    async with runtime.db.read() as session:
        user = await dao.find_user_by_email(session, email)
        return user.id if user is not None and user.is_active else None


async def find_user_id_by_verified_phone(*, runtime: Runtime, phone: str) -> int | None:
    """The active user who proved owning `phone` (E.164), if any."""
    async with runtime.db.read() as session:
        user = await dao.find_user_by_verified_phone(session, phone)
        return user.id if user is not None and user.is_active else None


async def mark_email_verified(*, runtime: Runtime, user_id: int, email: str) -> bool:
    """True once `email` is verified; False if the account no longer has that address."""
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None or user.email != email.lower():
            return False
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
            _user_changed(uow, runtime, user_id)
    return True


async def bind_phone(*, runtime: Runtime, user_id: int, phone: str) -> UserOut:
    """Record `phone` (E.164, already proven by a code) as the user's verified number."""
    async with runtime.db.transaction() as uow:
        owner = await dao.find_user_by_verified_phone(uow.session, phone)
        if owner is not None and owner.id != user_id:
            raise Conflict("This phone number belongs to another account.", code="user.phone_taken")
        user = await dao.get_user(uow.session, user_id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        user.phone = phone
        user.phone_verified_at = utcnow()
        await uow.session.flush()
        _user_changed(uow, runtime, user_id)
        return _user_out(user)


async def validate_new_password(
    *, runtime: Runtime, user_id: int | None, new_password: str
) -> None:
    """Raise 422 if `new_password` breaks the policy (for this user, when known), before a
    one-time token or code is spent on it."""
    username = None
    if user_id is not None:
        async with runtime.db.read() as session:
            user = await dao.get_user(session, user_id)
            username = user.username if user is not None else None
    _raise_if_weak(new_password, username)


def _raise_if_weak(new_password: str, username: str | None, also: list[str] | None = None) -> None:
    problems = password_problems(new_password, username=username) + (also or [])
    if problems:
        raise ValidationFailed(
            "The new password is not acceptable.",
            code="user.weak_password",
            errors=[
                {
                    "loc": ["body", "new_password"],
                    "msg": "password " + "; ".join(problems),
                    "type": "value_error",
                }
            ],
        )


async def reset_password(*, runtime: Runtime, user_id: int, new_password: str) -> None:
    """Set a new password (proven by a reset link) and sign the user out everywhere."""
    async with runtime.db.read() as session:
        user = await dao.get_user(session, user_id)
        if user is None or not user.is_active:
            raise NotFound("No such user.", code="user.not_found")
        username = user.username
    _raise_if_weak(new_password, username)
    new_hash = await runtime.passwords.hash(new_password)
    now = utcnow()
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        user.password_hash = new_hash
        user.password_changed_at = now
        revoked = await dao.revoke_sessions(
            uow.session, user_id=user_id, now=now, reason="password_reset"
        )
    await runtime.revocations.revoke_sessions(revoked)
    log.info("password_reset", user_id=user_id, sessions_revoked=len(revoked))


async def sign_in_user(
    *, runtime: Runtime, user_id: int, client: ClientInfo, first_factor: str
) -> TokenPairOut | MfaChallengeOut:
    """Open a session for a user proven by another block (e.g. an SMS code)."""
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None or not user.is_active:
            raise Unauthorized("This account cannot sign in.", code="auth.user_inactive")
        methods = _mfa_methods(user, first_factor=first_factor)
        pair = None if methods else await _open_session(runtime, uow.session, user, client)
        await dao.add_login_audit(
            uow.session,
            LoginAuditDO(
                user_id=user.id,
                identifier=f"{first_factor}:{user.username_key}"[:254],
                ip=client.ip,
                user_agent=_truncate(client.user_agent, 255),
                outcome="mfa_required" if methods else "success",
            ),
        )
    if pair is None:
        return await _mfa_challenge(runtime, user_id, methods)
    return pair


# --- second factor (TOTP, SMS, recovery codes) ----------------------------------------------

TOTP_STEP_SECONDS = 30
TOTP_SEAL = "totp-secret"
RECOVERY_CODE_COUNT = 10
_MFA_TOKEN_PURPOSE = "mfa_login"  # noqa: S105 - a Redis key part, not a secret


def _mfa_methods(user: UserDO, *, first_factor: str) -> list[str]:
    """Second factors the user can use now; empty when no second factor is required."""
    if user.mfa_enabled_at is None:
        return []
    methods = ["totp", "recovery_code"]
    # SMS cannot be both factors of one sign-in.
    if user.phone_verified_at is not None and first_factor != "sms":
        methods.insert(1, "sms")
    return methods


async def _mfa_challenge(runtime: Runtime, user_id: int, methods: list[str]) -> MfaChallengeOut:
    ttl = runtime.settings.notify.mfa_token_ttl_seconds
    token = await one_time_codes(runtime).issue_token(
        _MFA_TOKEN_PURPOSE, {"user_id": user_id, "methods": methods}, ttl_seconds=ttl
    )
    return MfaChallengeOut(mfa_token=token, methods=methods, expires_in=ttl)


def _recovery_hash(code: str) -> str:
    normalized = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(("recovery:" + normalized).encode()).hexdigest()


def _new_recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud, typed by hand
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _totp_counter(secret: str, code: str, now: float) -> int | None:
    """The time step whose code is `code` (±1 step of clock drift), or None."""
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    current = int(now // TOTP_STEP_SECONDS)
    for counter in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code.strip()):
            return counter
    return None


async def _totp_ok(runtime: Runtime, user_id: int, sealed_secret: str, code: str) -> bool:
    counter = _totp_counter(unseal(runtime, TOTP_SEAL, sealed_secret), code, time.time())
    if counter is None:
        return False
    # A code seen once is refused for the rest of its window: no replay of an observed code.
    return await one_time_codes(runtime).first_use(
        f"totp:{user_id}", str(counter), ttl_seconds=TOTP_STEP_SECONDS * 4
    )


async def _second_factor_ok(runtime: Runtime, user: UserDO, method: str, code: str) -> bool:
    if method == "totp":
        return user.mfa_totp_secret is not None and await _totp_ok(
            runtime, user.id, user.mfa_totp_secret, code
        )
    if method == "sms":
        if user.phone is None or user.phone_verified_at is None:
            return False
        check = await one_time_codes(runtime).check_code(
            "mfa", user.phone, code, max_attempts=runtime.settings.notify.code_max_attempts
        )
        return check.ok
    if method == "recovery_code":
        async with runtime.db.transaction() as uow:
            return await dao.use_recovery_code(uow.session, user.id, _recovery_hash(code), utcnow())
    return False


async def complete_mfa_login(
    *, runtime: Runtime, mfa_token: str, code: str, method: str, client: ClientInfo
) -> TokenPairOut:
    """Second step of a sign-in: the `mfa_token` from step one plus a current code."""
    store = one_time_codes(runtime)
    data = await store.peek_token(_MFA_TOKEN_PURPOSE, mfa_token)
    if data is None:
        raise Unauthorized("The sign-in has expired; start again.", code="auth.mfa_token_invalid")
    if method not in data["methods"]:
        raise ValidationFailed(
            f"Method {method} is not available for this account.",
            code="auth.mfa_method_unavailable",
            errors=[{"loc": ["body", "method"], "msg": "not available", "type": "enum"}],
        )
    user_id = int(data["user_id"])
    settings = runtime.settings.notify
    await runtime.ratelimiter.hit(
        "mfa_login",
        hash_token(mfa_token),
        Limit(settings.mfa_max_attempts, settings.mfa_token_ttl_seconds),
        code="auth.mfa_rate_limited",
    )
    # Per user too: fresh mfa_tokens (new password sign-ins) must not reset the budget.
    await runtime.ratelimiter.hit(
        "mfa_user",
        str(user_id),
        Limit(settings.mfa_max_attempts * 4, 3600),
        code="auth.mfa_rate_limited",
    )
    async with runtime.db.read() as session:
        user = await dao.get_user(session, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("This account cannot sign in.", code="auth.user_inactive")
    if not await _second_factor_ok(runtime, user, method, code):
        await _record_login(
            runtime,
            user_id=user_id,
            identifier=user.username_key,
            client=client,
            outcome="invalid_credentials",
        )
        raise Unauthorized("The code is wrong or expired.", code="auth.invalid_mfa_code")
    if await store.consume_token(_MFA_TOKEN_PURPOSE, mfa_token) is None:
        raise Unauthorized("The sign-in has expired; start again.", code="auth.mfa_token_invalid")
    async with runtime.db.transaction() as uow:
        fresh = await dao.get_user(uow.session, user_id)
        if fresh is None or not fresh.is_active:
            raise Unauthorized("This account cannot sign in.", code="auth.user_inactive")
        pair = await _open_session(runtime, uow.session, fresh, client)
        await dao.add_login_audit(
            uow.session,
            LoginAuditDO(
                user_id=user_id,
                identifier=fresh.username_key,
                ip=client.ip,
                user_agent=_truncate(client.user_agent, 255),
                outcome="success",
            ),
        )
    log.info("login_succeeded", user_id=user_id, second_factor=method)
    return pair


async def request_mfa_sms(*, runtime: Runtime, mfa_token: str, client: ClientInfo) -> None:
    """Ask for a sign-in code by SMS; the notify block sends it (event user.mfa_sms_requested)."""
    data = await one_time_codes(runtime).peek_token(_MFA_TOKEN_PURPOSE, mfa_token)
    if data is None:
        raise Unauthorized("The sign-in has expired; start again.", code="auth.mfa_token_invalid")
    if "sms" not in data["methods"]:
        raise ValidationFailed(
            "SMS is not available for this account.",
            code="auth.mfa_method_unavailable",
            errors=[{"loc": ["body", "mfa_token"], "msg": "no verified phone", "type": "value"}],
        )
    user_id = int(data["user_id"])
    contact = await get_contact(runtime=runtime, user_id=user_id)
    if contact is None or contact.phone is None:
        raise Unauthorized("This account cannot sign in.", code="auth.user_inactive")
    await hit_sms_limits(runtime, phone=contact.phone, ip=client.ip)
    async with runtime.db.transaction() as uow:
        await publish(
            uow,
            runtime.events,
            MFA_SMS_REQUESTED,
            MfaSmsRequested(user_id=user_id, phone=contact.phone, locale=contact.locale),
            aggregate_id=user_id,
        )


async def begin_totp(*, runtime: Runtime, principal: Principal) -> TotpSetupOut:
    """A new TOTP secret to scan; it protects sign-ins once confirmed with a code."""
    secret = pyotp.random_base32()
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, principal.id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        if user.mfa_enabled_at is not None:
            raise Conflict(
                "Two-factor sign-in is already on; turn it off first.", code="user.mfa_enabled"
            )
        # Stored encrypted: a leaked database must not hand out working second factors.
        user.mfa_totp_secret = seal(runtime, TOTP_SEAL, secret)
        label = user.email
    uri = pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name="Tessera")
    image = qrcode.make(uri)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return TotpSetupOut(
        secret=secret,
        otpauth_uri=uri,
        qr_png_base64=base64.b64encode(buffer.getvalue()).decode(),
    )


async def confirm_totp(*, runtime: Runtime, principal: Principal, code: str) -> RecoveryCodesOut:
    """Turn MFA on with a first code from the authenticator; returns the recovery codes."""
    await runtime.ratelimiter.hit(
        "mfa_confirm", str(principal.id), Limit(10, 900), code="auth.mfa_rate_limited"
    )
    async with runtime.db.read() as session:
        user = await dao.get_user(session, principal.id)
    if user is None:
        raise NotFound("No such user.", code="user.not_found")
    if user.mfa_enabled_at is not None:
        raise Conflict("Two-factor sign-in is already on.", code="user.mfa_enabled")
    if user.mfa_totp_secret is None:
        raise Conflict("Start with POST /users/me/mfa/totp.", code="user.mfa_not_started")
    if not await _totp_ok(runtime, user.id, user.mfa_totp_secret, code):
        raise ValidationFailed(
            "The code is wrong.",
            code="auth.invalid_mfa_code",
            errors=[{"loc": ["body", "code"], "msg": "wrong code", "type": "wrong"}],
        )
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    async with runtime.db.transaction() as uow:
        fresh = await dao.get_user(uow.session, principal.id)
        if fresh is None:
            raise NotFound("No such user.", code="user.not_found")
        fresh.mfa_enabled_at = utcnow()
        _user_changed(uow, runtime, fresh.id)
        await dao.replace_recovery_codes(
            uow.session, fresh.id, [_recovery_hash(value) for value in codes]
        )
    log.info("mfa_enabled", user_id=principal.id)
    return RecoveryCodesOut(recovery_codes=codes)


async def disable_mfa(*, runtime: Runtime, principal: Principal, password: str, code: str) -> None:
    """Turn MFA off: needs the password and a current TOTP (or recovery) code."""
    await runtime.ratelimiter.hit(
        "mfa_disable", str(principal.id), Limit(10, 900), code="auth.mfa_rate_limited"
    )
    async with runtime.db.read() as session:
        user = await dao.get_user(session, principal.id)
    if user is None:
        raise NotFound("No such user.", code="user.not_found")
    if user.mfa_enabled_at is None:
        raise Conflict("Two-factor sign-in is not on.", code="user.mfa_not_enabled")
    if not await runtime.passwords.verify(user.password_hash, password):
        raise ValidationFailed(
            "The password is wrong.",
            code="user.wrong_password",
            errors=[{"loc": ["body", "password"], "msg": "wrong password", "type": "wrong"}],
        )
    method = "recovery_code" if "-" in code or len(code.strip()) > 6 else "totp"
    if not await _second_factor_ok(runtime, user, method, code):
        raise ValidationFailed(
            "The code is wrong.",
            code="auth.invalid_mfa_code",
            errors=[{"loc": ["body", "code"], "msg": "wrong code", "type": "wrong"}],
        )
    async with runtime.db.transaction() as uow:
        fresh = await dao.get_user(uow.session, principal.id)
        if fresh is None:
            raise NotFound("No such user.", code="user.not_found")
        fresh.mfa_enabled_at = None
        fresh.mfa_totp_secret = None
        _user_changed(uow, runtime, fresh.id)
        await dao.replace_recovery_codes(uow.session, fresh.id, [])
    log.info("mfa_disabled", user_id=principal.id)
