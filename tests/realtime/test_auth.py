"""Signing a socket in (first message or one-use ticket) and every way it is signed out:
bad or expired tokens, timeouts, logout, logout-all, a disabled account, a password change,
an access token that expires without a fresh one."""

from __future__ import annotations

import asyncio
import time
import uuid

import jwt
import pytest
import websockets

from tessera.lib.realtime.client import Closed, RealtimeClient
from tests.helpers import PASSWORD, login, signed_in
from tests.realtime.helpers import frames_until_closed, socket_for


async def raw_socket(live, path: str = ""):
    return await websockets.connect(live.ws_url + path, compression=None)


def short_token(live, user, *, seconds: float, user_id: int | None = None) -> str:
    """An access token for `user`'s session that expires in `seconds` (clock not faked:
    the token is simply minted short)."""
    settings = live.settings
    claims = jwt.decode(user.access, options={"verify_signature": False})
    now = int(time.time())
    claims.update(
        sub=str(user_id or user.id),
        jti=uuid.uuid4().hex,
        iat=now,
        exp=int(now + seconds),
    )
    return jwt.encode(claims, settings.security.jwt_secret.get_secret_value(), algorithm="HS256")


async def test_first_message_auth_is_acknowledged(live):
    user = await signed_in(live)
    client = RealtimeClient(live.ws_url, token=user.access)
    ack = await client.connect()
    try:
        assert ack["of"] == "auth"
        assert ack["user_id"] == user.id
        assert 0 < ack["expires_in"] <= live.settings.security.access_token_ttl_seconds
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("not-a-jwt", "auth.malformed_token"),
        ("tsr_refresh-token-shape", "auth.wrong_token_type"),
    ],
)
async def test_bad_token_gets_error_then_4401(live, token, code):
    client = RealtimeClient(live.ws_url, token=token)
    with pytest.raises(Exception) as failed:
        await client.connect()
    assert getattr(failed.value, "code", None) == code
    closed = await client.wait_closed()
    assert closed.code == 4401
    assert closed.reason == code


async def test_expired_token_is_refused(live):
    user = await signed_in(live)
    client = RealtimeClient(live.ws_url, token=short_token(live, user, seconds=-5))
    with pytest.raises(Exception) as failed:
        await client.connect()
    assert getattr(failed.value, "code", None) == "auth.token_expired"
    assert (await client.wait_closed()).code == 4401


async def test_silent_socket_is_closed_after_the_auth_timeout(live):
    socket = await raw_socket(live)
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(socket.recv(), 5)
    assert socket.close_code == 4401
    assert socket.close_reason == "auth.timeout"


async def test_access_token_in_the_url_is_not_accepted(live):
    user = await signed_in(live)
    socket = await raw_socket(live, f"?token={user.access}&access_token={user.access}")
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(socket.recv(), 5)
    assert socket.close_code == 4401


async def test_requests_before_auth_are_refused_until_signed_in(live):
    user = await signed_in(live)
    socket = await raw_socket(live)
    try:
        await socket.send('{"type":"subscribe","channel":"user:1","ref":7}')
        refused = await asyncio.wait_for(socket.recv(), 5)
        assert '"code":"auth.required"' in refused
        assert '"ref":7' in refused
        await socket.send(f'{{"type":"auth","token":"{user.access}"}}')
        assert '"of":"auth"' in await asyncio.wait_for(socket.recv(), 5)
    finally:
        await socket.close()


