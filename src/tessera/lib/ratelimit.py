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


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """Lock-out rules for password sign-in (defaults in `RateLimitSettings`).

    Per account, a small budget with a growing lock: `account_failures` wrong passwords in
    `window_seconds` lock the account for `lockout_base_seconds`, doubling with each further
    lock-out within a day, up to `lockout_max_seconds`. Per address, a budget an order of
    magnitude larger, so that an office NAT or a carrier's shared address is not locked out
    by a few people's typos, while one address still cannot try more than that many
    passwords per window across all accounts.
    """

    account_failures: int
    address_failures: int
    window_seconds: int
    lockout_base_seconds: int
    lockout_max_seconds: int
    lockout_memory_seconds: int = 86400


class LoginAttempt:
    """A reserved sign-in attempt: report its outcome once the password has been checked."""

    def __init__(self, guard: LoginGuard, account_key: str, address_key: str, last: bool) -> None:
        self._guard = guard
        self._account_key = account_key
        self._address_key = address_key
        self._last = last
        self._done = False

    async def failed(self) -> None:
        """The password was wrong: the reservation stays counted; the last one locks."""
        if self._done:
            return
        self._done = True
        if self._last:
            await self._guard._lock(self._account_key)

    async def succeeded(self) -> None:
        """Signed in: the account starts afresh; the address gets its reservation back."""
        if self._done:
            return
        self._done = True
        await self._guard._forget(self._account_key, self._address_key)


class LoginGuard:
    """Atomic reservation of sign-in attempts, before the (slow) password check.

    Counting after the check let 100 concurrent wrong passwords all be verified; here every
    attempt first takes a slot (one MULTI/EXEC: INCR of the account's and the address's
    counters, and a look at the account's lock) and only attempts that got a slot within
    both budgets are verified. The account is the resolved user (`user:<id>`), so `name` and
    `name@example.com` share one budget; unknown names get the same treatment under their
    normalised text, so lock-outs do not reveal which names exist.
    """

    def __init__(self, limiter: RateLimiter, policy: LoginPolicy) -> None:
        self.limiter = limiter
        self.policy = policy

    def _keys(self, account_key: str) -> tuple[str, str, str]:
        return (
            self.limiter._key("login_account", account_key),
            self.limiter._key("login_lock", account_key),
            self.limiter._key("login_lockouts", account_key),
        )

    def _address(self, address_key: str) -> str:
        return self.limiter._key("login_address", address_key)

    async def reserve(self, *, account_key: str, address: str | None) -> LoginAttempt:
        """A slot for one attempt, or TooManyRequests (`auth.locked`) with Retry-After."""
        address_key = address or "unknown"
        if not self.limiter.enabled:
            return LoginAttempt(self, account_key, address_key, last=False)
        policy = self.policy
        counter, lock, _ = self._keys(account_key)
        per_address = self._address(address_key)
        redis = self.limiter.redis
        async with redis.pipeline(transaction=True) as pipe:
            pipe.pttl(lock)
            pipe.incr(counter)
            pipe.expire(counter, policy.window_seconds, nx=True)
            pipe.ttl(counter)
            pipe.incr(per_address)
            pipe.expire(per_address, policy.window_seconds, nx=True)
            pipe.ttl(per_address)
            lock_ms, count, _, count_ttl, address_count, _, address_ttl = await pipe.execute()
        lock_ms, count, address_count = int(lock_ms), int(count), int(address_count)
        retry_after: int | None = None
        if lock_ms > 0:
            retry_after = -(-lock_ms // 1000)
        elif count > policy.account_failures:
            # Other attempts hold this window's last slots; if they fail, a lock follows.
            retry_after = max(1, int(count_ttl))
        elif address_count > policy.address_failures:
            retry_after = max(1, int(address_ttl))
        if retry_after is not None:
            # A refused attempt is not a try: give both slots back.
            await self._refund(counter, per_address)
            raise TooManyRequests(
                "Too many failed sign-in attempts; try again later.",
                retry_after_seconds=retry_after,
                code="auth.locked",
            )
        return LoginAttempt(self, account_key, address_key, last=count == policy.account_failures)

    async def _lock(self, account_key: str) -> None:
        policy = self.policy
        counter, lock, lockouts = self._keys(account_key)
        redis = self.limiter.redis
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr(lockouts)
            pipe.expire(lockouts, policy.lockout_memory_seconds)
            level, _ = await pipe.execute()
        seconds = min(
            policy.lockout_max_seconds, policy.lockout_base_seconds * 2 ** (int(level) - 1)
        )
        async with redis.pipeline(transaction=True) as pipe:
            pipe.set(lock, b"1", ex=max(1, seconds))
            # The next window starts when the lock ends, with a fresh budget.
            pipe.delete(counter)
            await pipe.execute()

    async def _forget(self, account_key: str, address_key: str) -> None:
        counter, _, lockouts = self._keys(account_key)
        await self.limiter.redis.delete(counter, lockouts)
        await self._refund(self._address(address_key))

    async def _refund(self, *keys: str) -> None:
        redis = self.limiter.redis
        async with redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.decr(key)
            counts = await pipe.execute()
        # A counter that expired in between would come back negative and without a TTL.
        spent = [key for key, count in zip(keys, counts, strict=True) if int(count) <= 0]
        if spent:
            await redis.delete(*spent)
