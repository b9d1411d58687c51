"""Use cases of the user block: registration, sign-in, token rotation, sessions, profile,
administration and the sign-in audit. One function per use case, one transaction each.

Refresh tokens are opaque, stored as SHA-256 and grouped in sessions (families). Rotating one
spends it; presenting a spent one revokes its whole family, including the access tokens issued
from it (their session id is marked revoked in Redis).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.user import dao
from tessera.blocks.user.model.do import AuthSessionDO, LoginAuditDO, RefreshTokenDO, UserDO
from tessera.blocks.user.model.dto import (
    AdminUpdateUserIn,
    ChangePasswordIn,
    LoginAuditOut,
    RegisterIn,
    RoleOut,
    SessionOut,
    TokenPairOut,
    UpdateMeIn,
    UserOut,
)
from tessera.blocks.user.utility import password_problems
from tessera.lib.db import utcnow
from tessera.lib.errors import (
    Conflict,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from tessera.lib.pagination import Page, PageParams
from tessera.lib.ratelimit import Limit
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal, hash_token, new_refresh_token

log = structlog.get_logger("tessera.user")

BLOCK = "user"
DEFAULT_ROLE = "customer"
ADMIN_ROLE = "admin"


@dataclass(frozen=True, slots=True)
class ClientInfo:
    ip: str | None
    user_agent: str | None


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
    )


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

    async def forget(self, user_id: int) -> None:
        await self.runtime.cache.delete(self.cache_key(user_id))


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
) -> TokenPairOut:
    """Password sign-in; unknown users and wrong passwords look the same, in similar time."""
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
        pair = await _open_session(runtime, uow.session, user, client)
        await dao.add_login_audit(
            uow.session,
            LoginAuditDO(
                user_id=user_id,
                identifier=account[:254],
                ip=client.ip,
                user_agent=_truncate(client.user_agent, 255),
                outcome="success",
            ),
        )
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
    return await get_user(runtime=runtime, user_id=principal.id)


async def update_me(*, runtime: Runtime, principal: Principal, data: UpdateMeIn) -> UserOut:
    changes = data.model_dump(exclude_unset=True)
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, principal.id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        for field_name in ("display_name", "phone", "locale"):
            if field_name in changes:
                setattr(user, field_name, changes[field_name])
        await uow.session.flush()
        return _user_out(user)


async def set_avatar_url(*, runtime: Runtime, user_id: int, url: str | None) -> None:
    """Record where the user's avatar is served (called by the file block)."""
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        user.avatar_url = url


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
    problems = password_problems(data.new_password, username=username)
    if data.new_password == data.current_password:
        problems.append("must differ from the current password")
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
    return Page[UserOut](items=items, total=total, page=paging.page, size=paging.size)


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
        uow.after_commit(lambda: _forget_principal(runtime, user_id))
    await runtime.revocations.revoke_sessions(revoked)
    log.info("user_updated_by_admin", user_id=user_id, actor_id=actor.id)
    return out


async def _forget_principal(runtime: Runtime, user_id: int) -> None:
    await runtime.cache.delete(runtime.cache.key(BLOCK, "principal", user_id))


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
    items = [
        LoginAuditOut(
            id=row.id,
            user_id=row.user_id,
            identifier=row.identifier,
            ip=row.ip,
            user_agent=row.user_agent,
            outcome=row.outcome,
            created_at=row.created_at,
        )
        for row in rows
    ]
    return Page[LoginAuditOut](items=items, total=total, page=paging.page, size=paging.size)


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
