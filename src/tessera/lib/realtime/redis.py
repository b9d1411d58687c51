"""`RedisBroadcaster`: channel history in Redis Streams, fan-out across instances by pub/sub.

Per channel, two keys in one hash slot: `<prefix>:rt:{<channel>}:meta` (a hash: `e` epoch,
`s` last offset) and `<prefix>:rt:{<channel>}:log` (a stream whose entry ids are
`<offset>-0`). Publishing is one Lua script: take the next offset, XADD with `MAXLEN ~`,
refresh both TTLs and PUBLISH `"<offset> <epoch> <json>"` to `<prefix>:rt:pub:<channel>`, so
the pub/sub order is the offset order. A missing meta hash (Redis restarted, or idle past its
TTL) gets a new epoch and drops any stale stream: old positions cannot be mistaken for new.

Pub/sub is fire-and-forget: what is published while this process's subscriber connection is
down is lost. The listener owns one connection (no silent retries), subscribes everything
again after a loss and then tells the hub (`on_resubscribed`), which fills every gap from the
streams; offsets let each socket drop what it already has.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import redis.asyncio as redis_asyncio
import structlog
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from tessera.lib.realtime.broker import (
    BrokerUnavailable,
    History,
    Position,
    Publication,
    Receiver,
    encode_data,
    new_epoch,
)

log = structlog.get_logger("tessera.realtime")

# Silence on the pub/sub connection for this long triggers a PING; twice as long, a reconnect.
PUBSUB_PING_SECONDS = 5.0
SUBSCRIBE_BATCH = 500

_PUBLISH = """
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 's', 0)
end
local offset = redis.call('HINCRBY', KEYS[1], 's', 1)
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], offset .. '-0', 'd', ARGV[5], 't', now_ms)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[6], offset .. ' ' .. epoch .. ' ' .. ARGV[5])
return {offset, epoch}
"""

_HISTORY = """
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 's', 0)
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
local top = tonumber(redis.call('HGET', KEYS[1], 's'))
local since = tonumber(ARGV[3])
if since < 0 or epoch ~= ARGV[4] or since >= top then
  return {epoch, top, {}}
end
local first = math.max(since + 1, top - tonumber(ARGV[5]) + 1)
local entries = redis.call('XRANGE', KEYS[2], first .. '-0', '+')
local t = redis.call('TIME')
local oldest_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[6])
local kept = {}
for _, entry in ipairs(entries) do
  local fields = entry[2]
  local stamp = 0
  for i = 1, #fields, 2 do
    if fields[i] == 't' then stamp = tonumber(fields[i + 1]) end
  end
  if stamp >= oldest_ms then table.insert(kept, entry) end
