"""Queries of the order block. Stock moves only through conditional UPDATEs whose row count
is checked (`stock >= :n`), never read-then-write; order transitions compare the version.
Functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.order.model.do import (
    IdempotencyRecordDO,
    OrderDO,
    OrderHistoryDO,
    PaymentDO,
    ProductDO,
)
from tessera.lib.db import escape_like

PRODUCT_SORTS: dict[str, Any] = {
    "price": ProductDO.price.asc(),
    "-price": ProductDO.price.desc(),
    "created_at": ProductDO.created_at.asc(),
    "-created_at": ProductDO.created_at.desc(),
    "name": ProductDO.name.asc(),
    "-name": ProductDO.name.desc(),
    "stock": ProductDO.stock.asc(),
    "-stock": ProductDO.stock.desc(),
}


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def get_product(session: AsyncSession, product_id: int) -> ProductDO | None:
    product = await session.get(ProductDO, product_id)
    return None if product is None or product.deleted_at is not None else product


async def products_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, ProductDO]:
    rows = await session.execute(
        select(ProductDO).where(ProductDO.id.in_(list(ids)), ProductDO.deleted_at.is_(None))
    )
    return {product.id: product for product in rows.scalars()}


async def sku_exists(session: AsyncSession, sku: str) -> bool:
    found = await session.scalar(select(ProductDO.id).where(ProductDO.sku == sku))
    return found is not None


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


async def search_products(
    session: AsyncSession,
    *,
    q: str | None,
    min_price: Decimal | None,
    max_price: Decimal | None,
    status: str | None,
    sort: str,
    offset: int,
    limit: int,
) -> tuple[list[ProductDO], int]:
    query = select(ProductDO).where(ProductDO.deleted_at.is_(None))
    if q:
        pattern = "%" + escape_like(q) + "%"
        query = query.where(
            ProductDO.name.like(pattern, escape="\\") | ProductDO.sku.like(pattern, escape="\\")
        )
    if min_price is not None:
        query = query.where(ProductDO.price >= min_price)
    if max_price is not None:
        query = query.where(ProductDO.price <= max_price)
    if status is not None:
        query = query.where(ProductDO.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(PRODUCT_SORTS[sort], ProductDO.id).offset(offset).limit(limit)
    )
    return list(rows.scalars()), int(total or 0)


async def take_stock(session: AsyncSession, product_id: int, quantity: int) -> bool:
    """Decrement stock if enough is left; False (and nothing changed) otherwise."""
    result = await session.execute(
        update(ProductDO)
        .where(
            ProductDO.id == product_id,
            ProductDO.stock >= quantity,
            ProductDO.status == "active",
            ProductDO.deleted_at.is_(None),
        )
        .values(stock=ProductDO.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def return_stock(session: AsyncSession, product_id: int, quantity: int) -> None:
    # Deleted products get their stock back too: a later undelete should not lose units.
    await session.execute(
        update(ProductDO)
        .where(ProductDO.id == product_id)
        .values(stock=ProductDO.stock + quantity)
        .execution_options(synchronize_session=False)
    )


async def get_order(session: AsyncSession, order_id: int) -> OrderDO | None:
    return await session.get(OrderDO, order_id)


async def get_order_by_no(session: AsyncSession, order_no: str) -> OrderDO | None:
    return await session.scalar(select(OrderDO).where(OrderDO.order_no == order_no))


async def search_orders(
    session: AsyncSession,
    *,
    user_id: int | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[list[OrderDO], int]:
    query = select(OrderDO)
    if user_id is not None:
        query = query.where(OrderDO.user_id == user_id)
    if status is not None:
        query = query.where(OrderDO.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(OrderDO.created_at.desc(), OrderDO.id.desc()).offset(offset).limit(limit)
    )
    return list(rows.scalars()), int(total or 0)


async def move_order(
    session: AsyncSession,
    *,
    order_id: int,
    seen_version: int,
    from_status: str,
    values: dict[str, Any],
    unclaimed_before: datetime | None = None,
) -> bool:
    """Apply a transition only if nobody moved the order since we read it (and, with
    `unclaimed_before`, nobody is charging it)."""
    conditions = [
        OrderDO.id == order_id,
        OrderDO.version == seen_version,
        OrderDO.status == from_status,
    ]
    if unclaimed_before is not None:
        conditions.append(_unclaimed(unclaimed_before))
    result = await session.execute(
        update(OrderDO)
        .where(*conditions)
        .values(version=OrderDO.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def _unclaimed(before: datetime) -> ColumnElement[bool]:
    """No payment claim, or one older than `before` (its process died mid-charge)."""
    return or_(OrderDO.payment_method.is_(None), OrderDO.updated_at < before)


async def reserve_payment(
    session: AsyncSession, *, order_id: int, method: str, now: datetime, stale_before: datetime
) -> bool:
    """Claim the right to charge an unpaid order: one caller wins; a claim older than
    `stale_before` (its process died mid-charge) may be taken over."""
    result = await session.execute(
        update(OrderDO)
        .where(
            OrderDO.id == order_id,
            OrderDO.status == "pending_payment",
            _unclaimed(stale_before),
        )
        .values(payment_method=method, updated_at=now, version=OrderDO.version + 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def release_payment(session: AsyncSession, *, order_id: int, method: str) -> None:
    """Give up a claim whose charge failed, so the buyer can try again."""
    await session.execute(
        update(OrderDO)
        .where(
            OrderDO.id == order_id,
            OrderDO.status == "pending_payment",
            OrderDO.payment_method == method,
        )
        .values(payment_method=None, version=OrderDO.version + 1)
        .execution_options(synchronize_session=False)
    )


async def order_history(session: AsyncSession, order_id: int) -> list[OrderHistoryDO]:
    rows = await session.execute(
        select(OrderHistoryDO)
        .where(OrderHistoryDO.order_id == order_id)
        .order_by(OrderHistoryDO.id)
    )
    return list(rows.scalars())


async def expired_unpaid_order_ids(
    session: AsyncSession, now: datetime, limit: int, *, unclaimed_before: datetime
) -> list[int]:
    """Unpaid orders past their deadline, except those being paid right now."""
    rows = await session.execute(
        select(OrderDO.id)
        .where(
            OrderDO.status == "pending_payment",
            OrderDO.expires_at < now,
            _unclaimed(unclaimed_before),
        )
        .order_by(OrderDO.expires_at)
        .limit(limit)
    )
    return list(rows.scalars())


async def get_idempotency_record(
    session: AsyncSession, user_id: int, key: str
) -> IdempotencyRecordDO | None:
    return await session.scalar(
        select(IdempotencyRecordDO).where(
            IdempotencyRecordDO.user_id == user_id, IdempotencyRecordDO.idempotency_key == key
        )
    )


async def get_payment(session: AsyncSession, provider: str, provider_ref: str) -> PaymentDO | None:
    return await session.scalar(
        select(PaymentDO).where(
            PaymentDO.provider == provider, PaymentDO.provider_ref == provider_ref
        )
    )
