"""Fixed-window counters in Redis, shared by every app instance.

`hit` counts an attempt and says whether it is still allowed (registration, code sending).
`blocked` / `record_failure` / `reset` implement lock-outs that only failures feed (login).
Retry-After is the time left in the window, so a locked-out client learns when to come back.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.lib.cache import KeySpace, Redis
from tessera.lib.errors import TooManyRequests


@dataclass(frozen=True, slots=True)
class Limit:
    max_count: int
    window_seconds: int


class RateLimiter:
    def __init__(self, redis: Redis, *, keys: KeySpace, enabled: bool = True) -> None:
        self.redis = redis
        self.keys = keys
        self.enabled = enabled

    def _key(self, scope: str, subject: str) -> str:
        return f"{self.keys.prefix}:ratelimit:{scope}:{subject}"

    async def _increment(self, key: str, window_seconds: int) -> tuple[int, int]:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_seconds, nx=True)
            pipe.ttl(key)
            count, _, ttl = await pipe.execute()
        return int(count), int(ttl) if int(ttl) > 0 else window_seconds

    async def hit(self, scope: str, subject: str, limit: Limit, *, code: str) -> None:
        """Count one attempt; raise 429 once the window's budget is spent."""
        if not self.enabled:
            return
        count, ttl = await self._increment(self._key(scope, subject), limit.window_seconds)
        if count > limit.max_count:
            raise TooManyRequests(
                "Too many attempts; try again later.", retry_after_seconds=ttl, code=code
            )

    async def blocked(self, scope: str, subjects: list[str], limit: Limit, *, code: str) -> None:
        """Raise 429 if any subject already has `limit.max_count` failures in its window."""
        if not self.enabled or not subjects:
            return
        keys = [self._key(scope, subject) for subject in subjects]
        counts = await self.redis.mget(keys)
        for key, raw in zip(keys, counts, strict=True):
            if raw is not None and int(raw) >= limit.max_count:
                ttl = int(await self.redis.ttl(key))
                raise TooManyRequests(
                    "Too many failed attempts; try again later.",
                    retry_after_seconds=ttl if ttl > 0 else limit.window_seconds,
                    code=code,
                )

    async def record_failure(self, scope: str, subjects: list[str], limit: Limit) -> None:
        if not self.enabled:
            return
        for subject in subjects:
            await self._increment(self._key(scope, subject), limit.window_seconds)

    async def reset(self, scope: str, subject: str) -> None:
        await self.redis.delete(self._key(scope, subject))
