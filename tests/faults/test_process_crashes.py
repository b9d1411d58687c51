"""Issue 9 (fault suite): `tessera serve` and `tessera worker` SIGKILLed in the middle of an
order load, then restarted. Every outbox event is delivered, and once only in effect: each
paid order's mail is queued once and sent once, nothing stays pending or dead."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tessera.blocks.order.events import ORDER_PAID
from tessera.lib.config import DatabaseSettings
from tessera.lib.db import Database
from tests.conftest import Backend
from tests.faults.cluster import Deployment, admin_token, customers, product

SHOPPERS = 4
PAID_BEFORE = 20
PAID_AFTER = 20


async def outbox_state(url: str) -> dict[str, int]:
    db = Database(DatabaseSettings(url=url))
    try:
        async with db.read() as session:
            rows = await session.execute(
                text("SELECT status, COUNT(*) FROM outbox_event GROUP BY status")
            )
            return {str(status): int(count) for status, count in rows}
    finally:
        await db.dispose()


async def scalar_rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    db = Database(DatabaseSettings(url=url))
    try:
        async with db.read() as session:
            return [tuple(row) for row in await session.execute(text(sql), params)]
    finally:
        await db.dispose()


@pytest.mark.deployment_settings(TESSERA_TASKS__LEASE_SECONDS="5")
async def test_server_and_worker_killed_mid_load(backend: Backend, deployed: Deployment):
    separate_worker = backend.name != "sqlite"  # embedded mode runs the worker in serve
    deployed.start_server()
    if separate_worker:
        deployed.start_worker()
        deployed.start_worker()
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=deployed.base_url, timeout=30) as client:
        admin = await admin_token(deployed, client)
        item = await product(client, admin, stock=100_000)
        buyers = await customers(client, SHOPPERS)
        paid: list[int] = []
        interrupted: list[int] = []
        stop = asyncio.Event()

        async def call(method: str, path: str, **options: object) -> httpx.Response:
            """Retry through the server's restart (the same request, the same key)."""
            deadline = loop.time() + 60
            while True:
                try:
                    response = await client.request(method, path, **options)  # type: ignore[arg-type]
                except httpx.TransportError:
                    response = None
                if response is not None and response.status_code != 503:
                    return response
                assert loop.time() < deadline, f"{method} {path} kept failing"
                await asyncio.sleep(0.05)

        async def shopper(headers: dict[str, str]) -> None:
            while not stop.is_set():
                placed = await call(
                    "POST",
                    "/api/v1/orders",
                    json={"items": [{"product_id": item["id"], "quantity": 1}]},
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                )
                assert placed.status_code == 201, placed.text
                order_id = placed.json()["id"]
                payment = await call(
                    "POST",
                    f"/api/v1/orders/{order_id}/pay",
                    json={"method": "sandbox"},
                    headers=headers,
                )
                # 409 invalid_state: the first try was paid before the server died (its answer
                # was lost). 409 payment_in_progress: the server died while charging; the
                # claim holds (no second charge) until it goes stale, so this one stays unpaid.
                assert payment.status_code in (200, 409), payment.text
                if payment.status_code == 409:
                    code = payment.json()["code"]
                    assert code in ("order.invalid_state", "order.payment_in_progress"), code
                    if code == "order.payment_in_progress":
                        interrupted.append(order_id)
                        continue
                paid.append(order_id)

        async def until(condition, what: str) -> None:
            deadline = loop.time() + 90
            while not condition():
                assert loop.time() < deadline, what
                await asyncio.sleep(0.02)

        shoppers = [asyncio.create_task(shopper(headers)) for headers in buyers]
        try:
            await until(lambda: len(paid) >= PAID_BEFORE, "orders paid before the crash")
            assert deployed.server is not None
            deployed.server.kill()
            if separate_worker:
                deployed.workers[0].kill()
                deployed.start_worker()
            deployed.start_server()
            mark = len(paid)
            await until(lambda: len(paid) >= mark + PAID_AFTER, "orders paid after the restart")
        finally:
            stop.set()
            await asyncio.gather(*shoppers)

    url = deployed.env["TESSERA_DATABASE__URL"]
    deadline = loop.time() + 60
    while (state := await outbox_state(url)).keys() - {"delivered"}:
        assert loop.time() < deadline, f"outbox not drained after the crash: {state}"
        await asyncio.sleep(0.1)

    # Nothing charged twice, whatever the crash interrupted.
    doubled = await scalar_rows(
        url, "SELECT order_id FROM payment GROUP BY order_id HAVING COUNT(*) > 1"
    )
    assert doubled == []
    paid_events = await scalar_rows(
        url, "SELECT event_id FROM outbox_event WHERE topic = :topic", topic=ORDER_PAID.name
    )
    assert len(paid_events) == len(set(paid))
    mails = await scalar_rows(
        url,
        "SELECT source_event_id, status FROM notification WHERE channel = 'mail' "
        "AND template = 'order_paid'",
    )
    per_event: dict[object, int] = {}
    for source_event_id, status in mails:
        assert status == "sent"
        per_event[source_event_id] = per_event.get(source_event_id, 0) + 1
    assert per_event == {event_id: 1 for (event_id,) in paid_events}
    mail_dir = Path(deployed.env["TESSERA_VAR_DIR"]) / "outbox-mail"
    sent_files = {path.name for path in mail_dir.glob("notification-*.eml")}
    assert len(sent_files) >= len(mails)
