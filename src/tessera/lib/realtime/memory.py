"""`MemoryBroadcaster`: the embedded mode's broker, in this process, with the same semantics as
the Redis one (offsets, epochs, history bounded by count and age, metadata that outlives it).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tessera.lib.realtime.broker import (
    History,
    Position,
    Publication,
    Receiver,
    encode_data,
    new_epoch,
)

SWEEP_EVERY_SECONDS = 60.0


@dataclass(slots=True)
class _Channel:
    epoch: str
    top: int = 0
    touched_at: float = 0.0
    entries: deque[tuple[float, Publication]] = field(default_factory=deque)


class MemoryBroadcaster:
    spans_processes = False

    def __init__(
        self,
        *,
        history_size: int,
        history_ttl_seconds: float,
        meta_ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.history_size = history_size
        self.history_ttl = history_ttl_seconds
        self.meta_ttl = meta_ttl_seconds
        self._clock = clock
        self._channels: dict[str, _Channel] = {}
        self._listening: set[str] = set()
        self._receiver: Receiver | None = None
        self._watchers: dict[str, list[Callable[[bytes], None]]] = {}
        self._next_sweep = clock() + SWEEP_EVERY_SECONDS

    def set_receiver(self, receiver: Receiver) -> None:
        self._receiver = receiver

    def _channel(self, name: str, now: float) -> _Channel:
        channel = self._channels.get(name)
        if channel is None or now - channel.touched_at > self.meta_ttl:
            channel = self._channels[name] = _Channel(epoch=new_epoch(), touched_at=now)
        return channel

    def _trim(self, channel: _Channel, now: float) -> None:
        entries = channel.entries
        while entries and (
            len(entries) > self.history_size or now - entries[0][0] > self.history_ttl
        ):
            entries.popleft()

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_EVERY_SECONDS
        for name, channel in list(self._channels.items()):
            if now - channel.touched_at > self.meta_ttl:
                del self._channels[name]
            else:
                self._trim(channel, now)

    async def publish(self, channel: str, data: Mapping[str, Any] | bytes) -> Position:
        now = self._clock()
        state = self._channel(channel, now)
        state.top += 1
        state.touched_at = now
        publication = Publication(channel, state.top, state.epoch, encode_data(data))
        state.entries.append((now, publication))
        self._trim(state, now)
        self._sweep(now)
        if channel in self._listening and self._receiver is not None:
            self._receiver.on_publication(publication)
        return Position(state.top, state.epoch)

    async def history(self, channel: str, *, since: Position | None = None) -> History:
        now = self._clock()
        state = self._channel(channel, now)
        self._trim(state, now)
        if since is None or since.epoch != state.epoch or since.offset >= state.top:
            return History(state.epoch, state.top)
        kept = tuple(pub for _, pub in state.entries if pub.offset > since.offset)
        return History(state.epoch, state.top, kept)

    def listen(self, channel: str) -> Awaitable[None]:
        self._listening.add(channel)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def unlisten(self, channel: str) -> None:
        self._listening.discard(channel)

    async def watch(self, name: str, callback: Callable[[bytes], None]) -> None:
        self._watchers.setdefault(name, []).append(callback)

    async def announce(self, name: str, payload: bytes) -> None:
        for callback in self._watchers.get(name, ()):
            callback(payload)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._listening.clear()
