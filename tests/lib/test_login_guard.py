"""Issue 9 items 2, 3 and 5 at the library level: sign-in attempts are reserved atomically
before the password check, per account and per address, with a growing lock-out."""

from __future__ import annotations

import asyncio

import pytest

from tessera.lib.cache import KeySpace, create_redis
from tessera.lib.config import CacheSettings
from tessera.lib.errors import TooManyRequests
from tessera.lib.ratelimit import LoginGuard, LoginPolicy, RateLimiter

POLICY = LoginPolicy(
    account_failures=5,
    address_failures=30,
    window_seconds=900,
    lockout_base_seconds=60,
    lockout_max_seconds=3600,
)


def guard(policy: LoginPolicy = POLICY) -> LoginGuard:
    keys = KeySpace("unit")
    keys.bind("1" * 32)
    limiter = RateLimiter(create_redis(CacheSettings()), keys=keys)
    return LoginGuard(limiter, policy)


async def attempt(login: LoginGuard, account: str, address: str = "203.0.113.1") -> bool:
    """True if the attempt got a slot (and then failed), False if it was refused."""
    try:
        reserved = await login.reserve(account_key=account, address=address)
    except TooManyRequests:
        return False
    await asyncio.sleep(0)  # the password check: other attempts run meanwhile
    await reserved.failed()
    return True


async def test_concurrent_wrong_passwords_get_at_most_the_limit_verified():
    login = guard()
    results = await asyncio.gather(*(attempt(login, "user:1") for _ in range(100)))
    assert sum(results) == POLICY.account_failures
    with pytest.raises(TooManyRequests) as caught:
        await login.reserve(account_key="user:1", address="198.51.100.9")
    assert caught.value.code == "auth.locked"


async def test_one_address_against_many_accounts_is_capped():
    login = guard()
    results = await asyncio.gather(*(attempt(login, f"user:{n}") for n in range(100)))
    assert sum(results) == POLICY.address_failures


async def test_lock_out_grows_with_each_lock():
    login = guard()
    retry_after = []
    for _ in range(3):
        for _ in range(POLICY.account_failures):
            assert await attempt(login, "user:7")
        with pytest.raises(TooManyRequests) as caught:
            await login.reserve(account_key="user:7", address="203.0.113.1")
        retry_after.append(caught.value.retry_after_seconds)
        # The lock runs out (without waiting for it): the next window starts afresh.
        await login.limiter.redis.delete(login._keys("user:7")[1])
    assert retry_after == [60, 120, 240]


async def test_success_clears_the_account_and_refunds_the_address():
    login = guard()
    for _ in range(POLICY.account_failures - 1):
        assert await attempt(login, "user:3")
    reserved = await login.reserve(account_key="user:3", address="203.0.113.1")
    await reserved.succeeded()
    # A fresh budget: five more failures before a lock.
    for _ in range(POLICY.account_failures):
        assert await attempt(login, "user:3")
    assert not await attempt(login, "user:3")


async def test_many_people_behind_one_address_are_not_locked_out_by_a_few_typos():
    login = guard()
    for person in range(20):  # twenty colleagues, each mistyping once, then signing in
        assert await attempt(login, f"user:{person}", address="192.0.2.50")
        reserved = await login.reserve(account_key=f"user:{person}", address="192.0.2.50")
        await reserved.succeeded()
    reserved = await login.reserve(account_key="user:99", address="192.0.2.50")
    await reserved.succeeded()
