"""WebSocket tickets: how a browser opens `/ws` without putting its access token in a URL.

`POST /realtime/tickets` (authenticated as usual) returns a random one-use ticket valid for
`realtime.ticket_ttl_seconds` (30 s). Redis keeps only its SHA-256, mapped to the caller's
user, session and token id, so the socket it opens is revoked with that session or token.
Redemption is GETDEL: a ticket works once, on any instance.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from tessera.blocks.realtime.model.dto import TicketOut
from tessera.lib.errors import Unauthorized
from tessera.lib.runtime import Runtime
from tessera.lib.security import AccessClaims, Principal, hash_token, principal_from_claims

TICKET_PREFIX = "wst_"


def _key(runtime: Runtime, ticket: str) -> str:
    return runtime.cache.key("realtime", "ticket", hash_token(ticket))


async def create_ticket(*, runtime: Runtime, principal: Principal) -> TicketOut:
    ttl = runtime.settings.realtime.ticket_ttl_seconds
    ticket = TICKET_PREFIX + secrets.token_urlsafe(32)
    expires = principal.token_expires_at
    claims = {
        "user_id": principal.id,
        "session_id": principal.session_id,
        "jti": principal.token_jti,
        "expires_at": int(expires.timestamp()) if expires is not None else 0,
    }
    await runtime.redis.set(_key(runtime, ticket), json.dumps(claims), ex=ttl)
    return TicketOut(ticket=ticket, expires_in=ttl)


async def redeem_ticket(*, runtime: Runtime, ticket: str) -> Principal:
    """The principal a ticket was issued to; the ticket is spent whatever happens next."""
    if not ticket.startswith(TICKET_PREFIX) or len(ticket) > 128:
        raise Unauthorized("This is not a WebSocket ticket.", code="auth.invalid_ticket")
    raw = await runtime.redis.getdel(_key(runtime, ticket))
    if raw is None:
        raise Unauthorized(
            "Unknown, used or expired ticket; ask for a new one.", code="auth.invalid_ticket"
        )
    data = json.loads(raw)
    expires_at = datetime.fromtimestamp(int(data["expires_at"]), tz=UTC)
    if expires_at <= datetime.now(UTC):
        raise Unauthorized("The token behind this ticket has expired.", code="auth.token_expired")
    claims = AccessClaims(
        user_id=int(data["user_id"]),
        session_id=str(data["session_id"]),
        jti=str(data["jti"]),
        expires_at=expires_at,
        roles=(),
    )
    return await principal_from_claims(runtime, claims)
