"""Resume: a client that comes back with `since` gets exactly what it missed, in order, with
no duplicates; when the history no longer reaches back it is told to reload
(`recovered: false`). With Redis, a lost pub/sub connection is repaired from the streams."""

from __future__ import annotations

import asyncio

import pytest

from tessera.lib.realtime import GATEWAY
from tessera.lib.realtime.client import RealtimeClient
from tests.helpers import signed_in
from tests.realtime.helpers import socket_for


async def publish(live, channel: str, *numbers: int) -> None:
    for number in numbers:
        await live.runtime.broadcaster.publish(channel, {"n": number})


async def numbers(client: RealtimeClient, count: int) -> list[int]:
    """The next `count` numbers this test published (other events on the channel, such as
    the welcome mail's notification, are skipped)."""
    found: list[int] = []
    while len(found) < count:
        (frame,) = await client.messages(1)
        if "n" in frame["data"]:
            found.append(frame["data"]["n"])
    return found


async def test_resume_delivers_exactly_what_was_missed(live):
    user = await signed_in(live)
    channel = f"user:{user.id}"
    client = await socket_for(live, user)
    await client.subscribe(channel)
    await publish(live, channel, 1, 2)
    assert await numbers(client, 2) == [1, 2]
    await client.close()
    await publish(live, channel, 3, 4, 5)  # while away
    acks = await client.resume()
    assert acks[channel]["recovered"] is True
    await publish(live, channel, 6)
    assert await numbers(client, 4) == [3, 4, 5, 6]
    assert await frames_before_pong(client) == []  # and nothing else: no duplicates
    await client.close()


async def frames_before_pong(client: RealtimeClient) -> list[dict]:
    """Frames of this test's publications still queued (sent before a pong answers)."""
    await client.send({"type": "ping"})
    extra = []
    while (frame := await client.next())["type"] != "pong":
        if "n" in frame.get("data", {}):
            extra.append(frame)
    return extra


async def test_chat_messages_missed_while_away_come_back_in_order(live):
    staff = await signed_in(live, role="staff")
    room = (
        await live.post(
            "/api/v1/chat/rooms", json={"name": "ops", "member_ids": []}, headers=staff.headers
        )
    ).json()
    channel = f"chat:{room['id']}"
    client = await socket_for(live, staff)
    await client.subscribe(channel)
    await client.close()
    texts = [f"while away {index}" for index in range(4)]
    for text in texts:
        response = await live.post(
            f"/api/v1/chat/rooms/{room['id']}/messages", json={"text": text}, headers=staff.headers
        )
        assert response.status_code == 201
    await asyncio.sleep(0.5)  # the outbox worker publishes them
    acks = await client.resume()
    assert acks[channel]["recovered"] is True
    frames = await client.messages(4)
    assert [frame["data"]["text"] for frame in frames] == texts
    assert [frame["offset"] for frame in frames] == list(
        range(frames[0]["offset"], frames[0]["offset"] + 4)
    )
    await client.close()


async def test_history_trimmed_by_length_means_recovered_false(live_with):
    async with live_with(realtime={"history_size": 3}) as live:
        user = await signed_in(live)
        channel = f"user:{user.id}"
        client = await socket_for(live, user)
        await client.subscribe(channel)
        await client.close()
        await publish(live, channel, *range(1, 6))  # five missed, three kept
        acks = await client.resume()
        assert acks[channel]["recovered"] is False
        assert acks[channel]["offset"] >= 5
        await publish(live, channel, 6)
        assert await numbers(client, 1) == [6]  # and live from the new position
        await client.close()


async def test_unknown_epoch_means_recovered_false(live):
    user = await signed_in(live)
    client = await socket_for(live, user)
    try:
        from tessera.lib.realtime import Position

        ack = await client.subscribe(f"user:{user.id}", since=Position(0, "elsewhere"))
        assert ack["recovered"] is False
        future = await client.unsubscribe(f"user:{user.id}")
        assert future["of"] == "unsubscribe"
        ahead = await client.subscribe(f"user:{user.id}", since=Position(99, ack["epoch"]))
        assert ahead["recovered"] is False  # a position the channel never reached
    finally:
        await client.close()


@pytest.mark.backend_only("mariadb")  # needs a real Redis connection to kill
async def test_lost_pubsub_connection_is_repaired_from_the_stream(live, backend):
    import redis.asyncio as redis_asyncio

    user = await signed_in(live)
    channel = f"user:{user.id}"
    client = await socket_for(live, user)
    await client.subscribe(channel)
    await publish(live, channel, 1)
    assert await numbers(client, 1) == [1]
    broker = live.runtime.broadcaster
    admin = redis_asyncio.Redis.from_url(backend.cache_url)
    try:
        clients = await admin.client_list()
        ours = [c for c in clients if c.get("name") == broker.pubsub_client_name]
        assert len(ours) == 1
        await admin.client_kill_filter(_id=ours[0]["id"])
        # Published while this process's subscriber is gone: pub/sub alone would lose them.
        await publish(live, channel, 2, 3, 4)
    finally:
        await admin.aclose()
    assert await numbers(client, 3) == [2, 3, 4]
    await publish(live, channel, 5)
    assert await numbers(client, 1) == [5]
    hub = live.runtime.slots.get(GATEWAY).hub
    assert hub.connections
    await client.close()
