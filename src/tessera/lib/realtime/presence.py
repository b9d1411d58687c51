"""Who is where, shared by every instance: sorted sets scored by the time of the last refresh.

`<prefix>:rt:{<channel>}:presence` holds `"<user_id>:<connection_id>"` for every socket
subscribed to a channel that tracks presence; `<prefix>:rt:user:<id>:conns` holds a user's
sockets (for the per-user connection limit). Each instance refreshes its own entries every
third of the TTL; entries of an instance that died stop being refreshed and are ignored
(then removed) once older than the TTL. Works on real Redis and on the embedded fakeredis.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

BATCH = 500


class Presence:
    def __init__(self, redis: Any, *, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:rt:"
        self.ttl = ttl_seconds

    def channel_key(self, channel: str) -> str:
        return f"{self.prefix}{{{channel}}}:presence"

    def user_key(self, user_id: int) -> str:
        return f"{self.prefix}user:{user_id}:conns"

    async def claim_connection(self, user_id: int, connection_id: str, limit: int) -> bool:
        """Count this socket against the user's limit; False (and not counted) when full."""
        key, now = self.user_key(user_id), time.time()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - self.ttl)
            pipe.zadd(key, {connection_id: now})
            pipe.zcard(key)
            pipe.expire(key, self.ttl * 2)
            _, _, count, _ = await pipe.execute()
        if int(count) <= limit:
            return True
        await self.redis.zrem(key, connection_id)
        return False

    async def release_connection(self, user_id: int, connection_id: str) -> None:
        await self.redis.zrem(self.user_key(user_id), connection_id)

    async def join(self, channel: str, member: str) -> None:
        key = self.channel_key(channel)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {member: time.time()})
            pipe.expire(key, self.ttl * 2)
            await pipe.execute()

    async def leave(self, channel: str, member: str) -> None:
        await self.redis.zrem(self.channel_key(channel), member)

    async def refresh(self, entries: Iterable[tuple[str, str]]) -> None:
        """Re-stamp (key, member) pairs this instance owns; keys are full Redis keys."""
        now = time.time()
        batch: list[tuple[str, str]] = []
        for entry in entries:
            batch.append(entry)
            if len(batch) >= BATCH:
                await self._stamp(batch, now)
                batch = []
        if batch:
            await self._stamp(batch, now)

    async def _stamp(self, batch: list[tuple[str, str]], now: float) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in {key for key, _ in batch}:
                pipe.expire(key, self.ttl * 2)
            for key, member in batch:
                pipe.zadd(key, {member: now})
            await pipe.execute()

    async def users(self, channel: str) -> list[int]:
        """Ids of the users with at least one live socket on `channel`, ascending."""
        key, now = self.channel_key(channel), time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - self.ttl)
            pipe.zrangebyscore(key, now - self.ttl, "+inf")
            _, members = await pipe.execute()
        users = set()
        for member in members:
            text = member.decode() if isinstance(member, bytes) else str(member)
            user, _, _ = text.partition(":")
            if user.isdigit():
                users.add(int(user))
        return sorted(users)
