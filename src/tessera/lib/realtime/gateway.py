"""The `/ws` endpoint as a raw ASGI app: handshake, authentication, and one loop that reads
client frames and answers them. Nothing a client sends escapes as an exception: a bad frame
is an error frame, repeated bad frames or abuse a close code.

Raw ASGI rather than a FastAPI route: no dependency solving or `WebSocket` wrapper per socket,
which is most of what a connection costs beyond the protocol itself. What the frames mean
(who may read a channel, what publishing to one does, how a token becomes a principal) is
the realtime block's `RealtimeRules`.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs

import structlog
from redis.exceptions import RedisError
from starlette.types import Receive, Scope, Send

from tessera.lib.errors import DomainError
from tessera.lib.realtime import metrics
from tessera.lib.realtime.broker import BrokerUnavailable, Position
from tessera.lib.realtime.connection import Connection
from tessera.lib.realtime.hub import Hub
from tessera.lib.realtime.protocol import (
    CLOSE_BAD_MESSAGES,
    CLOSE_INTERNAL,
    CLOSE_RATE_LIMITED,
    CLOSE_TOO_BIG,
    CLOSE_TOO_MANY_CONNECTIONS,
    CLOSE_TRY_LATER,
    CLOSE_UNAUTHORIZED,
    PONG_FRAME,
    ClientFrame,
    ProtocolError,
    dumps,
    error_frame,
    parse_client_frame,
)
from tessera.lib.runtime import Slot
from tessera.lib.security import Principal

log = structlog.get_logger("tessera.realtime")


@dataclass(frozen=True, slots=True)
class ChannelGrant:
    """What a subscriber gets besides publications."""

    presence: bool = False  # count the subscriber in the channel's presence


class RealtimeRules(Protocol):
    """The realtime block's decisions; each raises a `DomainError` (its code reaches the
    client in an error frame) to refuse."""

    async def authenticate(self, token: str) -> Principal: ...

    async def redeem_ticket(self, ticket: str) -> Principal: ...

    async def authorize(self, principal: Principal, channel: str) -> ChannelGrant: ...

    async def publish(
        self, principal: Principal, channel: str, data: dict[str, Any]
    ) -> dict[str, Any]: ...


class Gateway:
    def __init__(self, hub: Hub, rules: RealtimeRules) -> None:
        self.hub = hub
        self.rules = rules

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        first = await receive()
        if first["type"] != "websocket.connect":
            return
        hub = self.hub
        await hub.start()
        await send({"type": "websocket.accept"})
        if hub.full:
            metrics.LIMITS.labels("process_connections").inc()
            metrics.CLOSES.labels(str(CLOSE_TRY_LATER)).inc()
            await send(
                {"type": "websocket.close", "code": CLOSE_TRY_LATER, "reason": "server full"}
            )
            return
        connection = hub.open(send)
        code: int | None = None
        try:
            ticket = _ticket(scope)
            if ticket is not None:
                await self._authenticate(connection, ticket=ticket)
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    code = int(message.get("code") or 1005)
                    if code == CLOSE_TOO_BIG:  # uvicorn enforces ws_max_size itself
                        metrics.LIMITS.labels("too_big").inc()
                    break
                if not connection.closing:
                    await self._on_frame(connection, message)
        except Exception:
            log.exception("realtime_connection_failed")
            connection.close(CLOSE_INTERNAL, "internal error")
        finally:
            hub.forget(connection, code)

    async def _on_frame(self, connection: Connection, message: MutableMapping[str, Any]) -> None:
        hub = self.hub
        now = hub.clock()
        connection.last_seen = now
        metrics.FRAMES_IN.inc()
        if not connection.allow_frame(now):
            metrics.LIMITS.labels("rate").inc()
            connection.close(CLOSE_RATE_LIMITED, "too many messages per second")
            return
        text = message.get("text")
        if text is None:
            self._bad(connection, ProtocolError("realtime.malformed", "send JSON text frames"))
            return
        if len(text) > hub.settings.max_message_bytes:
            metrics.LIMITS.labels("too_big").inc()
            connection.close(CLOSE_TOO_BIG, "message too big")
            return
        try:
            frame = parse_client_frame(text)
        except ProtocolError as exc:
            self._bad(connection, exc)
            return
        try:
            await self._handle(connection, frame)
        except DomainError as exc:
            self._error(connection, exc.code, exc.detail, channel=frame.channel, ref=frame.ref)
        except (BrokerUnavailable, RedisError, OSError) as exc:
            log.warning("realtime_broker_unavailable", channel=frame.channel, error=repr(exc)[:200])
            self._error(
                connection,
                "realtime.unavailable",
                "real-time delivery is briefly unavailable; try again",
                channel=frame.channel,
                ref=frame.ref,
            )
        except Exception:
            log.exception("realtime_frame_failed", type=frame.type, channel=frame.channel)
            self._error(
                connection,
                "internal_error",
                "an unexpected error occurred",
                channel=frame.channel,
                ref=frame.ref,
            )

    async def _handle(self, connection: Connection, frame: ClientFrame) -> None:
        kind = frame.type
        if kind == "ping":
            connection.enqueue(PONG_FRAME)
            return
        if kind == "pong":
            return
        if kind == "auth":
            assert frame.token is not None
            await self._authenticate(connection, token=frame.token, ref=frame.ref)
            return
        principal = connection.principal
        if principal is None:
            self._bad(
                connection,
                ProtocolError(
                    "auth.required",
                    'authenticate first: {"type":"auth","token":"<access token>"}',
                    ref=frame.ref,
                ),
            )
            return
        channel = frame.channel
        assert channel is not None
        if kind == "subscribe":
            await self._subscribe(connection, principal, frame, channel)
        elif kind == "unsubscribe":
            self.hub.unsubscribe(connection, channel)
            self._ack(connection, "unsubscribe", frame.ref, channel=channel)
        else:
            assert frame.data is not None
            result = await self.rules.publish(principal, channel, frame.data)
            if not connection.closing:
                self._ack(connection, "publish", frame.ref, channel=channel, **result)

    async def _subscribe(
        self, connection: Connection, principal: Principal, frame: ClientFrame, channel: str
    ) -> None:
        if channel in connection.subscriptions:
            raise ProtocolErrorAsDomain(
                "realtime.already_subscribed", f"already subscribed to {channel}"
            )
        if len(connection.subscriptions) >= self.hub.settings.max_subscriptions:
            metrics.LIMITS.labels("subscriptions").inc()
            raise ProtocolErrorAsDomain(
                "realtime.too_many_subscriptions",
                f"at most {self.hub.settings.max_subscriptions} subscriptions per connection",
            )
        grant = await self.rules.authorize(principal, channel)
        if connection.closing or channel in connection.subscriptions:
            return
        since = Position(frame.since.offset, frame.since.epoch) if frame.since else None
        await self.hub.subscribe(
            connection, channel, since=since, presence=grant.presence, ref=frame.ref
        )

    async def _authenticate(
        self,
        connection: Connection,
        *,
        token: str | None = None,
        ticket: str | None = None,
        ref: str | int | None = None,
    ) -> None:
        try:
            if ticket is not None:
                principal = await self.rules.redeem_ticket(ticket)
            else:
                assert token is not None
                principal = await self.rules.authenticate(token)
        except DomainError as exc:
            metrics.AUTH_FAILURES.labels(exc.code).inc()
            self._error(connection, exc.code, exc.detail, ref=ref)
            connection.close(CLOSE_UNAUTHORIZED, exc.code, flush=True)
            return
        if connection.closing:
            return
        if connection.authenticated:
            if principal.id != connection.user_id:
                metrics.AUTH_FAILURES.labels("auth.user_mismatch").inc()
                self._error(
                    connection,
                    "auth.user_mismatch",
                    "a socket stays signed in as one user; open a new one",
                    ref=ref,
                )
                connection.close(CLOSE_UNAUTHORIZED, "auth.user_mismatch", flush=True)
                return
            self.hub.reauthenticate(connection, principal)
        elif not await self.hub.authenticate(connection, principal):
            if not connection.closing:
                metrics.LIMITS.labels("user_connections").inc()
                limit = self.hub.settings.max_connections_per_user
                self._error(
                    connection,
                    "realtime.too_many_connections",
                    f"at most {limit} sockets per user",
                    ref=ref,
                )
                connection.close(CLOSE_TOO_MANY_CONNECTIONS, "too many connections", flush=True)
            return
        self._ack(connection, "auth", ref, user_id=principal.id, expires_in=connection.expires_in())

    def _ack(self, connection: Connection, of: str, ref: str | int | None, **fields: Any) -> None:
        frame: dict[str, Any] = {"type": "ack", "of": of, **fields}
        if ref is not None:
            frame["ref"] = ref
        connection.enqueue(dumps(frame))

    def _error(
        self,
        connection: Connection,
        code: str,
        detail: str,
        *,
        channel: str | None = None,
        ref: str | int | None = None,
    ) -> None:
        metrics.ERRORS.labels(code).inc()
        connection.enqueue(error_frame(code, detail, channel=channel, ref=ref))

    def _bad(self, connection: Connection, error: ProtocolError) -> None:
        connection.bad_messages += 1
        self._error(connection, error.code, error.detail, ref=error.ref)
        if connection.bad_messages >= self.hub.settings.max_bad_messages:
            metrics.LIMITS.labels("bad_messages").inc()
            connection.close(CLOSE_BAD_MESSAGES, "too many bad messages", flush=True)


class ProtocolErrorAsDomain(DomainError):
    """A refusal decided by the gateway itself (sent as an error frame, like a service's)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail, code=code)


def _ticket(scope: Scope) -> str | None:
    query = scope.get("query_string", b"")
    if not query:
        return None
    values = parse_qs(query.decode("latin-1")).get("ticket")
    return values[0] if values else None


GATEWAY: Slot[Gateway] = Slot("realtime.gateway", owner="realtime")


class WebSocketApp:
    """The ASGI app mounted at `/ws`; finds this process's gateway in the runtime."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = scope["app"].state.runtime
        await runtime.slots.get(GATEWAY).serve(scope, receive, send)
