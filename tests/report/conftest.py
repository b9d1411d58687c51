"""Report-block test helpers: staff, products and orders made through the API, jobs run to
their end the way the worker runs them, and workbooks read back with openpyxl."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest_asyncio

from tessera.blocks.report import service as report_service
from tests.helpers import SignedIn, drain, signed_in, unique


@pytest_asyncio.fixture
async def staff(api) -> SignedIn:
    return await signed_in(api, role="staff")


@pytest_asyncio.fixture
async def admin(api) -> SignedIn:
    return await signed_in(api, role="admin")


@pytest_asyncio.fixture
async def customer(api) -> SignedIn:
    return await signed_in(api)


async def make_product(api, staff: SignedIn, **fields: Any) -> dict[str, Any]:
    body = {"sku": unique("SKU-"), "name": "西湖龙井 Longjing", "price": "88.00", "stock": 50}
    body.update(fields)
    response = await api.post("/api/v1/products", json=body, headers=staff.headers)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def place(api, user: SignedIn, *lines: tuple[int, int], **extra: Any) -> dict[str, Any]:
    body = {"items": [{"product_id": pid, "quantity": qty} for pid, qty in lines], **extra}
    response = await api.post("/api/v1/orders", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def run_jobs(api) -> int:
    """Deliver due events (which wake the runner), then run every due job to its end."""
    await drain(api)
    runner = api.runtime.slots.get(report_service.RUNNER)
    await runner.idle()
    ran = await report_service.run_jobs(runtime=api.runtime)
    await drain(api)
    return ran


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))
