"""Issue 9 item 8: registration tells whether an email is registered (sign-in works at once,
so hiding it would only move the leak to the sign-in). What is decided (user README): the
answer stays explicit, and probing it is costly: an address gets only a few "email taken"
answers per hour, on top of the general registration limit. Usernames are public."""

from __future__ import annotations

from tests.conftest import Api
from tests.helpers import PASSWORD, register, unique

REGISTER = "/api/v1/auth/register"


async def attempt(api: Api, email: str):
    name = unique()
    return await api.post(REGISTER, json={"username": name, "email": email, "password": PASSWORD})


async def test_probing_registered_emails_is_limited_per_address(api: Api):
    known = [(await register(api))["email"] for _ in range(6)]
    limit = api.settings.user.register_conflicts_per_ip
    answers = [await attempt(api, email) for email in known[: limit + 1]]
    assert [answer.status_code for answer in answers[:limit]] == [409] * limit
    assert answers[limit].status_code == 429
    assert answers[limit].json()["code"] == "auth.register_rate_limited"
    # A new person from the same address can still register.
    fresh = await attempt(api, f"{unique()}@example.com")
    assert fresh.status_code == 201


async def test_taken_username_is_an_ordinary_conflict(api: Api):
    user = await register(api)
    answer = await api.post(
        REGISTER,
        json={
            "username": user["username"],
            "email": f"{unique()}@example.com",
            "password": PASSWORD,
        },
    )
    assert answer.status_code == 409
