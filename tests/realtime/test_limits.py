"""Limits and bad input: each ends in a clear close code or error frame, counted in metrics;
nothing a client sends raises an unhandled error, and a slow reader cannot grow memory."""

from __future__ import annotations

import asyncio
import socket as socketlib

import pytest
import websockets

from tessera.lib.realtime import GATEWAY
from tessera.lib.realtime.client import Closed, RealtimeClient, RealtimeError
from tests.helpers import signed_in
from tests.realtime.helpers import frames_until_closed, socket_for


async def closed_by_server(client: RealtimeClient) -> Closed:
    async with asyncio.timeout(10):
        return await client.wait_closed()


async def metric(live, name: str, **labels: str) -> float:
    text = (await live.get("/metrics")).text
    wanted = name + (
        "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else ""
    )
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_slow_consumer_is_closed_and_memory_stays_bounded(live_with):
    limit = 16 * 1024
    settings = {"max_queued_bytes": limit, "max_queued_messages": 1000, "close_timeout_seconds": 20}
    async with live_with(realtime=settings) as live:
        user = await signed_in(live)
        # A reader that stops reading: a tiny kernel buffer, and the library holds one frame.
        raw = socketlib.socket()
        raw.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", int(live.ws_url.rsplit(":", 1)[1].split("/")[0])))
        reader = await websockets.connect(live.ws_url, sock=raw, max_queue=1, compression=None)
        await reader.send(f'{{"type":"auth","token":"{user.access}"}}')
        assert '"of":"auth"' in await reader.recv()
        await reader.send(f'{{"type":"subscribe","channel":"user:{user.id}"}}')
        assert '"of":"subscribe"' in await reader.recv()
        before = await metric(live, "tessera_realtime_limit_hits_total", limit="slow_consumer")
        hub = live.runtime.slots.get(GATEWAY).hub
        (connection,) = hub.connections.values()
        payload = {"blob": "x" * 2000}
        published = 0
        while not connection.closing and published < 20000:
            await live.runtime.broadcaster.publish(f"user:{user.id}", payload)
            published += 1
            await asyncio.sleep(0)
        assert connection.closing, "the slow reader was never closed"
        assert connection.close_code == 4008
        # What the server held for this client never passed the limit (plus the one frame
        # that crossed it), however much was published.
        assert hub.queue_peak_chars <= limit + 2100
        after = await metric(live, "tessera_realtime_limit_hits_total", limit="slow_consumer")
        assert after == before + 1
        await frames_until_closed(reader, answer_pings=False)
        assert reader.close_code == 4008


async def test_oversized_frame_closes_1009(live_with):
    async with live_with(realtime={"max_message_bytes": 1024}) as live:
        user = await signed_in(live)
        client = await socket_for(live, user)
        await client.send_raw('{"type":"ping","pad":"' + "x" * 2000 + '"}')
        assert (await closed_by_server(client)).code == 1009


async def test_flood_of_frames_closes_4429(live_with):
    async with live_with(realtime={"max_inbound_per_second": 10}) as live:
        user = await signed_in(live)
        client = await socket_for(live, user)
        for _ in range(50):
            try:
                await client.send({"type": "ping"})
            except Closed:
                break
            await asyncio.sleep(0)
        closed = await closed_by_server(client)
        assert closed.code == 4429


BAD_FRAMES = [
    ("not json", "realtime.malformed"),
    ("[1,2,3]", "realtime.malformed"),
    ('"auth"', "realtime.malformed"),
    ('{"type":"dance"}', "realtime.unknown_type"),
    ('{"type":null}', "realtime.unknown_type"),
    ('{"type":"subscribe"}', "realtime.bad_channel"),
    ('{"type":"subscribe","channel":"user:1 OR 1=1"}', "realtime.bad_channel"),
    ('{"type":"subscribe","channel":"x".repeat}', "realtime.malformed"),
    ('{"type":"subscribe","channel":"user:1","since":5}', "realtime.invalid_message"),
    (
        '{"type":"subscribe","channel":"user:1","since":{"offset":-1,"epoch":"a"}}',
        "realtime.invalid_message",
    ),
    (
        '{"type":"subscribe","channel":"user:1","since":{"offset":1e400,"epoch":"a"}}',
        "realtime.malformed",
    ),
    (
        '{"type":"subscribe","channel":"user:1","since":{"offset":1,"epoch":"../x"}}',
        "realtime.invalid_message",
    ),
    ('{"type":"publish","channel":"chat:1","data":"hi"}', "realtime.invalid_message"),
    ('{"type":"auth","token":42}', "realtime.invalid_message"),
    ('{"type":"subscribe","channel":"nope:1"}', "realtime.unknown_channel"),
    ('{"type":"subscribe","channel":"order:0"}', "realtime.channel_forbidden"),
    ('{"type":"subscribe","channel":"order:99999999999999999999"}', "realtime.channel_forbidden"),
    ('{"type":"publish","channel":"user:1","data":{"text":"x"}}', "realtime.publish_forbidden"),
    ('{"type":"publish","channel":"chat:999999","data":{"text":"x"}}', "chat.room_not_found"),
    (
        '{"type":"publish","channel":"chat:1","data":{"text":"x","client_ref":5}}',
        "chat.bad_client_ref",
    ),
]


