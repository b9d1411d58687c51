"""Passwords (argon2id), access tokens (JWT with a pinned algorithm), refresh-token material,
and the `CurrentUser` / `require_permission(...)` dependencies every block uses.

Verifying a request costs one JWT check and one Redis round trip: the token's denylist entry,
its session's revocation mark and the cached principal are fetched together. The user block
supplies the `PrincipalSource` that loads a principal on a cache miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Protocol

import anyio
import jwt
import structlog
from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from tessera.lib.cache import KeySpace
from tessera.lib.config import Settings
from tessera.lib.db import utcnow
from tessera.lib.errors import Forbidden, Unauthorized

log = structlog.get_logger("tessera.security")

REFRESH_TOKEN_PREFIX = "tsr_"  # noqa: S105 - a marker, not a secret


class PasswordHasher:
    """argon2id hashing run off the event loop, with bounded parallelism (it is memory-hard)."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        self._limiter = anyio.CapacityLimiter(max(2, os.cpu_count() or 2))
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password, limiter=self._limiter)

    async def verify(self, password_hash: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await anyio.to_thread.run_sync(check, limiter=self._limiter)

    async def verify_nobody(self, password: str) -> None:
        """Spend the time of a real check so unknown users answer as slowly as known ones."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def hash_token(token: str) -> str:
    """Refresh tokens and other bearer secrets are stored only as their SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> str:
    return REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: str
    jti: str
    expires_at: datetime
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime
    expires_in: int


class TokenService:
    def __init__(self, settings: Settings) -> None:
        sec = settings.security
        self.algorithm = sec.jwt_algorithm
        self.issuer = sec.jwt_issuer
        self.audience = sec.jwt_audience
        self.access_ttl_seconds = sec.access_token_ttl_seconds
        self.key_id = sec.jwt_key_id
        self._signing_key: Any
        self._verify_key: Any
        if self.algorithm.startswith("HS"):
            self._signing_key = self._verify_key = settings.jwt_signing_secret
        else:
            if sec.jwt_private_key_file is None or sec.jwt_public_key_file is None:
                raise ValueError(
                    f"{self.algorithm} needs jwt_private_key_file and jwt_public_key_file"
                )
            self._signing_key = Path(sec.jwt_private_key_file).read_bytes()
            self._verify_key = Path(sec.jwt_public_key_file).read_bytes()

    def issue_access(self, *, user_id: int, session_id: str, roles: list[str]) -> IssuedToken:
        now = utcnow()
        expires_at = now + timedelta(seconds=self.access_ttl_seconds)
        jti = uuid.uuid4().hex
        claims = {
            "sub": str(user_id),
            "jti": jti,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "iss": self.issuer,
            "aud": self.audience,
            "typ": "access",
            "sid": session_id,
            "roles": roles,
        }
        headers = {"kid": self.key_id} if self.key_id else None
        token = jwt.encode(claims, self._signing_key, algorithm=self.algorithm, headers=headers)
        return IssuedToken(token, jti, expires_at, self.access_ttl_seconds)

    def decode_access(self, token: str) -> AccessClaims:
        if token.startswith(REFRESH_TOKEN_PREFIX):
            raise Unauthorized(
                "A refresh token cannot be used as an access token.", code="auth.wrong_token_type"
            )
        try:
            # The algorithm is pinned by configuration; the token's own `alg` (none, HS512,
            # an HMAC over a public key...) is refused by PyJWT before any verification.
            claims = jwt.decode(
                token,
                self._verify_key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["sub", "jti", "iat", "exp", "iss", "aud", "typ", "sid"]},
            )
        except jwt.InvalidAlgorithmError as exc:
            raise Unauthorized(
                "The token's signing algorithm is not accepted.", code="auth.algorithm_not_allowed"
            ) from exc
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.", code="auth.token_expired") from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthorized(
                "The token's signature is invalid.", code="auth.invalid_signature"
            ) from exc
        except jwt.DecodeError as exc:
            raise Unauthorized("The token is malformed.", code="auth.malformed_token") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("The token is not valid here.", code="auth.invalid_token") from exc
        if claims.get("typ") != "access":
            raise Unauthorized("This is not an access token.", code="auth.wrong_token_type")
        try:
            user_id = int(claims["sub"])
        except (TypeError, ValueError) as exc:
            raise Unauthorized("The token is not valid here.", code="auth.invalid_token") from exc
        return AccessClaims(
            user_id=user_id,
            session_id=str(claims["sid"]),
            jti=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=utcnow().tzinfo),
            roles=tuple(str(role) for role in claims.get("roles", [])),
        )


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: enough to authorize without touching the database."""

    id: int
    username: str
    is_active: bool
    roles: frozenset[str]
    permissions: frozenset[str]
    session_id: str = ""
    token_jti: str = ""
    token_expires_at: datetime | None = field(default=None, compare=False)
    # The user's public profile (the user block's UserOut as JSON), cached with the principal
    # so that `GET /users/me` costs the same single Redis round trip as authentication.
    profile: dict[str, Any] | None = field(default=None, compare=False)

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    def to_cache(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "is_active": self.is_active,
            "roles": sorted(self.roles),
            "permissions": sorted(self.permissions),
            "profile": self.profile,
        }

    @classmethod
    def from_cache(cls, data: dict[str, Any]) -> Principal:
        return cls(
            id=int(data["id"]),
            username=str(data["username"]),
            is_active=bool(data["is_active"]),
            roles=frozenset(data["roles"]),
            permissions=frozenset(data["permissions"]),
            profile=data.get("profile"),
        )

    def with_token(self, claims: AccessClaims) -> Principal:
        return replace(
            self,
            session_id=claims.session_id,
            token_jti=claims.jti,
            token_expires_at=claims.expires_at,
        )


class PrincipalSource(Protocol):
    """Implemented by the user block: where principals come from on a cache miss."""

    def cache_key(self, user_id: int) -> str: ...

    async def load(self, user_id: int) -> Principal | None: ...

    async def session_active(self, session_id: str, user_id: int) -> bool:
        """What the database says of a session: not revoked, not expired, this user's."""
        ...