async def test_ticket_opens_one_socket_once(live):
    user = await signed_in(live)
    response = await live.post("/api/v1/realtime/tickets", headers=user.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["expires_in"] == 30
    client = RealtimeClient(live.ws_url, ticket=body["ticket"])
    ack = await client.connect()
    try:
        assert ack["user_id"] == user.id
        assert (await client.subscribe(f"user:{user.id}"))["of"] == "subscribe"
    finally:
        await client.close()
    again = RealtimeClient(live.ws_url, ticket=body["ticket"])
    with pytest.raises(Closed):
        await again.connect()
    assert again.close_code == 4401
    assert again.close_reason == "auth.invalid_ticket"


async def test_tickets_need_a_signed_in_caller(live):
    assert (await live.post("/api/v1/realtime/tickets")).status_code == 401
    forged = RealtimeClient(live.ws_url, ticket="wst_" + "x" * 43)
    with pytest.raises(Closed):
        await forged.connect()
    assert forged.close_reason == "auth.invalid_ticket"


async def closed_within(client: RealtimeClient, seconds: float) -> Closed:
    async with asyncio.timeout(seconds):
        return await client.wait_closed()


async def test_logout_closes_that_sessions_sockets(live):
    user = await signed_in(live)
    ticket = (await live.post("/api/v1/realtime/tickets", headers=user.headers)).json()["ticket"]
    by_token = await socket_for(live, user)
    by_ticket = RealtimeClient(live.ws_url, ticket=ticket)
    await by_ticket.connect()
    other_device = await signed_in_again(live, user)
    elsewhere = await socket_for(live, other_device)
    try:
        response = await live.post("/api/v1/auth/logout", headers=user.headers)
        assert response.status_code == 204
        for client in (by_token, by_ticket):
            closed = await closed_within(client, 1.0)
            assert closed.code == 4401
            assert closed.reason in ("auth.token_revoked", "auth.session_revoked")
        await elsewhere.send({"type": "ping"})
        assert (await elsewhere.next())["type"] == "pong"  # another device stays signed in
    finally:
        await elsewhere.close()


async def signed_in_again(live, user):
    from dataclasses import replace

    return replace(user, tokens=await login(live, user.username))


async def test_logout_all_closes_every_socket_of_the_user(live):
    admin = await signed_in(live, role="admin")
    user = await signed_in(live)
    second = await signed_in_again(live, user)
    sockets = [await socket_for(live, user), await socket_for(live, second)]
    response = await live.post(f"/api/v1/users/{user.id}/logout-all", headers=admin.headers)
    assert response.status_code in (200, 204), response.text
    for client in sockets:
        assert (await closed_within(client, 1.0)).code == 4401


async def test_disabled_account_is_disconnected(live):
    admin = await signed_in(live, role="admin")
    user = await signed_in(live)
    client = await socket_for(live, user)
    response = await live.patch(
        f"/api/v1/users/{user.id}", json={"is_active": False}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert (await closed_within(client, 1.0)).code == 4401


async def test_password_change_disconnects_the_other_sessions(live):
    user = await signed_in(live)
    other_device = await signed_in_again(live, user)
    here = await socket_for(live, user)
    there = await socket_for(live, other_device)
    try:
        response = await live.post(
            "/api/v1/users/me/password",
            json={"current_password": PASSWORD, "new_password": "Another-Long-Passphrase-7"},
            headers=user.headers,
        )
        assert response.status_code == 204, response.text
        assert (await closed_within(there, 1.0)).code == 4401
        await here.send({"type": "ping"})
        assert (await here.next())["type"] == "pong"  # the session that changed it stays
    finally:
        await here.close()


async def test_expiring_token_is_renewed_in_band(live):
    user = await signed_in(live)
    renewed = asyncio.Event()

    async def fresh_token() -> str:
        renewed.set()
        return user.access

    client = RealtimeClient(
        live.ws_url, token=short_token(live, user, seconds=2), token_provider=fresh_token
    )
    await client.connect()
    try:
        async with asyncio.timeout(5):
            await renewed.wait()
        await asyncio.sleep(0)  # the fresh auth frame is on its way
        # Past the first token's expiry the socket still works.
        await asyncio.sleep(2.5)
        await client.send({"type": "ping"})
        assert (await client.next())["type"] == "pong"
    finally:
        await client.close()


async def test_expired_token_without_renewal_closes_4401(live):
    user = await signed_in(live)
    socket = await raw_socket(live)
    await socket.send(f'{{"type":"auth","token":"{short_token(live, user, seconds=2)}"}}')
    frames = await frames_until_closed(socket)
    assert any('"type":"reauth"' in frame for frame in frames)
    assert socket.close_code == 4401
    assert socket.close_reason == "auth.token_expired"


async def test_reauth_as_another_user_is_refused(live):
    user = await signed_in(live)
    intruder = await signed_in(live)
    client = await socket_for(live, user)
    with pytest.raises(Exception) as refused:
        await client.request({"type": "auth", "token": intruder.access})
    assert getattr(refused.value, "code", None) == "auth.user_mismatch"
    assert (await client.wait_closed()).code == 4401
