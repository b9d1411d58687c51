"""Signing in and out: registration, password sign-in (with its lock-out), SMS-code sign-in,
refresh-token rotation and logout.

Rotating a refresh token spends it; presenting a spent one revokes its whole family,
including the access tokens issued from it (their session id is marked revoked in Redis).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from tessera.blocks.user import dao
from tessera.blocks.user.events import USER_REGISTERED, UserRegistered
from tessera.blocks.user.model.do import UserDO
from tessera.blocks.user.model.dto import MfaChallengeOut, RegisterIn, TokenPairOut, UserOut
from tessera.blocks.user.service.codes import (
    check_code,
    find_user_id_by_verified_phone,
    parse_phone,
)
from tessera.blocks.user.service.common import (
    DEFAULT_ROLE,
    log,
    raise_if_taken,
    raise_if_weak,
    truncate,
    user_out,
)
from tessera.blocks.user.service.limits import hit, limits_of
from tessera.blocks.user.service.sessions import (
    audit_entry,
    issue_pair,
    methods_for,
    mfa_challenge,
    open_session,
    record_login,
    sign_in_user,
)
from tessera.lib.db import utcnow
from tessera.lib.errors import Conflict, TooManyRequests, Unauthorized
from tessera.lib.ratelimit import LoginGuard
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal, hash_token
from tessera.lib.tasks import publish
from tessera.lib.web import ClientInfo


async def register_user(*, runtime: Runtime, data: RegisterIn, client: ClientInfo) -> UserOut:
    """Create an account. "This email is already registered" is said plainly (sign-in works
    at once, so hiding it would only move the answer to the sign-in), but an address gets
    few such answers (`user.register_conflicts_per_ip`), which makes probing slow."""
    limits = limits_of(runtime)
    await hit(runtime, limits.register, client.ip or "unknown")
    raise_if_weak(data.password, data.username, field="password")
    username_key = data.username.lower()
    email = data.email.lower()
    password_hash = await runtime.passwords.hash(data.password)
    try:
        async with runtime.db.transaction() as uow:
            name_taken, email_taken = await dao.username_or_email_taken(
                uow.session, username_key=username_key, email=email
            )
            if email_taken:
                await hit(runtime, limits.register_conflict, client.ip or "unknown")
            raise_if_taken(name_taken=name_taken, email_taken=email_taken)
            user = UserDO(
                username=data.username,
                username_key=username_key,
                email=email,
                phone=data.phone,
                password_hash=password_hash,
                roles=await dao.roles_by_name(uow.session, [DEFAULT_ROLE]),
            )
            await dao.add_user(uow.session, user)
            out = user_out(user)
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


async def authenticate(
    *, runtime: Runtime, identifier: str, password: str, client: ClientInfo
) -> TokenPairOut | MfaChallengeOut:
    """Password sign-in; unknown users and wrong passwords look the same, in similar time.

    With a second factor enabled, the answer is a short-lived `mfa_token` instead of tokens.
    """
    account = identifier.strip().lower()
    async with runtime.db.read() as session:
        user = await dao.find_user_by_login(session, account)
        user_id = user.id if user else None
        password_hash = user.password_hash if user else None
        is_active = bool(user and user.is_active)

    # The attempt takes its slot before the (slow) password check, so concurrent guesses
    # cannot outrun the count. The budget is the account's, however its name was typed;
    # an unknown name gets one of its own, so lock-outs do not tell which names exist.
    guard = LoginGuard(runtime.ratelimiter, limits_of(runtime).login)
    try:
        attempt = await guard.reserve(
            account_key=f"user:{user_id}" if user_id is not None else f"name:{account}",
            address=client.ip,
        )
    except TooManyRequests:
        await record_login(
            runtime, user_id=user_id, identifier=account, client=client, outcome="rate_limited"
        )
        raise

    if password_hash is None:
        await runtime.passwords.verify_nobody(password)
        ok = False
    else:
        ok = await runtime.passwords.verify(password_hash, password)
    if not ok:
        await attempt.failed()
        await record_login(
            runtime,
            user_id=user_id,
            identifier=account,
            client=client,
            outcome="invalid_credentials",
        )
        raise Unauthorized("Wrong username or password.", code="auth.invalid_credentials")
    assert user_id is not None
    assert password_hash is not None
    await attempt.succeeded()  # the right password: not a failure, whatever follows
    if not is_active:
        await record_login(
            runtime, user_id=user_id, identifier=account, client=client, outcome="inactive"
        )
        raise Unauthorized("This account is disabled.", code="auth.user_inactive")

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
        methods = methods_for(user, first_factor="password")
        pair = None if methods else await open_session(runtime, uow.session, user, client)
        await dao.add_login_audit(
            uow.session,
            audit_entry(
                user_id=user_id,
                identifier=account,
                client=client,
                outcome="mfa_required" if methods else "success",
            ),
        )
    if pair is None:
        return await mfa_challenge(runtime, user_id, methods)
    log.info("login_succeeded", user_id=user_id)
    return pair


async def login_with_sms(
    *, runtime: Runtime, raw_phone: str, code: str, client: ClientInfo
) -> TokenPairOut | MfaChallengeOut:
    """Sign in with a code (purpose `login`) sent to a verified phone."""
    phone = parse_phone(runtime, raw_phone)
    await check_code(runtime, purpose="login", phone=phone, code=code, ip=client.ip)
    user_id = await find_user_id_by_verified_phone(runtime=runtime, phone=phone)
    if user_id is None:
        raise Unauthorized("The code is wrong or expired.", code="auth.invalid_code")
    return await sign_in_user(runtime=runtime, user_id=user_id, client=client, first_factor="sms")


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
            auth_session.user_agent = truncate(client.user_agent, 255)
            pair = await issue_pair(runtime, uow.session, user, auth_session)
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
