"""Use cases of the order block for the report block: rows for exports (keyset pages of plain
tuples, with the list endpoints' filters), the catalogue side of the product import (which
SKUs exist, creating many products at once) and an order by id for its documents.

Rows are read a page at a time in short read transactions, ordered by id and resumed after
the last id seen: an export of any size holds one page in memory and no long transaction.
Callers (the report block) check who may export what.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.order import dao
from tessera.blocks.order.events import PRODUCT_CHANGED, ProductChanged
from tessera.blocks.order.model.dto import OrderOut, ProductCreateIn
from tessera.blocks.order.service.common import order_out
from tessera.lib.db import UnitOfWork, utcnow
from tessera.lib.errors import Conflict
from tessera.lib.runtime import Runtime
from tessera.lib.tasks import publish

Rows = Sequence[Sequence[object]]
# Product ids per product.changed event of a bulk create (a payload stays well under 64 KiB).
EVENT_IDS = 500
INSERT_ROWS = 1000


async def _pages(
    runtime: Runtime,
    read: Callable[[AsyncSession, list[Any], int, int], Awaitable[Sequence[Any]]],
    conditions: list[Any],
    size: int,
) -> AsyncIterator[Rows]:
    last_id = 0
    while True:
        async with runtime.db.read() as session:
            rows = await read(session, conditions, last_id, size)
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last_id = rows[-1][0]


async def _order_page(
    session: AsyncSession, conditions: list[Any], after_id: int, limit: int
) -> Sequence[Any]:
    return await dao.order_page(session, conditions, after_id=after_id, limit=limit)


async def _product_page(
    session: AsyncSession, conditions: list[Any], after_id: int, limit: int
) -> Sequence[Any]:
    return await dao.product_page(session, conditions, after_id=after_id, limit=limit)


async def count_orders(*, runtime: Runtime, status: str | None, user_id: int | None) -> int:
    async with runtime.db.read() as session:
        return await dao.count_orders(session, dao.order_filters(status, user_id))


def order_rows(
    *, runtime: Runtime, status: str | None, user_id: int | None, batch_rows: int
) -> AsyncIterator[Rows]:
    """Pages of (id, order_no, user_id, status, total, currency, payment_method,
    tracking_no, created_at, updated_at), by id."""
    return _pages(runtime, _order_page, dao.order_filters(status, user_id), batch_rows)


async def count_products(
    *,
    runtime: Runtime,
    q: str | None,
    min_price: Decimal | None,
    max_price: Decimal | None,
    status: str | None,
) -> int:
    async with runtime.db.read() as session:
        return await dao.count_products(
            session, dao.product_filters(q, min_price, max_price, status)
        )


def product_rows(
    *,
    runtime: Runtime,
    q: str | None,
    min_price: Decimal | None,
    max_price: Decimal | None,
    status: str | None,
    batch_rows: int,
) -> AsyncIterator[Rows]:
    """Pages of (id, sku, name, description, price, currency, stock, status, created_at,
    updated_at) of the products not deleted, by id."""
    conditions = dao.product_filters(q, min_price, max_price, status)
    return _pages(runtime, _product_page, conditions, batch_rows)


async def existing_skus(*, runtime: Runtime, skus: Sequence[str]) -> set[str]:
    """Which of `skus` the catalogue already has."""
    if not skus:
        return set()
    async with runtime.db.read() as session:
        return await dao.existing_skus(session, skus)


def _values(runtime: Runtime, products: Sequence[ProductCreateIn]) -> list[dict[str, Any]]:
    now = utcnow()
    currency = runtime.settings.order.default_currency
    return [
        {
            "sku": product.sku,
            "name": product.name,
            "description": product.description,
            "price": product.price,
            "currency": product.currency or currency,
            "stock": product.stock,
            "status": product.status,
            "created_at": now,
            "updated_at": now,
        }
        for product in products
    ]


async def _insert(uow: UnitOfWork, runtime: Runtime, products: Sequence[ProductCreateIn]) -> None:
    for start in range(0, len(products), INSERT_ROWS):
        chunk = products[start : start + INSERT_ROWS]
        ids = await dao.insert_products(uow.session, _values(runtime, chunk))
        for first in range(0, len(ids), EVENT_IDS):
            await publish(
                uow,
                runtime.events,
                PRODUCT_CHANGED,
                ProductChanged(product_ids=ids[first : first + EVENT_IDS], reason="created"),
            )


async def create_products(*, runtime: Runtime, products: Sequence[ProductCreateIn]) -> int:
    """Create all `products` in one transaction, or none (409 `product.sku_taken`)."""
    try:
        async with runtime.db.transaction() as uow:
            await _insert(uow, runtime, products)
    except IntegrityError as exc:
        raise Conflict(
            "A SKU of the import was taken meanwhile; nothing was imported.",
            code="product.sku_taken",
        ) from exc
    return len(products)


async def create_products_where_new(
    *, runtime: Runtime, products: Sequence[ProductCreateIn]
) -> set[str]:
    """Create the products whose SKU is still free; returns the SKUs that were taken."""
    taken = await existing_skus(runtime=runtime, skus=[product.sku for product in products])
    fresh = [product for product in products if product.sku not in taken]
    try:
        async with runtime.db.transaction() as uow:
            await _insert(uow, runtime, fresh)
        return taken
    except IntegrityError:
        pass
    # Someone created one of them meanwhile: one at a time, so that the others still get in.
    for product in fresh:
        try:
            async with runtime.db.transaction() as uow:
                await _insert(uow, runtime, [product])
        except IntegrityError:
            taken.add(product.sku)
    return taken


async def get_order(*, runtime: Runtime, order_id: int) -> OrderOut | None:
    """An order by id, for system work (documents); callers decide who may see it."""
    async with runtime.db.read() as session:
        order = await dao.get_order(session, order_id)
        return None if order is None else order_out(order)
