"""Chat: support rooms per order, group rooms, messages stored then published, keyset
history, read markers and unread counts, limits, membership on every path, presence."""

from __future__ import annotations

import asyncio

import pytest

from tessera.lib.realtime.client import RealtimeError
from tests.helpers import signed_in
from tests.realtime.helpers import (
    make_product,
    next_topic,
    place_order,
    socket_for,
    support_room,
)


async def order_with_room(live):
    staff = await signed_in(live, role="staff")
    customer = await signed_in(live)
    product = await make_product(live, staff)
    order_id = await place_order(live, customer, product["id"])
    room = await support_room(live, customer, order_id)
    return staff, customer, order_id, room


async def post(live, user, room_id: int, text: str, **extra):
    return await live.post(
        f"/api/v1/chat/rooms/{room_id}/messages", json={"text": text, **extra}, headers=user.headers
    )


async def test_support_room_is_created_once_per_order(live):
    staff, customer, order_id, room = await order_with_room(live)
    assert room["kind"] == "support"
    assert room["order_id"] == order_id
    assert room["member_ids"] == [customer.id]
    again = await live.post(
        "/api/v1/chat/rooms", json={"order_id": order_id}, headers=customer.headers
    )
    assert again.status_code == 200
    assert again.json()["id"] == room["id"]
    by_staff = await live.post(
        "/api/v1/chat/rooms", json={"order_id": order_id}, headers=staff.headers
    )
    assert by_staff.status_code == 200
    assert by_staff.json()["id"] == room["id"]
    stranger = await signed_in(live)
    refused = await live.post(
        "/api/v1/chat/rooms", json={"order_id": order_id}, headers=stranger.headers
    )
    assert refused.status_code == 404