end
return {epoch, top, kept}
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisBroadcaster:
    spans_processes = True

    def __init__(
        self,
        redis: redis_asyncio.Redis,
        *,
        url: str,
        prefix: str,
        history_size: int,
        history_ttl_seconds: int,
        meta_ttl_seconds: int,
        subscribe_timeout_seconds: float = 5.0,
    ) -> None:
        self._redis = redis
        self._url = url
        self._key_prefix = f"{prefix}:rt:"
        self._pub_prefix = f"{prefix}:rt:pub:"
        self._pub_prefix_bytes = self._pub_prefix.encode()
        self._control = f"{prefix}:rt:control".encode()
        self.pubsub_client_name = f"{prefix}:rt:pubsub".replace(" ", "_")
        self.history_size = history_size
        self.history_ttl = history_ttl_seconds
        self.meta_ttl = meta_ttl_seconds
        self.subscribe_timeout = subscribe_timeout_seconds
        self._publish_script = redis.register_script(_PUBLISH)
        self._history_script = redis.register_script(_HISTORY)
        self._receiver: Receiver | None = None
        self._listening: set[str] = set()
        self._watching: dict[bytes, Callable[[bytes], None]] = {}
        self._waiters: dict[bytes, asyncio.Future[None]] = {}
        self._pubsub: PubSub | None = None
        self._pubsub_client: redis_asyncio.Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._commands: deque[tuple[bool, bytes]] = deque()
        self._wake = asyncio.Event()
        self._closing = False

    # --- keys -----------------------------------------------------------------------------

    def _keys(self, channel: str) -> list[str]:
        base = f"{self._key_prefix}{{{channel}}}"
        return [f"{base}:meta", f"{base}:log"]

    def _pub_name(self, channel: str) -> bytes:
        return (self._pub_prefix + channel).encode()

    # --- publishing and history -----------------------------------------------------------

    def set_receiver(self, receiver: Receiver) -> None:
        self._receiver = receiver

    async def publish(self, channel: str, data: Mapping[str, Any] | bytes) -> Position:
        try:
            offset, epoch = await self._publish_script(
                keys=self._keys(channel),
                args=[
                    new_epoch(),
                    self.history_size,
                    self.history_ttl,
                    self.meta_ttl,
                    encode_data(data),
                    self._pub_name(channel),
                ],
            )
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"cannot publish to {channel}: {exc!r}") from exc
        return Position(int(offset), _text(epoch))

    async def history(self, channel: str, *, since: Position | None = None) -> History:
        try:
            epoch_raw, top_raw, entries = await self._history_script(
                keys=self._keys(channel),
                args=[
                    new_epoch(),
                    self.meta_ttl,
                    -1 if since is None else since.offset,
                    "" if since is None else since.epoch,
                    self.history_size,
                    self.history_ttl * 1000,
                ],
            )
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"cannot read the history of {channel}: {exc!r}") from exc
        epoch, top = _text(epoch_raw), int(top_raw)
        publications = []
        for entry_id, fields in entries:
            values = dict(zip(fields[::2], fields[1::2], strict=True))
            offset = int(_text(entry_id).partition("-")[0])
            publications.append(Publication(channel, offset, epoch, bytes(values[b"d"])))
        return History(epoch, top, tuple(publications))

    async def ping(self) -> None:
        await self._redis.ping()

    # --- fan-out --------------------------------------------------------------------------
    # Subscribe and unsubscribe requests are queued synchronously, in call order, and one
    # task sends them: so the last request for a channel is what Redis ends up with, however
    # the callers' tasks interleave.

    def listen(self, channel: str) -> Awaitable[None]:
        self._listening.add(channel)
        return self._request(self._pub_name(channel))

    def unlisten(self, channel: str) -> None:
        if channel in self._listening:
            self._listening.discard(channel)
            self._commands.append((False, self._pub_name(channel)))
            self._wake.set()

    async def watch(self, name: str, callback: Callable[[bytes], None]) -> None:
        encoded = name.encode()
        self._watching[encoded] = callback
        await self._request(encoded)

    async def announce(self, name: str, payload: bytes) -> None:
        try:
            await self._redis.publish(name, payload)
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"cannot announce on {name}: {exc!r}") from exc

    def _request(self, name: bytes) -> Awaitable[None]:
        self._ensure_listener()
        waiter = self._waiters.get(name)
        if waiter is None or waiter.done():
            waiter = self._waiters[name] = asyncio.get_running_loop().create_future()
        self._commands.append((True, name))
        self._wake.set()
        return self._confirmed(waiter)

    async def _confirmed(self, waiter: asyncio.Future[None]) -> None:
        try:
            async with asyncio.timeout(self.subscribe_timeout):
                await asyncio.shield(waiter)
        except TimeoutError as exc:
            raise BrokerUnavailable("the pub/sub connection to Redis is down") from exc

    async def _send_commands(self) -> None:
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            while self._commands:
                pubsub = self._pubsub
                if pubsub is None:
                    break  # the listener subscribes everything wanted when it reconnects
                subscribe, name = self._commands.popleft()
                names = [name]
                while self._commands and self._commands[0][0] == subscribe and len(names) < 500:
                    names.append(self._commands.popleft()[1])
                try:
                    if subscribe:
                        await pubsub.subscribe(*names)
                    else:
                        await pubsub.unsubscribe(*names)
                except (RedisError, OSError):
                    break

    def _ensure_listener(self) -> None:
        if self._task is None and not self._closing:
            self._pubsub_client = redis_asyncio.Redis.from_url(
                self._url,
                decode_responses=False,
                socket_connect_timeout=2,
                socket_keepalive=True,
                health_check_interval=0,
                # Named, so an operator (or a test) can find this process's subscriber.
                client_name=self.pubsub_client_name,
                # Failures must surface here, not be retried silently: a reconnect means
                # publications may have been missed, and the hub has to know.
                retry=Retry(NoBackoff(), 0),
            )
            self._task = asyncio.create_task(self._run(), name="realtime-pubsub")
            self._sender = asyncio.create_task(self._send_commands(), name="realtime-pubsub-send")

    def _names(self) -> list[bytes]:
        return [
            self._control,
            *self._watching,
            *(self._pub_name(channel) for channel in self._listening),
        ]

    async def _run(self) -> None:
        assert self._pubsub_client is not None
        loop = asyncio.get_running_loop()
        backoff = 0.05
        connected_before = False
        while not self._closing:
            pubsub = self._pubsub_client.pubsub()
            try:
                names = self._names()
                for start in range(0, len(names), SUBSCRIBE_BATCH):
                    await pubsub.subscribe(*names[start : start + SUBSCRIBE_BATCH])
                self._pubsub = pubsub
                self._wake.set()  # requests queued while disconnected
                unconfirmed: set[bytes] | None = set(names)
                last_traffic = loop.time()
                while True:
                    message = await pubsub.get_message(timeout=PUBSUB_PING_SECONDS)
                    now = loop.time()
                    if message is None:
                        if now - last_traffic > 2 * PUBSUB_PING_SECONDS:
                            raise ConnectionError("the pub/sub connection went silent")
                        await pubsub.ping()
                        continue
                    last_traffic = now
                    kind = message["type"]
                    if kind == "message":
                        self._dispatch(message["channel"], message["data"])
                    elif kind == "subscribe":
                        name = message["channel"]
                        waiter = self._waiters.pop(name, None)
                        if waiter is not None and not waiter.done():
                            waiter.set_result(None)
                        if unconfirmed is not None:
                            unconfirmed.discard(name)
                            if not unconfirmed:
                                unconfirmed = None
                                backoff = 0.05
                                if connected_before:
                                    log.info("realtime_pubsub_restored")
                                    if self._receiver is not None:
                                        self._receiver.on_resubscribed()
                                connected_before = True
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if not self._closing:
                    log.warning("realtime_pubsub_lost", error=repr(exc)[:300])
            except Exception:
                log.exception("realtime_pubsub_failed")
            finally:
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            if not self._closing:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)

    def _dispatch(self, name: bytes, data: bytes) -> None:
        watcher = self._watching.get(name)
        if watcher is not None:
            try:
                watcher(data)
            except Exception:
                log.exception("realtime_watch_callback_failed")
            return
        if not name.startswith(self._pub_prefix_bytes) or self._receiver is None:
            return
        channel = name[len(self._pub_prefix_bytes) :].decode()
        try:
            offset, epoch, payload = data.split(b" ", 2)
            publication = Publication(channel, int(offset), epoch.decode(), payload)
        except ValueError:
            log.warning("realtime_bad_publication", channel=channel)
            return
        self._receiver.on_publication(publication)

    async def close(self) -> None:
        self._closing = True
        for task in (self._task, self._sender):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._sender = None
        client, self._pubsub_client = self._pubsub_client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()
