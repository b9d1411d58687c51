"""The `Broadcaster` protocol: publish to a channel, read its recent history, and receive
every publication of the channels this process listens to.

Every publication gets a position: an `offset` that grows by one per channel, and an `epoch`
that names the history it belongs to. A new epoch means the history was lost (Redis
restarted, or the channel was idle past its metadata TTL): positions of the old epoch can no
longer be resumed. Two implementations share these semantics: `RedisBroadcaster` (Streams +
pub/sub, across instances) and `MemoryBroadcaster` (embedded mode, one process).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from tessera.lib.realtime.protocol import message_frame


class BrokerUnavailable(Exception):
    """The broker (Redis) cannot be reached right now; the caller may retry."""


def new_epoch() -> str:
    return secrets.token_hex(4)


def encode_data(data: Mapping[str, Any] | bytes) -> bytes:
    return data if isinstance(data, bytes) else orjson.dumps(data)


@dataclass(frozen=True, slots=True)
class Position:
    offset: int
    epoch: str


@dataclass(slots=True)
class Publication:
    channel: str
    offset: int
    epoch: str
    data: bytes  # JSON
    _frame: str | None = field(default=None, repr=False)

    @property
    def frame(self) -> str:
        """The client frame, built on first use and shared by every subscriber."""
        if self._frame is None:
            self._frame = message_frame(self.channel, self.offset, self.epoch, self.data)
        return self._frame


@dataclass(frozen=True, slots=True)
class History:
    """A channel's current position and the newest publications still kept (oldest first,
    contiguous offsets ending at `top`), from just after the position asked for at most."""

    epoch: str
    top: int
    publications: tuple[Publication, ...] = ()

    @property
    def position(self) -> Position:
        return Position(self.top, self.epoch)

    def covers(self, since: Position) -> bool:
        """True when everything after `since` up to `top` is in `publications`."""
        if since.epoch != self.epoch or since.offset > self.top:
            return False
        if since.offset == self.top:
            return True
        return bool(self.publications) and self.publications[0].offset <= since.offset + 1

    def after(self, offset: int) -> list[Publication]:
        return [publication for publication in self.publications if publication.offset > offset]


class Receiver(Protocol):
    """Where a broker hands what it receives (the hub)."""

    def on_publication(self, publication: Publication) -> None: ...

    def on_resubscribed(self) -> None:
        """The fan-out connection was lost and is back: publications may have been missed."""


class Broadcaster(Protocol):
    spans_processes: bool

    def set_receiver(self, receiver: Receiver) -> None: ...

    async def publish(self, channel: str, data: Mapping[str, Any] | bytes) -> Position:
        """Append to the channel's history and deliver to every listening process."""

    async def history(self, channel: str, *, since: Position | None = None) -> History:
        """The channel's position (created if new) and, with `since`, what followed it."""

    def listen(self, channel: str) -> Awaitable[None]:
        """Start receiving the channel's publications. The request is registered at once
        (so it orders with `unlisten`); await the result to know it is in effect."""

    def unlisten(self, channel: str) -> None: ...

    async def watch(self, name: str, callback: Callable[[bytes], None]) -> None:
        """Call `callback` with every payload announced under `name` (control messages)."""

    async def announce(self, name: str, payload: bytes) -> None:
        """Send a control message to every process watching `name` (not kept in history)."""

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
