"""Cache-aside on the redis-py asyncio API: real Redis in production, an in-process
Redis-compatible store (fakeredis) in embedded mode.

Keys are `<prefix>:<installation id>:<block>:<entity>:<id>` (`KeySpace`): the installation
id comes from the database, so installations sharing one Redis never read each other's keys.
Values are JSON with a jittered TTL so entries written together do not expire together.
Concurrent misses on one key share one load (single flight, per process); callers invalidate
after commit, and a load that raced an invalidation does not write back what it read.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import redis.asyncio as redis_asyncio
import structlog
from pydantic import BaseModel

from tessera.lib.config import CacheSettings
from tessera.lib.errors import ServiceUnavailable

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
log = structlog.get_logger("tessera.cache")

Redis = redis_asyncio.Redis

# Long enough to outlive any load that could race an invalidation.
GENERATION_TTL_SECONDS = 60


def create_redis(settings: CacheSettings) -> Redis:
    # A blocking pool: a burst of more concurrent commands than `max_connections` (many
    # WebSockets signing in at once) waits for a free connection instead of failing with
    # redis-py's "Too many connections" (its default pool holds 100 and does not wait).
    if settings.url:
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        pool = redis_asyncio.BlockingConnectionPool.from_url(
            settings.url,
            max_connections=settings.max_connections,
            timeout=settings.pool_timeout_seconds,
            decode_responses=False,
            socket_connect_timeout=settings.connect_timeout_seconds,
            socket_timeout=settings.socket_timeout_seconds,
            # After Redis restarts, every pooled connection is dead. An idle one is checked
            # before use; one that fails mid-command is dropped and the command re-sent on a
            # new connection (only on connection errors: a timeout is not retried, so a slow
            # Redis costs socket_timeout once, not `retries` times).
            health_check_interval=settings.health_check_interval_seconds,
            retry=Retry(
                ExponentialBackoff(cap=0.5, base=0.05),
                settings.retries,
                supported_errors=(RedisConnectionError,),
            ),
        )
        return redis_asyncio.Redis(connection_pool=pool)
    import fakeredis

    client: Redis = fakeredis.FakeAsyncRedis(
        server=fakeredis.FakeServer(),
        connection_pool_class=redis_asyncio.BlockingConnectionPool,
        max_connections=settings.max_connections,
        timeout=settings.pool_timeout_seconds,
    )
    return client


class KeySpace:
    """Where one installation's keys live in Redis: `<key_prefix>:<installation id>`.

    Every key family (cache entries, rate limits, revocations, one-time codes) is built from
    `prefix`, which exists only once the installation id has been read from the database
    (`Runtime.start`): a key built before that would be shared with every other installation
    on the same Redis, so asking earlier is a programming error, not a silent fallback.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self._prefix: str | None = None
        self.installation_id: str | None = None

    def bind(self, installation_id: str) -> None:
        self.installation_id = installation_id
        self._prefix = f"{self.base}:{installation_id}"

    @property
    def prefix(self) -> str:
        if self._prefix is None:
            # The database was unreachable at start-up and the id is not known yet (it is
            # retried in the background): answer 503, never use a shared key space.
            raise ServiceUnavailable(
                "The database is unreachable; try again shortly.",
                code="database.unavailable",
                headers={"Retry-After": "5"},
            )
        return self._prefix


class Cache:
    def __init__(self, redis: Redis, settings: CacheSettings, keys: KeySpace) -> None:
        self.redis = redis
        self.settings = settings
        self.keys = keys
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    @property
    def prefix(self) -> str:
        return self.keys.prefix

    def key(self, block: str, entity: str, ident: object) -> str:
        return f"{self.keys.prefix}:{block}:{entity}:{ident}"

    def ttl(self, seconds: int | None = None) -> int:
        base = seconds or self.settings.default_ttl_seconds
        spread = int(base * self.settings.ttl_jitter_ratio)
        return max(1, base + random.randint(-spread, spread))

    async def set_json(self, key: str, value: Any, *, ttl_seconds: int | None = None) -> None:
        await self.redis.set(
            key, json.dumps(value, separators=(",", ":")), ex=self.ttl(ttl_seconds)
        )

    async def delete(self, *keys: str) -> None:
        """Invalidate cache-aside entries (call after commit).

        Besides deleting, it bumps each key's generation: a load that started before this
        delete (and so may have read the old row) sees the bump and does not store its
        now-stale result.
        """
        if not keys:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(*keys)
            for key in keys:
                pipe.incr(f"{key}:gen")
                pipe.expire(f"{key}:gen", GENERATION_TTL_SECONDS)
            await pipe.execute()

    async def get_or_load(
        self,
        key: str,
        loader: Callable[[], Awaitable[T | None]],
        *,
        encode: Callable[[T], Any],
        decode: Callable[[Any], T],
        ttl_seconds: int | None = None,
    ) -> T | None:
        """Cache-aside read: concurrent misses on `key` in this process run `loader` once."""
        cached, generation = await self.redis.mget(key, f"{key}:gen")
        if cached is not None:
            return decode(json.loads(cached))
        pending = self._inflight.get(key)
        if pending is not None:
            return cast(T | None, await asyncio.shield(pending))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            # A previous leader may have stored the value after our first look and already
            # left the in-flight table: look once more before going to the database.
            cached, generation = await self.redis.mget(key, f"{key}:gen")
            value = decode(json.loads(cached)) if cached is not None else await loader()
            if (
                cached is None
                and value is not None
                and await self.redis.get(f"{key}:gen") == generation
            ):
                await self.set_json(key, encode(value), ttl_seconds=ttl_seconds)
            future.set_result(value)
            return value
        except BaseException as exc:
            future.set_exception(exc)
            # Nobody may be waiting; mark the exception retrieved so asyncio does not warn.
            future.exception()
            raise
        finally:
            self._inflight.pop(key, None)

    async def get_or_load_model(
        self,
        key: str,
        loader: Callable[[], Awaitable[M | None]],
        model: type[M],
        *,
        ttl_seconds: int | None = None,
    ) -> M | None:
        """`get_or_load` for a pydantic model, stored as its JSON form."""
        return await self.get_or_load(
            key,
            loader,
            encode=lambda value: value.model_dump(mode="json"),
            decode=model.model_validate,
            ttl_seconds=ttl_seconds,
        )

    async def ping(self) -> None:
        await self.redis.ping()

    async def delete_prefix(self, pattern_prefix: str) -> int:
        """Delete every key under `pattern_prefix` (operations and tests; uses SCAN)."""
        removed = 0
        async for key in self.redis.scan_iter(match=f"{pattern_prefix}*", count=500):
            removed += int(await self.redis.delete(key))
        return removed