async def test_messages_are_paged_newest_first_by_keyset(live):
    _, customer, _, room = await order_with_room(live)
    sent = []
    for index in range(7):
        response = await post(live, customer, room["id"], f"message {index} 你好")
        assert response.status_code == 201, response.text
        sent.append(response.json()["id"])
    pages, before = [], None
    while True:
        params = {"limit": 3} | ({"before": before} if before else {})
        response = await live.get(
            f"/api/v1/chat/rooms/{room['id']}/messages", params=params, headers=customer.headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append([item["id"] for item in page["items"]])
        before = page["next_before"]
        if before is None:
            break
    assert pages == [sent[6:3:-1], sent[3:0:-1], sent[0:1]]
    first = (
        await live.get(f"/api/v1/chat/rooms/{room['id']}/messages", headers=customer.headers)
    ).json()
    assert first["items"][0]["text"] == "message 6 你好"
    assert first["items"][0]["sender_id"] == customer.id


async def test_strangers_get_404_on_every_chat_path(live):
    _, _, _, room = await order_with_room(live)
    stranger = await signed_in(live)
    base = f"/api/v1/chat/rooms/{room['id']}"
    missing = "/api/v1/chat/rooms/999999999"
    for path in (base, missing):
        for method, suffix, body in (
            ("GET", "", None),
            ("GET", "/messages", None),
            ("POST", "/messages", {"text": "hi"}),
            ("POST", "/read", {"message_id": 1}),
            ("GET", "/presence", None),
        ):
            response = await live.request(
                method, path + suffix, json=body, headers=stranger.headers
            )
            assert response.status_code == 404, (method, path + suffix, response.text)
            assert response.json()["code"] == "chat.room_not_found"
    listed = (await live.get("/api/v1/chat/rooms", headers=stranger.headers)).json()
    assert listed["total"] == 0
    client = await socket_for(live, stranger)
    try:
        with pytest.raises(RealtimeError) as refused:
            await client.subscribe(f"chat:{room['id']}")
        assert refused.value.code == "realtime.channel_forbidden"
        with pytest.raises(RealtimeError) as publish:
            await client.publish(f"chat:{room['id']}", {"text": "let me in"})
        assert publish.value.code == "chat.room_not_found"
    finally:
        await client.close()


async def test_group_rooms_are_for_staff_to_create_and_members_to_use(live):
    staff = await signed_in(live, role="staff")
    member = await signed_in(live)
    outsider = await signed_in(live)
    refused = await live.post(
        "/api/v1/chat/rooms", json={"name": "vip", "member_ids": []}, headers=member.headers
    )
    assert refused.status_code == 403
    unknown = await live.post(
        "/api/v1/chat/rooms", json={"name": "vip", "member_ids": [999999999]}, headers=staff.headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "chat.unknown_user"
    created = await live.post(
        "/api/v1/chat/rooms",
        json={"name": "VIP 客户", "member_ids": [member.id]},
        headers=staff.headers,
    )
    assert created.status_code == 201, created.text
    room = created.json()
    assert room["kind"] == "group"
    assert room["member_ids"] == sorted([staff.id, member.id])
    assert (await post(live, member, room["id"], "hello")).status_code == 201
    assert (await post(live, outsider, room["id"], "hello")).status_code == 404
    other_staff = await signed_in(live, role="staff")  # staff are not members of group rooms
    assert (await post(live, other_staff, room["id"], "hello")).status_code == 404


async def test_read_markers_and_unread_counts(live):
    staff, customer, _, room = await order_with_room(live)
    ids = [(await post(live, staff, room["id"], f"m{i}")).json()["id"] for i in range(3)]
    rooms = (await live.get("/api/v1/chat/rooms", headers=customer.headers)).json()
    (mine,) = [item for item in rooms["items"] if item["id"] == room["id"]]
    assert mine["unread_count"] == 3
    assert mine["last_message"]["id"] == ids[2]
    marked = await live.post(
        f"/api/v1/chat/rooms/{room['id']}/read",
        json={"message_id": ids[1]},
        headers=customer.headers,
    )
    assert marked.json() == {"last_read_message_id": ids[1], "unread_count": 1}
    back = await live.post(
        f"/api/v1/chat/rooms/{room['id']}/read",
        json={"message_id": ids[0]},
        headers=customer.headers,
    )
    assert back.json()["last_read_message_id"] == ids[1]  # never moves back
    await post(live, customer, room["id"], "my own message counts as read")
    rooms = (await live.get("/api/v1/chat/rooms", headers=customer.headers)).json()
    (mine,) = [item for item in rooms["items"] if item["id"] == room["id"]]
    assert mine["unread_count"] == 0
    # Staff joined the support room by writing to it: it is in their list.
    staff_rooms = (await live.get("/api/v1/chat/rooms", headers=staff.headers)).json()
    assert room["id"] in [item["id"] for item in staff_rooms["items"]]


async def test_message_length_and_emptiness_are_checked(live_with):
    async with live_with(realtime={"chat_message_max_chars": 10}) as live:
        _, customer, _, room = await order_with_room(live)
        too_long = await post(live, customer, room["id"], "x" * 11)
        assert too_long.status_code == 422
        assert too_long.json()["code"] == "chat.message_too_long"
        blank = await post(live, customer, room["id"], "   ")
        assert blank.json()["code"] == "chat.empty_message"
        assert (await post(live, customer, room["id"], "x" * 10)).status_code == 201


async def test_sending_is_rate_limited_per_user(live_with):
    async with live_with(realtime={"chat_messages_per_minute": 3}) as live:
        _, customer, _, room = await order_with_room(live)
        for index in range(3):
            assert (await post(live, customer, room["id"], f"m{index}")).status_code == 201
        limited = await post(live, customer, room["id"], "one too many")
        assert limited.status_code == 429
        assert limited.json()["code"] == "chat.rate_limited"
        assert int(limited.headers["retry-after"]) >= 1
        client = await socket_for(live, customer)
        try:
            with pytest.raises(RealtimeError) as refused:
                await client.publish(f"chat:{room['id']}", {"text": "over the socket too"})
            assert refused.value.code == "chat.rate_limited"
        finally:
            await client.close()


async def test_socket_send_is_stored_and_reaches_other_members(live):
    staff, customer, _, room = await order_with_room(live)
    channel = f"chat:{room['id']}"
    agent = await socket_for(live, staff)
    buyer = await socket_for(live, customer)
    try:
        await agent.subscribe(channel)
        await buyer.subscribe(channel)
        ack = await buyer.publish(channel, {"text": "where is my tea?", "client_ref": "c-1"})
        assert ack["of"] == "publish"
        again = await buyer.publish(channel, {"text": "where is my tea?", "client_ref": "c-1"})
        assert again["message_id"] == ack["message_id"]  # a retry stores nothing new
        async with asyncio.timeout(2):
            seen = await next_topic(agent, channel, "chat.message_posted")
        assert seen["data"]["message_id"] == ack["message_id"]
        assert seen["data"]["text"] == "where is my tea?"
        assert seen["data"]["sender_id"] == customer.id
        await agent.publish(channel, {"text": "on its way"})
        own = await next_topic(buyer, channel, "chat.message_posted")
        reply = await next_topic(buyer, channel, "chat.message_posted")
        assert own["data"]["text"] == "where is my tea?"
        assert reply["data"]["text"] == "on its way"
        assert reply["offset"] == own["offset"] + 1  # the duplicate send published nothing
    finally:
        await agent.close()
        await buyer.close()
    history = await live.get(f"/api/v1/chat/rooms/{room['id']}/messages", headers=customer.headers)
    assert [item["text"] for item in history.json()["items"]] == ["on its way", "where is my tea?"]


async def test_removed_member_stops_receiving_at_once(live):
    staff = await signed_in(live, role="staff")
    member = await signed_in(live)
    room = (
        await live.post(
            "/api/v1/chat/rooms",
            json={"name": "team", "member_ids": [member.id]},
            headers=staff.headers,
        )
    ).json()
    channel = f"chat:{room['id']}"
    client = await socket_for(live, member)
    try:
        await client.subscribe(channel)
        removed = await live.delete(
            f"/api/v1/chat/rooms/{room['id']}/members/{member.id}", headers=staff.headers
        )
        assert removed.status_code == 204
        async with asyncio.timeout(2):
            while True:
                frame = await client.next()
                if frame["type"] == "error":
                    break
        assert frame["code"] == "realtime.subscription_ended"
        assert frame["channel"] == channel
        assert (await post(live, staff, room["id"], "secret plans")).status_code == 201
        await client.send({"type": "ping"})
        assert (await client.next())["type"] == "pong"  # nothing from the room came first
        assert (await post(live, member, room["id"], "hello?")).status_code == 404
    finally:
        await client.close()


async def test_presence_lists_who_has_the_room_open(live):
    staff, customer, _, room = await order_with_room(live)
    channel = f"chat:{room['id']}"
    presence = f"/api/v1/chat/rooms/{room['id']}/presence"
    assert (await live.get(presence, headers=customer.headers)).json() == {"user_ids": []}
    buyer = await socket_for(live, customer)
    agent = await socket_for(live, staff)
    await buyer.subscribe(channel)
    await agent.subscribe(channel)
    await asyncio.sleep(0.1)  # joins are recorded in the background
    assert (await live.get(presence, headers=customer.headers)).json() == {
        "user_ids": sorted([customer.id, staff.id])
    }
    await agent.close()
    await asyncio.sleep(0.2)
    assert (await live.get(presence, headers=customer.headers)).json() == {
        "user_ids": [customer.id]
    }
    await buyer.close()
