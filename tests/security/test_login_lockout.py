"""Issue 9 items 2, 3 and 5: sign-in lock-outs hold under concurrency, count per resolved
account (and per address), and a shared address is not locked out by a few typos."""

from __future__ import annotations

import asyncio

from tests.conftest import Api, ApiFactory
from tests.helpers import PASSWORD, register, unique

LOGIN = "/api/v1/auth/login"


def count_verifications(api: Api) -> list[int]:
    """Wrap the password check so the test sees how many attempts reached argon2."""
    calls = [0]
    passwords = api.runtime.passwords
    real_verify = passwords.verify

    async def verify(password_hash: str, password: str) -> bool:
        # Unknown names are checked against a dummy hash through this same method.
        calls[0] += 1
        return await real_verify(password_hash, password)

    passwords.verify = verify  # type: ignore[method-assign]
    return calls


async def login(api: Api, username: str, password: str):
    return await api.post(LOGIN, json={"username": username, "password": password})


async def test_concurrent_wrong_passwords_verify_at_most_the_limit(api: Api):
    user = await register(api)
    calls = count_verifications(api)
    limit = api.settings.user.login_failures_per_account
    answers = await asyncio.gather(
        *(login(api, user["username"], "wrong-pass-1") for _ in range(60))
    )
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) <= limit
    assert calls[0] <= limit
    # ...and the right password is now refused too: the account is locked.
    locked = await login(api, user["username"], PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "auth.locked"
    assert int(locked.headers["retry-after"]) > 0


async def test_concurrent_failures_from_one_address_are_capped(api_with: ApiFactory):
    async with api_with(user={"login_failures_per_ip": 5}) as api:
        names = [unique() for _ in range(30)]
        calls = count_verifications(api)
        answers = await asyncio.gather(*(login(api, name, "wrong-pass-1") for name in names))
        statuses = [answer.status_code for answer in answers]
        assert statuses.count(401) <= 5
        assert calls[0] <= 5
        assert statuses.count(429) >= 25


async def test_lock_out_counts_the_account_not_the_typed_name(api: Api):
    user = await register(api)
    limit = api.settings.user.login_failures_per_account
    for attempt in range(limit):
        typed = user["username"] if attempt % 2 == 0 else user["email"].upper()
        assert (await login(api, typed, "wrong-pass-1")).status_code == 401
    for typed in (user["email"], user["username"], f"  {user['username'].upper()} "):
        answer = await login(api, typed, PASSWORD)
        assert answer.status_code == 429, typed


async def test_unknown_names_lock_out_like_real_ones(api: Api):
    """A lock-out that only real accounts get would tell which names exist."""
    limit = api.settings.user.login_failures_per_account
    ghost = unique("ghost")
    for _ in range(limit):
        assert (await login(api, ghost, "wrong-pass-1")).status_code == 401
    assert (await login(api, ghost, "wrong-pass-1")).status_code == 429


async def test_a_shared_address_survives_its_users_typos(api: Api):
    """Twenty colleagues behind one NAT each mistype once, then sign in."""
    users = [await register(api) for _ in range(20)]
    for user in users:
        assert (await login(api, user["username"], "wrong-pass-1")).status_code == 401
        assert (await login(api, user["username"], PASSWORD)).status_code == 200


async def test_lock_out_grows_with_each_lock(api: Api):
    user = await register(api)
    limit = api.settings.user.login_failures_per_account
    waits = []
    for _ in range(2):
        for _ in range(limit):
            assert (await login(api, user["username"], "wrong-pass-1")).status_code == 401
        locked = await login(api, user["username"], PASSWORD)
        assert locked.status_code == 429
        waits.append(int(locked.headers["retry-after"]))
        # The lock runs out without the test waiting for it.
        lock_keys = [
            key
            async for key in api.runtime.redis.scan_iter(
                match=f"{api.runtime.keys.prefix}:ratelimit:login_lock:*"
            )
        ]
        assert lock_keys
        await api.runtime.redis.delete(*lock_keys)
    assert waits[1] >= 2 * waits[0] - 1
