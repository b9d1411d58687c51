"""What the order use cases share: rows to DTOs, cache keys and their invalidation after
commit, and the payloads of the events they publish.

Inside a transaction, invalidate caches *before* publishing: after-commit callbacks run in
the order they were registered, so the cache is clean by the time the in-process worker is
woken and a consumer of the event reads the product or order again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from tessera.blocks.order.events import (
    PRODUCT_CHANGED,
    OrderEvent,
    OrderLine,
    ProductChanged,
    ProductChangeReason,
    RefundEvent,
)
from tessera.blocks.order.model.do import OrderDO, PaymentRefundDO, ProductDO
from tessera.blocks.order.model.dto import OrderOut, ProductOut
from tessera.blocks.order.service.money import money_string
from tessera.lib.db import UnitOfWork, utcnow
from tessera.lib.runtime import Runtime
from tessera.lib.tasks import publish

BLOCK: Final = "order"


def product_out(product: ProductDO) -> ProductOut:
    return ProductOut.model_validate(product, from_attributes=True)


def order_out(order: OrderDO) -> OrderOut:
    return OrderOut.model_validate(order, from_attributes=True)


def product_key(runtime: Runtime, product_id: int) -> str:
    return runtime.cache.key(BLOCK, "product", product_id)


def order_key(runtime: Runtime, order_id: int) -> str:
    return runtime.cache.key(BLOCK, "order", order_id)


def forget_after_commit(uow: UnitOfWork, runtime: Runtime, *keys: str) -> None:
    """Drop cache entries once the transaction has committed (never before: a reader could
    cache the old row again in between)."""

    async def invalidate() -> None:
        await runtime.cache.delete(*keys)

    uow.after_commit(invalidate)


def order_event(order: OrderOut, *, reason: str | None = None) -> OrderEvent:
    """The payload of every `order.*` event: the order as it is after the change."""
    return OrderEvent(
        order_id=order.id,
        order_no=order.order_no,
        user_id=order.user_id,
        status=order.status,
        total=money_string(order.total),
        currency=order.currency,
        items=[
            OrderLine(
                product_id=item.product_id,
                sku=item.sku,
                name=item.name,
                unit_price=money_string(item.unit_price),
                quantity=item.quantity,
                line_total=money_string(item.line_total),
            )
            for item in order.items
        ],
        reason=reason,
        carrier=order.carrier,
        tracking_no=order.tracking_no,
        occurred_at=utcnow(),
    )


async def publish_product_changed(
    uow: UnitOfWork, runtime: Runtime, product_ids: Iterable[int], reason: ProductChangeReason
) -> None:
    """One `product.changed` for the transaction, listing each product once (in id order)."""
    ids = sorted(set(product_ids))
    await publish(
        uow,
        runtime.events,
        PRODUCT_CHANGED,
        ProductChanged(product_ids=ids, reason=reason),
        # One product: its id orders its events for the worker; several: none does.
        aggregate_id=ids[0] if len(ids) == 1 else None,
    )


def refund_event(refund: PaymentRefundDO, order: OrderDO) -> RefundEvent:
    """The payload of every `order.refund_*` event: the refund as it is after the change."""
    return RefundEvent(
        refund_id=refund.id,
        order_id=order.id,
        order_no=order.order_no,
        user_id=order.user_id,
        provider=refund.provider,
        out_refund_no=refund.out_refund_no,
        amount=money_string(refund.amount),
        currency=refund.currency,
        status=refund.status,
        automatic=refund.automatic,
        reason=refund.reason,
        detail=refund.detail,
        occurred_at=utcnow(),
    )