async def test_bad_frames_get_an_error_with_a_code_and_the_socket_lives_on(live_with):
    async with live_with(
        realtime={"max_bad_messages": 1000, "max_inbound_per_second": 1000}
    ) as live:
        user = await signed_in(live)
        client = await socket_for(live, user)
        try:
            for frame, code in BAD_FRAMES:
                await client.send_raw(frame)
                error = await client.next()
                assert error["type"] == "error", frame
                assert error["code"] == code, frame
                assert error["detail"], frame
                await client.send({"type": "ping"})
                assert (await client.next())["type"] == "pong", frame
        finally:
            await client.close()


async def test_repeated_bad_frames_close_4400(live_with):
    async with live_with(realtime={"max_bad_messages": 3}) as live:
        user = await signed_in(live)
        client = await socket_for(live, user)
        for _ in range(3):
            await client.send_raw("{oops")
        await client.send_raw(b"\x00binary")
        closed = await closed_by_server(client)
        assert closed.code == 4400


async def test_binary_frames_are_refused(live):
    user = await signed_in(live)
    client = await socket_for(live, user)
    try:
        await client.send_raw(b'{"type":"ping"}')
        error = await client.next()
        assert error["code"] == "realtime.malformed"
    finally:
        await client.close()


async def test_subscriptions_per_connection_are_limited(live_with):
    async with live_with(realtime={"max_subscriptions": 2}) as live:
        user = await signed_in(live)
        staff = await signed_in(live, role="staff")
        client = await socket_for(live, staff)
        try:
            await client.subscribe(f"user:{staff.id}")
            await client.subscribe("staff:orders")
            with pytest.raises(RealtimeError) as refused:
                await client.subscribe(f"user:{user.id}")
            assert refused.value.code == "realtime.too_many_subscriptions"
            with pytest.raises(RealtimeError) as again:
                await client.subscribe("staff:orders")
            assert again.value.code == "realtime.already_subscribed"
            await client.unsubscribe("staff:orders")
            assert (await client.subscribe("staff:orders"))["of"] == "subscribe"
        finally:
            await client.close()


async def test_connections_per_user_are_limited(live_with):
    async with live_with(realtime={"max_connections_per_user": 2}) as live:
        user = await signed_in(live)
        first, second = await socket_for(live, user), await socket_for(live, user)
        third = RealtimeClient(live.ws_url, token=user.access)
        with pytest.raises(RealtimeError) as refused:
            await third.connect()
        assert refused.value.code == "realtime.too_many_connections"
        assert (await closed_by_server(third)).code == 4409
        await first.close()
        await asyncio.sleep(0.2)  # the slot is given back in the background
        fourth = await socket_for(live, user)
        await asyncio.gather(second.close(), fourth.close())


async def test_connections_per_process_are_limited(live_with):
    async with live_with(realtime={"max_connections": 1}) as live:
        user = await signed_in(live)
        first = await socket_for(live, user)
        second = RealtimeClient(live.ws_url, token=user.access)
        with pytest.raises(Closed) as refused:
            await second.connect()
        assert refused.value.code == 1013
        await first.close()


QUICK_HEARTBEAT = {"heartbeat_interval_seconds": 0.3, "idle_timeout_seconds": 1.0}


async def test_silent_client_gets_pings_then_4408(live_with):
    async with live_with(realtime=QUICK_HEARTBEAT) as live:
        user = await signed_in(live)
        socket = await websockets.connect(live.ws_url, compression=None)
        await socket.send(f'{{"type":"auth","token":"{user.access}"}}')
        frames = await frames_until_closed(socket, answer_pings=False)
        assert '{"type":"ping"}' in frames
        assert socket.close_code == 4408


async def test_client_that_answers_pings_stays(live_with):
    async with live_with(realtime=QUICK_HEARTBEAT) as live:
        user = await signed_in(live)
        client = await socket_for(live, user)  # the client answers pings with pongs
        try:
            await asyncio.sleep(live.settings.realtime.idle_timeout_seconds * 2)
            await client.send({"type": "ping"})
            assert (await client.next())["type"] == "pong"
        finally:
            await client.close()
