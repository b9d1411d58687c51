"""Placing orders and reading them: `place_order` (with its `Idempotency-Key`), one order as
its viewer may see it, lists, and an order's history.

Placing is one transaction. Each line's stock is taken with a conditional UPDATE, lines in
product-id order so that concurrent orders lock rows in the same order and cannot deadlock;
if any line is short, everything rolls back and nothing is published. A committed order
publishes `order.created` and one `product.changed` (reason `stock`) for its products.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import structlog
from sqlalchemy.exc import IntegrityError

from tessera.blocks.order import dao
from tessera.blocks.order.events import ORDER_CREATED
from tessera.blocks.order.model.do import (
    IdempotencyRecordDO,
    OrderDO,
    OrderHistoryDO,
    OrderItemDO,
)
from tessera.blocks.order.model.dto import OrderCreateIn, OrderHistoryOut, OrderOut
from tessera.blocks.order.service import money
from tessera.blocks.order.service.common import (
    forget_after_commit,
    order_event,
    order_key,
    order_out,
    product_key,
    publish_product_changed,
)
from tessera.blocks.order.service.order_no import new_order_no
from tessera.blocks.order.service.state_machine import INITIAL_STATUS, ORDER_READ_ANY, can_see
from tessera.lib.db import utcnow
from tessera.lib.errors import Conflict, NotFound, ValidationFailed
from tessera.lib.pagination import Page, PageParams
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.tasks import publish

log = structlog.get_logger("tessera.order")


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    order: OrderOut
    replayed: bool  # True: an earlier request with the same Idempotency-Key placed it


def _request_hash(data: OrderCreateIn) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _replay(
    runtime: Runtime, *, user_id: int, key: str, request_hash: str
) -> PlacedOrder | None:
    async with runtime.db.read() as session:
        record = await dao.get_idempotency_record(session, user_id, key)
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise Conflict(
            "This Idempotency-Key was used with a different request.",
            code="idempotency.key_reused",
        )
    return PlacedOrder(OrderOut.model_validate_json(record.response_body), replayed=True)


def _check_amounts(data: OrderCreateIn, line_totals: dict[int, Decimal]) -> None:
    """Refuse (422) lines and orders whose total would not fit the money columns."""
    errors = [
        {
            "loc": ["body", "items", index, "quantity"],
            "msg": f"the line total exceeds {money.MAX_AMOUNT}",
            "type": "amount_out_of_range",
        }
        for index, line in enumerate(data.items)
        if not money.storable(line_totals[line.product_id])
    ]
    if not errors and not money.storable(money.order_total(line_totals.values())):
        errors.append(
            {
                "loc": ["body", "items"],
                "msg": f"the order total exceeds {money.MAX_AMOUNT}",
                "type": "amount_out_of_range",
            }
        )
    if errors:
        raise ValidationFailed(
            f"An order or line total may be at most {money.MAX_AMOUNT}.",
            code="order.amount_out_of_range",
            errors=errors,
        )


async def place_order(
    *,
    runtime: Runtime,
    principal: Principal,
    data: OrderCreateIn,
    idempotency_key: str | None,
) -> PlacedOrder:
    request_hash = _request_hash(data)
    if idempotency_key:
        replayed = await _replay(
            runtime, user_id=principal.id, key=idempotency_key, request_hash=request_hash
        )
        if replayed is not None:
            return replayed
    lines = sorted(data.items, key=lambda line: line.product_id)
    now = utcnow()
    try:
        async with runtime.db.transaction() as uow:
            products = await dao.products_by_ids(uow.session, [line.product_id for line in lines])
            missing = [line.product_id for line in lines if line.product_id not in products]
            if missing:
                raise ValidationFailed(
                    f"Unknown product {missing[0]}.",
                    code="order.unknown_product",
                    errors=[
                        {
                            "loc": ["body", "items", index, "product_id"],
                            "msg": f"unknown product {line.product_id}",
                            "type": "unknown_product",
                        }
                        for index, line in enumerate(data.items)
                        if line.product_id in missing
                    ],
                )
            for line in lines:
                product = products[line.product_id]
                if product.status != "active":
                    raise Conflict(
                        f"Product {product.id} ({product.sku}) is not for sale.",
                        code="order.product_unavailable",
                        extra={"product_id": product.id},
                    )
            currencies = {products[line.product_id].currency for line in lines}
            if len(currencies) > 1:
                raise ValidationFailed(
                    "All lines of an order must share one currency.", code="order.mixed_currency"
                )
            line_totals = {
                line.product_id: money.line_total(products[line.product_id].price, line.quantity)
                for line in lines
            }
            _check_amounts(data, line_totals)
            for line in lines:
                if not await dao.take_stock(uow.session, line.product_id, line.quantity):
                    product = products[line.product_id]
                    raise Conflict(
                        f"Not enough stock for product {product.id} ({product.sku}).",
                        code="order.insufficient_stock",
                        extra={"product_id": product.id},
                    )
            items = []
            for line in data.items:  # the buyer's order of lines, as they will see it
                product = products[line.product_id]
                items.append(
                    OrderItemDO(
                        product_id=product.id,
                        sku=product.sku,
                        name=product.name,
                        unit_price=product.price,
                        quantity=line.quantity,
                        line_total=line_totals[product.id],
                    )
                )
            order = OrderDO(
                order_no=new_order_no(now),
                user_id=principal.id,
                status=INITIAL_STATUS,
                total=money.order_total(item.line_total for item in items),
                currency=currencies.pop(),
                shipping_address=data.shipping_address,
                note=data.note,
                expires_at=now + timedelta(seconds=runtime.settings.order.payment_timeout_seconds),
                created_at=now,
                updated_at=now,
                items=items,
            )
            await dao.add(uow.session, order)
            uow.session.add(
                OrderHistoryDO(
                    order_id=order.id,
                    from_status=None,
                    to_status=INITIAL_STATUS,
                    actor_id=principal.id,
                    actor=f"user:{principal.id}",
                    created_at=now,
                )
            )
            out = order_out(order)
            if idempotency_key:
                uow.session.add(
                    IdempotencyRecordDO(
                        user_id=principal.id,
                        idempotency_key=idempotency_key,
                        request_hash=request_hash,
                        resource_id=order.id,
                        response_body=out.model_dump_json(),
                    )
                )
            product_ids = [line.product_id for line in lines]
            forget_after_commit(uow, runtime, *(product_key(runtime, pid) for pid in product_ids))
            await publish(uow, runtime.events, ORDER_CREATED, order_event(out), aggregate_id=out.id)
            await publish_product_changed(uow, runtime, product_ids, "stock")
    except IntegrityError:
        # Only the idempotency record can collide: a concurrent request with the same key won.
        if idempotency_key:
            replayed = await _replay(
                runtime, user_id=principal.id, key=idempotency_key, request_hash=request_hash
            )
            if replayed is not None:
                return replayed
        raise
    log.info("order_placed", order_id=out.id, total=str(out.total), lines=len(out.items))
    return PlacedOrder(out, replayed=False)


async def get_order_for_viewer(
    *, runtime: Runtime, principal: Principal, order_id: int
) -> OrderOut:
    """The order if the caller may see it; someone else's order is simply not found."""

    async def load() -> OrderOut | None:
        async with runtime.db.read() as session:
            order = await dao.get_order(session, order_id)
            return None if order is None else order_out(order)

    order = await runtime.cache.get_or_load_model(
        order_key(runtime, order_id),
        load,
        OrderOut,
        ttl_seconds=runtime.settings.order.order_cache_ttl_seconds,
    )
    if order is None or not can_see(principal, order.user_id):
        raise NotFound("No such order.", code="order.not_found")
    return order


async def list_orders(
    *,
    runtime: Runtime,
    principal: Principal,
    paging: PageParams,
    status: str | None,
    user_id: int | None,
) -> Page[OrderOut]:
    if principal.has(ORDER_READ_ANY):
        owner = user_id
    else:
        # Customers see their own orders; asking for someone else's finds nothing.
        if user_id is not None and user_id != principal.id:
            return Page[OrderOut].of([], 0, paging)
        owner = principal.id
    async with runtime.db.read() as session:
        rows, total = await dao.search_orders(
            session, user_id=owner, status=status, offset=paging.offset, limit=paging.size
        )
        items = [order_out(row) for row in rows]
    return Page[OrderOut].of(items, total, paging)


async def order_history(
    *, runtime: Runtime, principal: Principal, order_id: int
) -> list[OrderHistoryOut]:
    await get_order_for_viewer(runtime=runtime, principal=principal, order_id=order_id)
    async with runtime.db.read() as session:
        rows = await dao.order_history(session, order_id)
    return [
        OrderHistoryOut(
            from_status=row.from_status,
            to_status=row.to_status,
            actor=row.actor,
            actor_id=row.actor_id,
            reason=row.reason,
            at=row.created_at,
        )
        for row in rows
    ]
