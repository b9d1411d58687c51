"""The hub: this process's sockets, the channels they listen to, and delivery in order.

Every subscription holds the position (offset, epoch) of the last publication it was given,
and takes only the next one: a duplicate is dropped, a gap or a new epoch sends the channel
into catch-up, which reads the missing publications from the broker's history (or, when the
history no longer reaches back, tells the socket to reload with a `resync` frame). So a
socket never sees a publication twice or out of order, whether it came live, from a replay on
subscribe, or from the gap-filling after Redis's pub/sub connection dropped.

Timers are not per socket: one sweeper visits every socket a few times a second (auth
deadline, heartbeat, idle timeout, token expiry) and a second task refreshes presence.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
import structlog

from tessera.lib.config import RealtimeSettings
from tessera.lib.realtime import metrics
from tessera.lib.realtime.broker import (
    Broadcaster,
    BrokerUnavailable,
    History,
    Position,
    Publication,
)
from tessera.lib.realtime.connection import Connection, Send, Subscription
from tessera.lib.realtime.presence import Presence
from tessera.lib.realtime.protocol import (
    CLOSE_IDLE,
    CLOSE_RESTART,
    CLOSE_UNAUTHORIZED,
    PING_FRAME,
    dumps,
    error_frame,
)

if TYPE_CHECKING:
    from tessera.lib.security import Principal, RevocationNotice, Revocations

log = structlog.get_logger("tessera.realtime")

MAX_CATCH_UP_ROUNDS = 10


@dataclass(eq=False)
class ChannelState:
    name: str
    subscriptions: set[Subscription] = field(default_factory=set)
    listening: asyncio.Future[None] | None = None
    catching_up: bool = False
    backlog: list[Publication] = field(default_factory=list)


class Hub:
    def __init__(
        self,
        *,
        broker: Broadcaster,
        settings: RealtimeSettings,
        presence: Presence,
        prefix: str,
        revocations: Revocations | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.broker = broker
        self.settings = settings
        self.presence = presence
        self.revocations = revocations
        self.kick_channel = f"{prefix}:rt:kick"
        self.clock = clock
        self.connections: dict[str, Connection] = {}
        self.channels: dict[str, ChannelState] = {}
        self._by_session: dict[str, set[Connection]] = {}
        self._by_jti: dict[str, set[Connection]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._started = False
        self._closed = False
        self.queue_peak_chars = 0
        broker.set_receiver(self)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the timers (on the first socket, so a worker process never runs them)."""
        if self._started or self._closed:
            return
        self._started = True
        self._tasks = [
            asyncio.create_task(self._sweep_forever(), name="realtime-sweeper"),
            asyncio.create_task(self._refresh_presence_forever(), name="realtime-presence"),
        ]
        with contextlib.suppress(BrokerUnavailable):
            await self.broker.watch(self.kick_channel, self._on_kick)
        if self.revocations is not None:
            self.revocations.add_listener(self.on_revoked)
            self._tasks.append(
                asyncio.create_task(self._check_revocations_forever(), name="realtime-revoked")
            )
            if self.broker.spans_processes:
                with contextlib.suppress(BrokerUnavailable):
                    await self.broker.watch(
                        self.revocations.announce_channel, self.revocations.receive_announcement
                    )

    async def close(self, code: int = CLOSE_RESTART, reason: str = "server shutting down") -> None:
        """Close every socket (1012: reconnect elsewhere and resume) and stop the timers."""
        self._closed = True
        closers = []
        for connection in list(self.connections.values()):
            connection.close(code, reason)
            if connection.closer is not None:
                closers.append(connection.closer)
        if closers:
            await asyncio.wait(closers, timeout=self.settings.close_timeout_seconds)
        if self.revocations is not None:
            self.revocations.remove_listener(self.on_revoked)
        for task in [*self._tasks, *self._background]:
            task.cancel()
        for task in [*self._tasks, *self._background]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- sockets ---------------------------------------------------------------------------

    @property
    def full(self) -> bool:
        return len(self.connections) >= self.settings.max_connections or self._closed

    def open(self, send: Send) -> Connection:
        connection = Connection(self, send, now=self.clock())
        self.connections[connection.id] = connection
        metrics.CONNECTIONS.inc()
        metrics.CONNECTIONS_OPENED.inc()
        return connection

    async def authenticate(self, connection: Connection, principal: Principal) -> bool:
        """First sign-in of a socket; False when the user already has too many sockets."""
        allowed = await self.presence.claim_connection(
            principal.id, connection.id, self.settings.max_connections_per_user
        )
        if not allowed or connection.closing:
            return False
        self._set_principal(connection, principal)
        return True

    def reauthenticate(self, connection: Connection, principal: Principal) -> None:
        self._unindex(connection)
        self._set_principal(connection, principal)

    def _set_principal(self, connection: Connection, principal: Principal) -> None:
        connection.principal = principal
        connection.user_id = principal.id
        connection.session_id = principal.session_id
        connection.jti = principal.token_jti
        expires = principal.token_expires_at
        connection.expires_at = expires.timestamp() if expires is not None else 0.0
        connection.reauth_sent = False
        self._by_session.setdefault(connection.session_id, set()).add(connection)
        self._by_jti.setdefault(connection.jti, set()).add(connection)

    def _unindex(self, connection: Connection) -> None:
        pairs = ((self._by_session, connection.session_id), (self._by_jti, connection.jti))
        for index, key in pairs:
            members = index.get(key)
            if members is not None:
                members.discard(connection)
                if not members:
                    del index[key]

    def detach(self, connection: Connection) -> None:
        """Take a socket out of every channel and index (it is closing)."""
        for subscription in list(connection.subscriptions.values()):
            self._remove(subscription)
        self._unindex(connection)

    def forget(self, connection: Connection, code: int | None) -> None:
        """The socket's handler has ended."""
        if not connection.closing:
            connection.closing = True
            self.detach(connection)
        if self.connections.pop(connection.id, None) is not None:
            metrics.CONNECTIONS.dec()
            metrics.CLOSES.labels(str(connection.close_code or code or 1006)).inc()
        if connection.authenticated:
            self._spawn(self._release(connection.user_id, connection.id))

    async def _release(self, user_id: int, connection_id: str) -> None:
        with contextlib.suppress(Exception):
            await self.presence.release_connection(user_id, connection_id)

    # --- subscriptions ---------------------------------------------------------------------

    async def subscribe(
        self,
        connection: Connection,
        channel: str,
        *,
        since: Position | None,
        presence: bool,
        ref: str | int | None = None,
    ) -> None:
        """Join a channel: ack (with `recovered` when resuming), the replay, then live
        publications, in order. Raises BrokerUnavailable if Redis cannot be reached."""
        subscription = Subscription(connection, channel, presence=presence)
        state = self.channels.get(channel)
        if state is None:
            state = self.channels[channel] = ChannelState(channel)
            state.listening = asyncio.ensure_future(self.broker.listen(channel))
        assert state.listening is not None
        listening = state.listening
        state.subscriptions.add(subscription)
        connection.subscriptions[channel] = subscription
        metrics.SUBSCRIPTIONS.inc()
        try:
            await asyncio.shield(listening)
            history = await self.broker.history(channel, since=since)
        except BaseException:
            if connection.subscriptions.get(channel) is subscription:
                del connection.subscriptions[channel]
            # The last one out drops the channel, so the next subscriber asks the broker again.
            self._remove(subscription)
            raise
        if connection.closing or connection.subscriptions.get(channel) is not subscription:
            return
        ack: dict[str, Any] = {
            "type": "ack",
            "of": "subscribe",
            "channel": channel,
            "offset": history.top,
            "epoch": history.epoch,
        }
        if ref is not None:
            ack["ref"] = ref
        replay: list[Publication] = []
        if since is not None:
            recovered = history.covers(since)
            ack["recovered"] = recovered
            if recovered:
                replay = history.after(since.offset)
        connection.enqueue(dumps(ack))
        for publication in replay:
            connection.enqueue(publication.frame)
        metrics.FRAMES_OUT.inc(len(replay) + 1)
        subscription.offset, subscription.epoch = history.top, history.epoch
        pending, subscription.pending = subscription.pending or [], None
        gap = False
        for publication in pending:
            if not self._deliver(subscription, publication):
                gap = True
                state.backlog.append(publication)
        if gap:
            self._start_catch_up(state)
        if presence:
            self._spawn(self._join(channel, subscription.member))

    async def _join(self, channel: str, member: str) -> None:
        try:
            await self.presence.join(channel, member)
        except Exception as exc:
            log.warning("realtime_presence_failed", channel=channel, error=repr(exc)[:200])

    def unsubscribe(self, connection: Connection, channel: str) -> bool:
        subscription = connection.subscriptions.pop(channel, None)
        if subscription is None:
            return False
        self._remove(subscription)
        return True

    def _remove(self, subscription: Subscription) -> None:
        connection = subscription.connection
        if connection.subscriptions.get(subscription.channel) is subscription:
            del connection.subscriptions[subscription.channel]
        state = self.channels.get(subscription.channel)
        if state is None or subscription not in state.subscriptions:
            return
        state.subscriptions.discard(subscription)
        metrics.SUBSCRIPTIONS.dec()
        if subscription.presence:
            self._spawn(self._leave(subscription.channel, subscription.member))
        if not state.subscriptions:
            del self.channels[subscription.channel]
            self.broker.unlisten(subscription.channel)

    async def _leave(self, channel: str, member: str) -> None:
        with contextlib.suppress(Exception):
            await self.presence.leave(channel, member)

    # --- delivery --------------------------------------------------------------------------

    def _deliver(self, subscription: Subscription, publication: Publication) -> bool:
        """Give `publication` to one subscription if it is the next one; False on a gap."""
        if subscription.pending is not None:
            subscription.pending.append(publication)
            if len(subscription.pending) > self.settings.max_queued_messages:
                subscription.connection.close(4008, "slow consumer")
            return True
        if publication.epoch == subscription.epoch:
            if publication.offset <= subscription.offset:
                return True  # already had it
            if publication.offset == subscription.offset + 1:
                subscription.offset = publication.offset
                subscription.connection.enqueue(publication.frame)
                return True
        return False

    def on_publication(self, publication: Publication) -> None:
        state = self.channels.get(publication.channel)
        if state is None:
            return
        metrics.PUBLICATIONS.inc()
        if state.catching_up:
            state.backlog.append(publication)
            return
        gap = False
        delivered = 0
        for subscription in list(state.subscriptions):
            if self._deliver(subscription, publication):
                delivered += 1
            else:
                gap = True
        metrics.FRAMES_OUT.inc(delivered)
        if gap:
            state.backlog.append(publication)
            self._start_catch_up(state)

    def on_resubscribed(self) -> None:
        for state in list(self.channels.values()):
            self._start_catch_up(state)

    def _start_catch_up(self, state: ChannelState) -> None:
        if not state.catching_up:
            state.catching_up = True
            self._spawn(self._catch_up(state))

    async def _catch_up(self, state: ChannelState) -> None:
        try:
            for _ in range(MAX_CATCH_UP_ROUNDS):
                ready = [sub for sub in state.subscriptions if sub.pending is None]
                if not ready:
                    state.backlog.clear()
                    return
                base = min(ready, key=lambda sub: sub.offset)
                history = await self._history_until_available(
                    state, Position(base.offset, base.epoch)
                )
                if history is None:
                    return
                metrics.CATCH_UPS.inc()
                for subscription in [sub for sub in state.subscriptions if sub.pending is None]:
                    since = Position(subscription.offset, subscription.epoch)
                    if history.covers(since):
                        for publication in history.after(subscription.offset):
                            self._deliver(subscription, publication)
                    else:
                        self._resync(subscription, history)
                backlog, state.backlog = state.backlog, []
                for publication in backlog:
                    for subscription in list(state.subscriptions):
                        if not self._deliver(subscription, publication):
                            state.backlog.append(publication)
                            break
                if not state.backlog:
                    return
            log.warning("realtime_catch_up_gave_up", channel=state.name)
        finally:
            state.catching_up = False

    async def _history_until_available(
        self, state: ChannelState, since: Position
    ) -> History | None:
        delay = 0.05
        while self.channels.get(state.name) is state and not self._closed:
            try:
                return await self.broker.history(state.name, since=since)
            except BrokerUnavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        return None

    def _resync(self, subscription: Subscription, history: History) -> None:
        metrics.RESYNCS.inc()
        subscription.offset, subscription.epoch = history.top, history.epoch
        subscription.connection.enqueue(
            dumps(
                {
                    "type": "resync",
                    "channel": subscription.channel,
                    "offset": history.top,
                    "epoch": history.epoch,
                }
            )
        )

    # --- revocation ------------------------------------------------------------------------

    def on_revoked(self, notice: RevocationNotice) -> None:
        doomed: dict[str, tuple[Connection, str]] = {}
        for jti in notice.jtis:
            for connection in self._by_jti.get(jti, ()):
                doomed[connection.id] = (connection, "auth.token_revoked")
        for session_id in notice.session_ids:
            for connection in self._by_session.get(session_id, ()):
                doomed[connection.id] = (connection, "auth.session_revoked")
        for connection, reason in doomed.values():
            metrics.REVOKED.inc()
            connection.close(CLOSE_UNAUTHORIZED, reason)

    async def kick(self, user_id: int, channel: str) -> None:
        """End a user's subscriptions to a channel on every instance (lost access)."""
        payload = orjson.dumps({"user_id": user_id, "channel": channel})
        await self.broker.announce(self.kick_channel, payload)

    def _on_kick(self, payload: bytes) -> None:
        try:
            data = orjson.loads(payload)
            user_id, channel = int(data["user_id"]), str(data["channel"])
        except (ValueError, KeyError, TypeError):
            log.warning("realtime_bad_kick")
            return
        state = self.channels.get(channel)
        if state is None:
            return
        for subscription in list(state.subscriptions):
            connection = subscription.connection
            if connection.user_id == user_id:
                self._remove(subscription)
                connection.enqueue(
                    error_frame(
                        "realtime.subscription_ended",
                        "you no longer have access to this channel",
                        channel=channel,
                    )
                )

    async def _check_revocations_forever(self) -> None:
        interval = self.settings.revocation_sweep_interval_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check_revocations()
            except Exception as exc:
                log.warning("realtime_revocation_check_failed", error=repr(exc)[:200])

    async def check_revocations(self) -> None:
        """Close sockets whose token or session was revoked (a lost announcement's net)."""
        revocations = self.revocations
        if revocations is None:
            return
        live = [c for c in self.connections.values() if c.authenticated and not c.closing]
        for start in range(0, len(live), 250):
            batch = live[start : start + 250]
            keys: list[str] = []
            for connection in batch:
                keys.append(revocations.jti_key(connection.jti))
                keys.append(revocations.session_key(connection.session_id))
            marks = await revocations.redis.mget(keys)
            for index, connection in enumerate(batch):
                if marks[2 * index] is not None or marks[2 * index + 1] is not None:
                    metrics.REVOKED.inc()
                    connection.close(CLOSE_UNAUTHORIZED, "auth.session_revoked")

    # --- timers ----------------------------------------------------------------------------

    def _tick_seconds(self) -> float:
        s = self.settings
        return max(
            0.02,
            min(
                1.0,
                s.auth_timeout_seconds / 5,
                s.heartbeat_interval_seconds / 5,
                s.idle_timeout_seconds / 10,
            ),
        )

    async def _sweep_forever(self) -> None:
        tick = self._tick_seconds()
        while True:
            await asyncio.sleep(tick)
            try:
                self.sweep()
            except Exception:
                log.exception("realtime_sweep_failed")

    def sweep(self) -> None:
        now, wall = self.clock(), time.time()
        settings = self.settings
        for connection in list(self.connections.values()):
            if connection.closing:
                continue
            if not connection.authenticated:
                if now >= connection.auth_deadline:
                    metrics.AUTH_FAILURES.labels("auth.timeout").inc()
                    connection.close(CLOSE_UNAUTHORIZED, "auth.timeout")
                continue
            quiet = now - connection.last_seen
            if quiet >= settings.idle_timeout_seconds:
                metrics.LIMITS.labels("idle").inc()
                connection.close(CLOSE_IDLE, "no heartbeat")
                continue
            if (
                quiet >= settings.heartbeat_interval_seconds
                and now - connection.last_ping >= settings.heartbeat_interval_seconds
            ):
                connection.last_ping = now
                connection.enqueue(PING_FRAME)
            if connection.expires_at:
                if wall >= connection.expires_at:
                    metrics.AUTH_FAILURES.labels("auth.token_expired").inc()
                    connection.close(CLOSE_UNAUTHORIZED, "auth.token_expired")
                elif (
                    not connection.reauth_sent
                    and wall >= connection.expires_at - settings.reauth_ahead_seconds
                ):
                    connection.reauth_sent = True
                    connection.enqueue(
                        dumps({"type": "reauth", "expires_in": connection.expires_in()})
                    )

    async def _refresh_presence_forever(self) -> None:
        interval = max(1.0, self.settings.presence_ttl_seconds / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.presence.refresh(self._presence_entries())
            except Exception as exc:
                log.warning("realtime_presence_refresh_failed", error=repr(exc)[:200])

    def _presence_entries(self) -> Iterable[tuple[str, str]]:
        presence = self.presence
        for connection in list(self.connections.values()):
            if connection.closing or not connection.authenticated:
                continue
            yield presence.user_key(connection.user_id), connection.id
            for subscription in connection.subscriptions.values():
                if subscription.presence and subscription.pending is None:
                    yield presence.channel_key(subscription.channel), subscription.member
