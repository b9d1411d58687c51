"""Cache-aside: single flight, invalidation, and no stale write-back after a racing delete."""

from __future__ import annotations

import asyncio

from tessera.lib.cache import Cache, KeySpace, create_redis
from tessera.lib.config import CacheSettings


def _cache() -> Cache:
    settings = CacheSettings(key_prefix="unit")
    keys = KeySpace(settings.key_prefix)
    keys.bind("0" * 32)
    return Cache(create_redis(settings), settings, keys)


def _identity(value):
    return value


async def test_concurrent_misses_share_one_load():
    cache = _cache()
    loads = 0

    async def load():
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.02)
        return {"v": 1}

    results = await asyncio.gather(
        *(cache.get_or_load("k", load, encode=_identity, decode=_identity) for _ in range(25))
    )
    assert results == [{"v": 1}] * 25
    assert loads == 1
    assert await cache.get_or_load("k", load, encode=_identity, decode=_identity) == {"v": 1}
    assert loads == 1


async def test_load_racing_an_invalidation_is_not_stored():
    cache = _cache()
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow_old_read():
        started.set()
        await release.wait()
        return {"price": "old"}

    reader = asyncio.create_task(
        cache.get_or_load("p", slow_old_read, encode=_identity, decode=_identity)
    )
    await started.wait()
    await cache.delete("p")  # a writer committed "new" and invalidated meanwhile
    release.set()
    assert await reader == {"price": "old"}  # the racing caller still gets its answer

    async def fresh_read():
        return {"price": "new"}

    fetched = await cache.get_or_load("p", fresh_read, encode=_identity, decode=_identity)
    assert fetched == {"price": "new"}


async def test_missing_value_is_not_cached_and_errors_propagate():
    cache = _cache()
    calls = 0

    async def nothing():
        nonlocal calls
        calls += 1

    assert await cache.get_or_load("n", nothing, encode=_identity, decode=_identity) is None
    assert await cache.get_or_load("n", nothing, encode=_identity, decode=_identity) is None
    assert calls == 2

    async def broken():
        raise RuntimeError("db down")

    waiters = [cache.get_or_load("b", broken, encode=_identity, decode=_identity) for _ in range(3)]
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)


def test_ttl_has_bounded_jitter():
    cache = _cache()
    values = {cache.ttl(100) for _ in range(200)}
    assert min(values) >= 90
    assert max(values) <= 110
    assert len(values) > 1
