"""Realtime test helpers: signed-in sockets, orders and chat rooms made through the API."""

from __future__ import annotations

import asyncio
from typing import Any

import websockets

from tessera.lib.realtime.client import RealtimeClient
from tests.helpers import SignedIn, unique


async def socket_for(live: Any, user: SignedIn, **options: Any) -> RealtimeClient:
    client = RealtimeClient(live.ws_url, token=user.access, **options)
    await client.connect()
    return client


async def make_product(api: Any, staff: SignedIn, **fields: Any) -> dict[str, Any]:
    body = {"sku": unique("SKU-"), "name": "Green tea 绿茶", "price": "12.50", "stock": 100}
    body.update(fields)
    response = await api.post("/api/v1/products", json=body, headers=staff.headers)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def place_order(api: Any, user: SignedIn, product_id: int, quantity: int = 1) -> int:
    response = await api.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product_id, "quantity": quantity}]},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def pay(api: Any, user: SignedIn, order_id: int) -> None:
    response = await api.post(
        f"/api/v1/orders/{order_id}/pay", json={"method": "sandbox"}, headers=user.headers
    )
    assert response.status_code == 200, response.text


async def support_room(api: Any, user: SignedIn, order_id: int) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/chat/rooms", json={"order_id": order_id}, headers=user.headers
    )
    assert response.status_code in (200, 201), response.text
    room: dict[str, Any] = response.json()
    return room


async def next_topic(client: RealtimeClient, channel: str, topic: str) -> dict[str, Any]:
    """The next message on `channel` whose data has `topic` (others are skipped)."""
    while True:
        frame = await client.next()
        if frame["type"] == "message" and frame["channel"] == channel:
            data: dict[str, Any] = frame["data"]
            if data.get("topic") == topic:
                return frame


async def frames_until_closed(socket: Any, *, answer_pings: bool = True) -> list[str]:
    """Every frame from a raw `websockets` connection until the server closes it."""
    frames: list[str] = []
    try:
        while True:
            frames.append(await asyncio.wait_for(socket.recv(), 10))
            if answer_pings and '"type":"ping"' in frames[-1]:
                await socket.send('{"type":"pong"}')
    except websockets.ConnectionClosed:
        return frames
