"""One WebSocket: who it is, what it listens to, and its bounded outbound queue.

Memory per socket is what caps how many one process holds, so a connection is a slotted
object with no task of its own while idle: frames go into a deque, and a writer task exists
only while that deque is not empty. The deque is bounded in frames and characters; a client
that does not read fast enough is closed (4008) instead of letting the queue grow. (The
transport below buffers at most its high-water mark, 64 KiB, before `send` waits.)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog

from tessera.lib.realtime import metrics
from tessera.lib.realtime.protocol import CLOSE_SLOW_CONSUMER

if TYPE_CHECKING:
    from tessera.lib.realtime.hub import Hub
    from tessera.lib.security import Principal

log = structlog.get_logger("tessera.realtime")

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Subscription:
    """A socket's place in one channel: the last position it was given."""

    __slots__ = ("channel", "connection", "epoch", "offset", "pending", "presence")

    def __init__(self, connection: Connection, channel: str, *, presence: bool) -> None:
        self.connection = connection
        self.channel = channel
        self.offset = 0
        self.epoch = ""
        # Publications that arrive while the subscription reads its history (None after).
        self.pending: list[Any] | None = []
        self.presence = presence

    @property
    def member(self) -> str:
        return f"{self.connection.user_id}:{self.connection.id}"


class Connection:
    __slots__ = (
        "auth_deadline",
        "bad_messages",
        "close_code",
        "closer",
        "closing",
        "expires_at",
        "hub",
        "id",
        "jti",
        "last_ping",
        "last_seen",
        "principal",
        "queue",
        "queued_chars",
        "reauth_sent",
        "send",
        "session_id",
        "subscriptions",
        "user_id",
        "window_count",
        "window_start",
        "writer",
    )

    def __init__(self, hub: Hub, send: Send, *, now: float) -> None:
        self.hub = hub
        self.send = send
        self.id = uuid.uuid4().hex[:16]
        self.principal: Principal | None = None
        self.user_id = 0
        self.session_id = ""
        self.jti = ""
        self.expires_at = 0.0  # wall-clock time the access token expires
        self.reauth_sent = False
        self.subscriptions: dict[str, Subscription] = {}
        self.queue: deque[str] | None = None
        self.queued_chars = 0
        self.writer: asyncio.Task[None] | None = None
        self.closer: asyncio.Task[None] | None = None
        self.closing = False
        self.close_code: int | None = None
        self.last_seen = now
        self.last_ping = now
        self.auth_deadline = now + hub.settings.auth_timeout_seconds
        self.window_start = now
        self.window_count = 0
        self.bad_messages = 0

    @property
    def authenticated(self) -> bool:
        return self.principal is not None

    def enqueue(self, frame: str) -> bool:
        """Queue a frame for this client; False if the socket is closing or was just closed
        for falling behind."""
        if self.closing:
            return False
        queue = self.queue
        if queue is None:
            queue = self.queue = deque()
        queue.append(frame)
        self.queued_chars += len(frame)
        hub = self.hub
        if self.queued_chars > hub.queue_peak_chars:
            hub.queue_peak_chars = self.queued_chars
        limits = hub.settings
        if len(queue) > limits.max_queued_messages or self.queued_chars > limits.max_queued_bytes:
            metrics.LIMITS.labels("slow_consumer").inc()
            self.close(CLOSE_SLOW_CONSUMER, "slow consumer")
            return False
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._write())
        return True

    async def _write(self) -> None:
        queue = self.queue
        try:
            while queue:
                frame = queue[0]
                await self.send({"type": "websocket.send", "text": frame})
                # Popped only once sent: `queued_chars` counts what is still ours to hold.
                if queue and queue[0] is frame:
                    queue.popleft()
                    self.queued_chars -= len(frame)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The peer is gone (uvicorn raises ClientDisconnected); the receive loop ends it.
            self.closing = True
        finally:
            self.writer = None

    def close(self, code: int, reason: str = "", *, flush: bool = False) -> None:
        """Stop delivering, leave every channel and send a close frame (in the background).

        With `flush`, frames already queued (an error explaining the close) go out first."""
        if self.closing:
            return
        self.closing = True
        self.close_code = code
        if not flush:
            if self.queue is not None:
                self.queue.clear()
                self.queued_chars = 0
            writer, self.writer = self.writer, None
            if writer is not None:
                writer.cancel()
        self.hub.detach(self)
        self.closer = asyncio.get_running_loop().create_task(self._send_close(code, reason))

    async def _send_close(self, code: int, reason: str) -> None:
        try:
            async with asyncio.timeout(self.hub.settings.close_timeout_seconds):
                writer = self.writer
                if writer is not None:
                    await asyncio.shield(writer)
                await self.send({"type": "websocket.close", "code": code, "reason": reason[:120]})
        except TimeoutError:
            # A peer that stopped reading never lets the close frame out, and closing the
            # transport would wait for its buffer to drain: abort it (uvicorn's protocol).
            transport = getattr(getattr(self.send, "__self__", None), "transport", None)
            if transport is not None:
                with contextlib.suppress(Exception):
                    transport.abort()
        except Exception as exc:
            log.debug("realtime_close_not_sent", error=repr(exc)[:200])  # already gone
        finally:
            self.closer = None

    def allow_frame(self, now: float) -> bool:
        """Count one inbound frame against the per-second budget."""
        if now - self.window_start >= 1.0:
            self.window_start = now
            self.window_count = 0
        self.window_count += 1
        return self.window_count <= self.hub.settings.max_inbound_per_second

    def expires_in(self) -> int:
        return max(0, int(self.expires_at - time.time()))
