"""A small Python client for Tessera's `/ws` protocol (asyncio, on the `websockets` library).

    client = RealtimeClient("ws://127.0.0.1:8000/ws", token=access_token)
    await client.connect()
    await client.subscribe("user:42")
    async for frame in client:              # {"type": "message", "channel", "offset", ...}
        ...
    # after a disconnect (1012: the server restarts), possibly to another instance:
    await client.resume("ws://other:8000/ws")   # resubscribes with `since`: nothing lost

It answers the server's pings, sends a fresh token when asked (`token_provider`), remembers
each channel's position, and resumes from it. A frame with `recovered: false` (in the
subscribe ack) or a `resync` frame means "reload this channel over REST".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tessera.lib.realtime.broker import Position

Frame = dict[str, Any]


class RealtimeError(Exception):
    """The server answered a request with an error frame."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class Closed(Exception):
    """The socket is closed; `code` and `reason` are the server's close frame."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed with {code} {reason}")
        self.code = code
        self.reason = reason


_END: Frame = {"type": "__closed__"}


class RealtimeClient:
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        ticket: str | None = None,
        token_provider: Callable[[], Awaitable[str]] | None = None,
        request_timeout: float = 10.0,
        **connect_options: Any,
    ) -> None:
        self.url = url
        self.token = token
        self.ticket = ticket
        self.token_provider = token_provider
        self.request_timeout = request_timeout
        self.connect_options = connect_options
        self.positions: dict[str, Position] = {}
        self.subscribed: set[str] = set()
        self.close_code: int | None = None
        self.close_reason = ""
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._inbox: asyncio.Queue[Frame] = asyncio.Queue()
        self._pending: dict[int, asyncio.Future[Frame]] = {}
        self._auth_waiter: asyncio.Future[Frame] | None = None
        self._next_ref = 0

    # --- connecting -----------------------------------------------------------------------

    async def connect(self, url: str | None = None) -> Frame:
        """Open the socket and authenticate (ticket in the URL, or a first `auth` frame)."""
        self.url = url or self.url
        target = self.url
        ticket, self.ticket = self.ticket, None  # one use
        if ticket is not None:
            target += ("&" if "?" in target else "?") + f"ticket={ticket}"
        self.close_code, self.close_reason = None, ""
        self._inbox = asyncio.Queue()
        self._socket = await connect(
            target, compression=None, open_timeout=self.request_timeout, **self.connect_options
        )
        if ticket is not None:
            waiter = self._auth_waiter = asyncio.get_running_loop().create_future()
            self._reader = asyncio.create_task(self._read())
            return await self._wait(waiter)
        self._reader = asyncio.create_task(self._read())
        if self.token is None and self.token_provider is not None:
            self.token = await self.token_provider()
        if self.token is None:
            raise ValueError("a token, a ticket or a token_provider is needed")
        return await self.request({"type": "auth", "token": self.token})

    async def resume(self, url: str | None = None) -> dict[str, Frame]:
        """Reconnect (to `url`, e.g. another instance) and subscribe again to every channel,
        each from its last position. Returns the subscribe acks by channel."""
        await self.close()
        channels = sorted(self.subscribed)
        self.subscribed.clear()
        await self.connect(url)
        return {channel: await self.subscribe(channel) for channel in channels}

    # --- requests ---------------------------------------------------------------------------

    async def subscribe(self, channel: str, *, since: Position | None = None) -> Frame:
        """Subscribe from `since`, else from the remembered position, else from now."""
        position = since or self.positions.get(channel)
        frame: Frame = {"type": "subscribe", "channel": channel}
        if position is not None:
            frame["since"] = {"offset": position.offset, "epoch": position.epoch}
        ack = await self.request(frame)
        self.subscribed.add(channel)
        if ack.get("recovered") is not True:
            self.positions[channel] = Position(int(ack["offset"]), str(ack["epoch"]))
        return ack

    async def unsubscribe(self, channel: str) -> Frame:
        self.subscribed.discard(channel)
        return await self.request({"type": "unsubscribe", "channel": channel})

    async def publish(self, channel: str, data: dict[str, Any]) -> Frame:
        return await self.request({"type": "publish", "channel": channel, "data": data})

    async def request(self, frame: Frame) -> Frame:
        """Send a frame with a fresh `ref` and wait for its ack (or raise its error)."""
        self._next_ref += 1
        ref = self._next_ref
        waiter: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[ref] = waiter
        await self.send({**frame, "ref": ref})
        return await self._wait(waiter)

    async def send(self, frame: Frame) -> None:
        if self._socket is None:
            raise Closed(self.close_code, self.close_reason)
        try:
            await self._socket.send(json.dumps(frame))
        except ConnectionClosed as exc:
            raise Closed(self.close_code, self.close_reason) from exc

    async def send_raw(self, text: str | bytes) -> None:
        """Send anything at all (tests of the server's handling of bad input)."""
        assert self._socket is not None
        await self._socket.send(text)

    async def _wait(self, waiter: asyncio.Future[Frame]) -> Frame:
        async with asyncio.timeout(self.request_timeout):
            return await waiter

    # --- receiving --------------------------------------------------------------------------

    async def next(self, wait_seconds: float | None = None) -> Frame:
        """The next message, resync or unsolicited error frame; raises `Closed` at the end."""
        limit = wait_seconds if wait_seconds is not None else self.request_timeout
        async with asyncio.timeout(limit):
            frame = await self._inbox.get()
        if frame is _END:
            self._inbox.put_nowait(_END)
            raise Closed(self.close_code, self.close_reason)
        return frame

    async def messages(self, count: int, wait_seconds: float | None = None) -> list[Frame]:
        """The next `count` message frames (other frames are skipped)."""
        found: list[Frame] = []
        while len(found) < count:
            frame = await self.next(wait_seconds)
            if frame["type"] == "message":
                found.append(frame)
        return found

    async def wait_closed(self, wait_seconds: float | None = None) -> Closed:
        """Wait for the server to close the socket; returns the close code and reason."""
        with contextlib.suppress(Closed):
            while True:
                await self.next(wait_seconds)
        return Closed(self.close_code, self.close_reason)

    def __aiter__(self) -> AsyncIterator[Frame]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Frame]:
        while True:
            frame = await self._inbox.get()
            if frame is _END:
                self._inbox.put_nowait(_END)
                return
            yield frame

    async def _read(self) -> None:
        socket = self._socket
        assert socket is not None
        try:
            async for raw in socket:
                frame = json.loads(raw)
                await self._route(frame)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = socket.close_code
            self.close_reason = socket.close_reason or ""
            closed = Closed(self.close_code, self.close_reason)
            for waiter in self._pending.values():
                if not waiter.done():
                    waiter.set_exception(closed)
            self._pending.clear()
            auth_waiter = self._auth_waiter
            if auth_waiter is not None and not auth_waiter.done():
                auth_waiter.set_exception(closed)
            self._inbox.put_nowait(_END)

    async def _route(self, frame: Frame) -> None:
        kind = frame.get("type")
        ref = frame.get("ref")
        if kind == "ping":
            await self.send({"type": "pong"})
            return
        if kind == "reauth" and self.token_provider is not None:
            self.token = await self.token_provider()
            await self.send({"type": "auth", "token": self.token})
            return
        if kind == "message" or kind == "resync":
            self.positions[frame["channel"]] = Position(int(frame["offset"]), str(frame["epoch"]))
        if kind == "ack" and frame.get("of") == "auth":
            auth_waiter = self._auth_waiter
            if auth_waiter is not None and not auth_waiter.done():
                auth_waiter.set_result(frame)
                return
        waiter = self._pending.pop(ref, None) if isinstance(ref, int) else None
        if waiter is not None and not waiter.done():
            if kind == "error":
                waiter.set_exception(RealtimeError(frame["code"], frame.get("detail", "")))
            else:
                waiter.set_result(frame)
            return
        if kind != "ack":
            self._inbox.put_nowait(frame)

    async def close(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            await socket.close()
        reader, self._reader = self._reader, None
        if reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def __aenter__(self) -> RealtimeClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
