"""Queries of the order block. Stock moves only through conditional UPDATEs whose row count
is checked (`stock >= :n`), never read-then-write; order transitions compare the version.
Functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.order.model.do import (
    IdempotencyRecordDO,
    OrderDO,
    OrderHistoryDO,
    PaymentAttemptDO,
    PaymentDO,
    PaymentRefundDO,
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
    query = select(ProductDO).where(*product_filters(q, min_price, max_price, status))
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
    query = select(OrderDO).where(*order_filters(status, user_id))
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
) -> bool:
    """Apply a transition only if nobody moved the order since we read it."""
    result = await session.execute(
        update(OrderDO)
        .where(
            OrderDO.id == order_id,
            OrderDO.version == seen_version,
            OrderDO.status == from_status,
        )
        .values(version=OrderDO.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def order_history(session: AsyncSession, order_id: int) -> list[OrderHistoryDO]:
    rows = await session.execute(
        select(OrderHistoryDO)
        .where(OrderHistoryDO.order_id == order_id)
        .order_by(OrderHistoryDO.id)
    )
    return list(rows.scalars())


async def expired_unpaid_order_ids(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    rows = await session.execute(
        select(OrderDO.id)
        .where(OrderDO.status == "pending_payment", OrderDO.expires_at < now)
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


async def payments_of_order(session: AsyncSession, order_id: int) -> list[PaymentDO]:
    rows = await session.execute(
        select(PaymentDO).where(PaymentDO.order_id == order_id).order_by(PaymentDO.id)
    )
    return list(rows.scalars())


async def claim_order_for_payment(
    session: AsyncSession, *, order_id: int, seen_version: int
) -> bool:
    """Serialise pay requests of one order: bump its version if it is still the one read
    and the order still waits for payment. Of two concurrent requests one gets True."""
    result = await session.execute(
        update(OrderDO)
        .where(
            OrderDO.id == order_id,
            OrderDO.version == seen_version,
            OrderDO.status == "pending_payment",
        )
        .values(version=OrderDO.version + 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def claim_order_for_refund(
    session: AsyncSession, *, order_id: int, seen_version: int
) -> bool:
    """Serialise refund requests of one order (their sum must never exceed what was paid)."""
    result = await session.execute(
        update(OrderDO)
        .where(OrderDO.id == order_id, OrderDO.version == seen_version)
        .values(version=OrderDO.version + 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def attempts_of_order(session: AsyncSession, order_id: int) -> list[PaymentAttemptDO]:
    rows = await session.execute(
        select(PaymentAttemptDO)
        .where(PaymentAttemptDO.order_id == order_id)
        .order_by(PaymentAttemptDO.id)
    )
    return list(rows.scalars())


async def get_attempt(
    session: AsyncSession, attempt_id: int, *, for_update: bool = False
) -> PaymentAttemptDO | None:
    query = select(PaymentAttemptDO).where(PaymentAttemptDO.id == attempt_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def get_attempt_by_trade_no(
    session: AsyncSession, out_trade_no: str, *, for_update: bool = False
) -> PaymentAttemptDO | None:
    query = select(PaymentAttemptDO).where(PaymentAttemptDO.out_trade_no == out_trade_no)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def delete_attempt(session: AsyncSession, attempt_id: int) -> None:
    await session.execute(delete(PaymentAttemptDO).where(PaymentAttemptDO.id == attempt_id))


async def attempts_to_reconcile(
    session: AsyncSession, *, statuses: Sequence[str], touched_before: datetime, limit: int
) -> list[tuple[PaymentAttemptDO, OrderDO]]:
    """Open or orphaned trades nobody has looked at since `touched_before`, oldest first,
    with their orders."""
    rows = await session.execute(
        select(PaymentAttemptDO, OrderDO)
        .join(OrderDO, OrderDO.id == PaymentAttemptDO.order_id)
        .where(
            PaymentAttemptDO.status.in_(statuses),
            PaymentAttemptDO.updated_at < touched_before,
        )
        .order_by(PaymentAttemptDO.updated_at, PaymentAttemptDO.id)
        .limit(limit)
    )
    return [(attempt, order) for attempt, order in rows.all()]


async def refunds_of_order(session: AsyncSession, order_id: int) -> list[PaymentRefundDO]:
    rows = await session.execute(
        select(PaymentRefundDO)
        .where(PaymentRefundDO.order_id == order_id)
        .order_by(PaymentRefundDO.id)
    )
    return list(rows.scalars())


async def get_refund(
    session: AsyncSession, refund_id: int, *, for_update: bool = False
) -> PaymentRefundDO | None:
    query = select(PaymentRefundDO).where(PaymentRefundDO.id == refund_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def get_refund_by_no(
    session: AsyncSession, out_refund_no: str, *, for_update: bool = False
) -> PaymentRefundDO | None:
    query = select(PaymentRefundDO).where(PaymentRefundDO.out_refund_no == out_refund_no)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def refunds_to_reconcile(
    session: AsyncSession, *, statuses: Sequence[str], touched_before: datetime, limit: int
) -> list[PaymentRefundDO]:
    rows = await session.execute(
        select(PaymentRefundDO)
        .where(
            PaymentRefundDO.status.in_(statuses),
            PaymentRefundDO.updated_at < touched_before,
        )
        .order_by(PaymentRefundDO.updated_at, PaymentRefundDO.id)
        .limit(limit)
    )
    return list(rows.scalars())


async def delete_idempotency_record(session: AsyncSession, user_id: int, key: str) -> None:
    await session.execute(
        delete(IdempotencyRecordDO).where(
            IdempotencyRecordDO.user_id == user_id, IdempotencyRecordDO.idempotency_key == key
        )
    )


async def add_refunded_amount(session: AsyncSession, order_id: int, amount: Decimal) -> None:
    """Count a succeeded refund, atomically (two refunds may settle at once)."""
    await session.execute(
        update(OrderDO)
        .where(OrderDO.id == order_id)
        .values(refunded_amount=OrderDO.refunded_amount + amount)
        .execution_options(synchronize_session=False)
    )


# --- exports and bulk imports (for the report block) ----------------------------------------

ORDER_EXPORT_COLUMNS = (
    OrderDO.id,
    OrderDO.order_no,
    OrderDO.user_id,
    OrderDO.status,
    OrderDO.total,
    OrderDO.currency,
    OrderDO.payment_method,
    OrderDO.tracking_no,
    OrderDO.created_at,
    OrderDO.updated_at,
)
PRODUCT_EXPORT_COLUMNS = (
    ProductDO.id,
    ProductDO.sku,
    ProductDO.name,
    ProductDO.description,
    ProductDO.price,
    ProductDO.currency,
    ProductDO.stock,
    ProductDO.status,
    ProductDO.created_at,
    ProductDO.updated_at,
)


def order_filters(status: str | None, user_id: int | None) -> list[Any]:
    """The conditions of `GET /orders` (and of its export)."""
    conditions: list[Any] = []
    if status is not None:
        conditions.append(OrderDO.status == status)
    if user_id is not None:
        conditions.append(OrderDO.user_id == user_id)
    return conditions


def product_filters(
    q: str | None, min_price: Decimal | None, max_price: Decimal | None, status: str | None
) -> list[Any]:
    """The conditions of `GET /products` for staff (and of its export)."""
    conditions: list[Any] = [ProductDO.deleted_at.is_(None)]
    if q:
        pattern = "%" + escape_like(q) + "%"
        conditions.append(
            ProductDO.name.like(pattern, escape="\\") | ProductDO.sku.like(pattern, escape="\\")
        )
    if min_price is not None:
        conditions.append(ProductDO.price >= min_price)
    if max_price is not None:
        conditions.append(ProductDO.price <= max_price)
    if status is not None:
        conditions.append(ProductDO.status == status)
    return conditions


async def count_orders(session: AsyncSession, conditions: list[Any]) -> int:
    return int(await session.scalar(select(func.count(OrderDO.id)).where(*conditions)) or 0)


async def count_products(session: AsyncSession, conditions: list[Any]) -> int:
    return int(await session.scalar(select(func.count(ProductDO.id)).where(*conditions)) or 0)


async def order_page(
    session: AsyncSession, conditions: list[Any], *, after_id: int, limit: int
) -> Sequence[Any]:
    """Up to `limit` export rows (tuples of ORDER_EXPORT_COLUMNS) with id > `after_id`."""
    result = await session.execute(
        select(*ORDER_EXPORT_COLUMNS)
        .where(*conditions, OrderDO.id > after_id)
        .order_by(OrderDO.id)
        .limit(limit)
    )
    return result.all()


async def product_page(
    session: AsyncSession, conditions: list[Any], *, after_id: int, limit: int
) -> Sequence[Any]:
    result = await session.execute(
        select(*PRODUCT_EXPORT_COLUMNS)
        .where(*conditions, ProductDO.id > after_id)
        .order_by(ProductDO.id)
        .limit(limit)
    )
    return result.all()


async def existing_skus(session: AsyncSession, skus: Sequence[str]) -> set[str]:
    """Which of `skus` exist (deleted products keep theirs: SKUs are unique for ever)."""
    rows = await session.execute(select(ProductDO.sku).where(ProductDO.sku.in_(list(skus))))
    return {row[0] for row in rows}


async def insert_products(session: AsyncSession, values: list[dict[str, Any]]) -> list[int]:
    """Insert many products in one statement; returns their ids."""
    await session.execute(insert(ProductDO), values)
    rows = await session.execute(
        select(ProductDO.id).where(ProductDO.sku.in_([value["sku"] for value in values]))
    )
    return sorted(row[0] for row in rows)
