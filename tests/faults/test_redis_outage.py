"""Issue 9 item 15 (fault suite): Redis killed (SIGKILL) and restarted empty under order
load, against a real `tessera serve` process. During the outage every answer is a success
or a 503 with Retry-After; once Redis answers again no request fails (stale pooled
connections are checked and retried); retrying the refused orders with their
Idempotency-Key loses nothing and doubles nothing; the stock adds up."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import Backend
from tests.faults.cluster import Deployment, admin_token, all_orders, customers, product

CLIENTS = 8
ORDERS_BEFORE = 40
ORDERS_AFTER = 60


@dataclass
class Attempt:
    kind: str
    customer: int
    key: str
    started: float
    ended: float
    status: int
    retry_after: str | None
    order_id: int | None


@pytest.mark.deployment_settings(TESSERA_TASKS__WORKER_IN_PROCESS="on")
async def test_redis_restart_under_order_load(backend: Backend, deployed: Deployment):
    if True:
        deployed.start_server()
        limits = httpx.Limits(max_connections=CLIENTS * 2)
        async with httpx.AsyncClient(
            base_url=deployed.base_url, timeout=30, limits=limits
        ) as client:
            admin = await admin_token(deployed, client)
            item = await product(client, admin, stock=100_000)
            buyers = await customers(client, 4)
            loop = asyncio.get_running_loop()
            attempts: list[Attempt] = []
            stop = asyncio.Event()

            async def shopper(index: int) -> None:
                headers = buyers[index % len(buyers)]
                while not stop.is_set():
                    key = uuid.uuid4().hex
                    started = loop.time()
                    placed = await client.post(
                        "/api/v1/orders",
                        json={"items": [{"product_id": item["id"], "quantity": 1}]},
                        headers={**headers, "Idempotency-Key": key},
                    )
                    attempts.append(
                        Attempt(
                            "order",
                            index % len(buyers),
                            key,
                            started,
                            loop.time(),
                            placed.status_code,
                            placed.headers.get("retry-after"),
                            placed.json().get("id") if placed.status_code == 201 else None,
                        )
                    )
                    started = loop.time()
                    read = await client.get(f"/api/v1/products/{item['id']}")
                    attempts.append(
                        Attempt(
                            "read",
                            index,
                            "",
                            started,
                            loop.time(),
                            read.status_code,
                            read.headers.get("retry-after"),
                            None,
                        )
                    )

            def placed_since(moment: float) -> int:
                return sum(
                    1
                    for attempt in attempts
                    if attempt.kind == "order"
                    and attempt.status == 201
                    and attempt.started > moment
                )

            async def until(condition, what: str, within_seconds: float = 60) -> None:
                deadline = loop.time() + within_seconds
                while not condition():
                    assert loop.time() < deadline, f"{what} within {within_seconds} s"
                    await asyncio.sleep(0.02)

            shoppers = [asyncio.create_task(shopper(index)) for index in range(CLIENTS)]
            try:
                await until(lambda: placed_since(0) >= ORDERS_BEFORE, "orders before the outage")
                killed_at = loop.time()
                deployed.redis.kill()
                await until(
                    lambda: (
                        sum(1 for a in attempts if a.started > killed_at and a.status == 503)
                        >= 2 * CLIENTS
                    ),
                    "refusals during the outage",
                )
                deployed.redis.start()  # empty, on the same port; returns once it answers
                up_at = loop.time()
                await until(lambda: placed_since(up_at) >= ORDERS_AFTER, "orders after recovery")
            finally:
                stop.set()
                await asyncio.gather(*shoppers)

            statuses = {attempt.status for attempt in attempts}
            assert statuses <= {200, 201, 503}, statuses
            refused = [attempt for attempt in attempts if attempt.status == 503]
            assert refused, "the outage was not noticed"
            assert all(attempt.retry_after for attempt in refused)
            before = [a for a in attempts if a.ended < killed_at]
            assert all(a.status in (200, 201) for a in before)
            # Clean recovery: nothing that started after Redis answered again failed.
            after = [a for a in attempts if a.started > up_at]
            failed_after = [a for a in after if a.status == 503]
            first_success = min(a.ended for a in after if a.status in (200, 201))
            figures = {
                "backend": backend.name,
                "requests": len(attempts),
                "refused_during_outage": len(refused),
                "refused_after_redis_was_back": len(failed_after),
                "first_success_after_restart_ms": round((first_success - up_at) * 1000, 1),
            }
            print("redis-outage figures:", json.dumps(figures))
            assert failed_after == [], figures

            # Nothing lost, nothing doubled: every refused order is retried with its key.
            acknowledged: dict[int, set[int]] = {}
            for attempt in attempts:
                if attempt.kind != "order":
                    continue
                order_id = attempt.order_id
                if attempt.status == 503:
                    retried = await client.post(
                        "/api/v1/orders",
                        json={"items": [{"product_id": item["id"], "quantity": 1}]},
                        headers={**buyers[attempt.customer], "Idempotency-Key": attempt.key},
                    )
                    assert retried.status_code == 201, retried.text
                    order_id = retried.json()["id"]
                acknowledged.setdefault(attempt.customer, set()).add(int(order_id or 0))
            total = 0
            for index, headers in enumerate(buyers):
                stored = [order["id"] for order in await all_orders(client, headers)]
                assert len(stored) == len(set(stored))
                assert set(stored) == acknowledged.get(index, set())
                total += len(stored)
            stock = (await client.get(f"/api/v1/products/{item['id']}")).json()["stock"]
            assert stock == 100_000 - total