SESSION_ACTIVE = b"active"
SESSION_REVOKED = b"revoked"


@dataclass(frozen=True, slots=True)
class RevocationNotice:
    """Announced when tokens or sessions are revoked, so open sockets can close at once."""

    jtis: tuple[str, ...] = ()
    session_ids: tuple[str, ...] = ()


RevocationListener = Callable[[RevocationNotice], None]


class Revocations:
    """Redis as a cache of what the database says about sessions, plus the denylist of
    signed-out access tokens.

    Every revocation is also announced: to listeners in this process at once, and on the
    Redis pub/sub channel `announce_channel` for other instances (the realtime block closes
    the sockets signed in with a revoked token or session). Marks are written first, so a
    listener that re-checks them agrees with the announcement.

    The database decides: `auth_session.revoked_at` (logout, revoked devices, password
    change, disabled accounts, a reused refresh token) is the record. Redis holds each
    session's state for a short while (`security.session_cache_ttl_seconds` when active;
    until its tokens expire when revoked); a miss, such as after Redis restarted empty, asks
    the database again, so nothing signed out comes back.
    """

    def __init__(
        self, redis: Any, keys: KeySpace, access_ttl_seconds: int, active_ttl_seconds: int = 60
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl = access_ttl_seconds
        self.active_ttl = active_ttl_seconds
        self._listeners: list[RevocationListener] = []

    @property
    def announce_channel(self) -> str:
        return f"{self.keys.prefix}:auth:revoked"

    def jti_key(self, jti: str) -> str:
        return f"{self.keys.prefix}:auth:denied_jti:{jti}"

    def session_key(self, session_id: str) -> str:
        return f"{self.keys.prefix}:auth:session:{session_id}"

    async def remember_session(self, session_id: str, *, active: bool) -> None:
        await self.redis.set(
            self.session_key(session_id),
            SESSION_ACTIVE if active else SESSION_REVOKED,
            ex=self.active_ttl if active else self.ttl + 5,
        )

    async def deny_token(self, jti: str, expires_at: datetime | None) -> None:
        remaining = self.ttl
        if expires_at is not None:
            remaining = max(1, int((expires_at - utcnow()).total_seconds()) + 1)
        await self.redis.set(self.jti_key(jti), b"1", ex=remaining)
        await self._announce(RevocationNotice(jtis=(jti,)))

    async def revoke_sessions(self, session_ids: list[str]) -> None:
        # An access token lives at most `ttl` seconds, so the mark may expire with it.
        if not session_ids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.set(self.session_key(session_id), SESSION_REVOKED, ex=self.ttl + 5)
            await pipe.execute()
        await self._announce(RevocationNotice(session_ids=tuple(session_ids)))

    def add_listener(self, listener: RevocationListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: RevocationListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def _announce(self, notice: RevocationNotice) -> None:
        self._notify(notice)
        payload = json.dumps({"jtis": list(notice.jtis), "sessions": list(notice.session_ids)})
        try:
            await self.redis.publish(self.announce_channel, payload)
        except Exception as exc:
            # The marks are written; other instances also re-check them periodically.
            log.warning("revocation_announce_failed", error=repr(exc)[:200])

    def receive_announcement(self, payload: bytes) -> None:
        """An announcement from another instance (or this one, echoed by Redis)."""
        try:
            data = json.loads(payload)
            notice = RevocationNotice(
                jtis=tuple(str(jti) for jti in data.get("jtis", [])),
                session_ids=tuple(str(sid) for sid in data.get("sessions", [])),
            )
        except (ValueError, TypeError, AttributeError):
            log.warning("revocation_announcement_unreadable")
            return
        self._notify(notice)

    def _notify(self, notice: RevocationNotice) -> None:
        for listener in list(self._listeners):
            try:
                listener(notice)
            except Exception:
                log.exception("revocation_listener_failed")


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def _runtime(request: Request) -> Any:
    return request.app.state.runtime


async def principal_from_claims(runtime: Any, claims: AccessClaims) -> Principal:
    """The principal behind verified claims, unless the token, its session or the account was
    revoked or disabled meanwhile: one Redis round trip (plus a load on a cache miss)."""
    revocations: Revocations = runtime.revocations
    source: PrincipalSource = runtime.principal_source
    denied, session_state, cached = await runtime.redis.mget(
        revocations.jti_key(claims.jti),
        revocations.session_key(claims.session_id),
        source.cache_key(claims.user_id),
    )
    if denied is not None:
        raise Unauthorized("The token has been revoked.", code="auth.token_revoked")
    if session_state is None:
        # Not cached (new, expired from the cache, or Redis lost it): the database decides.
        active = await source.session_active(claims.session_id, claims.user_id)
        await revocations.remember_session(claims.session_id, active=active)
        session_state = SESSION_ACTIVE if active else SESSION_REVOKED
    if session_state != SESSION_ACTIVE:
        raise Unauthorized("This session has been signed out.", code="auth.session_revoked")
    principal = (
        Principal.from_cache(json.loads(cached))
        if cached is not None
        else await source.load(claims.user_id)
    )
    if principal is None:
        raise Unauthorized("The token's user no longer exists.", code="auth.user_not_found")
    if not principal.is_active:
        raise Unauthorized("This account is disabled.", code="auth.user_inactive")
    return principal.with_token(claims)


async def principal_from_token(runtime: Any, token: str) -> Principal:
    """Verify an access token (HTTP header or WebSocket auth frame) and load its principal."""
    return await principal_from_claims(runtime, runtime.tokens.decode_access(token))


async def current_principal(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise Unauthorized("A bearer token is required.", code="auth.missing_token")
    principal = await principal_from_token(_runtime(request), token)
    request.scope.setdefault("state", {})["user_id"] = principal.id
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


async def optional_principal(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal | None:
    """For public endpoints that show more to signed-in staff; a bad token is still a 401."""
    if not token:
        return None
    return await current_principal(request, token)


OptionalUser = Annotated[Principal | None, Depends(optional_principal)]


def require_permission(permission: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller must hold `permission` (403 otherwise)."""

    async def dependency(principal: CurrentUser) -> Principal:
        if not principal.has(permission):
            raise Forbidden(f"Missing permission {permission}.", code="auth.permission_denied")
        return principal

    dependency.__name__ = f"require_{permission.replace(':', '_')}"
    return dependency
