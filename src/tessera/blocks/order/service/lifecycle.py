"""Moving orders along their lifecycle: ship, complete, cancel, refund, and the job that cancels
orders left unpaid. This is the I/O side of the state machine (`state_machine.py` decides).

`apply_transition` is one transaction: it reads the order, asks `decide`, then moves the
order only if its version is still the one it read (of two concurrent transitions exactly one
wins, the other gets 409), returns stock if the transition says so, records the history and
publishes `order.<status>` (plus `product.changed`, reason `stock`, when stock came back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from tessera.blocks.order import dao
from tessera.blocks.order.events import ORDER_TOPIC_BY_STATUS
from tessera.blocks.order.model.do import IdempotencyRecordDO, OrderHistoryDO, PaymentDO
from tessera.blocks.order.model.dto import OrderOut
from tessera.blocks.order.service.common import (
    forget_after_commit,
    order_event,
    order_key,
    order_out,
    product_key,
    publish_product_changed,
)
from tessera.blocks.order.service.state_machine import SYSTEM, Action, Actor, decide
from tessera.lib.db import utcnow
from tessera.lib.errors import Conflict, NotFound
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.tasks import publish

log = structlog.get_logger("tessera.order")


# A claim to charge an order (`dao.reserve_payment`) whose process died mid-charge may be
# taken over after this long; providers get the order number as their idempotency key, so a
# charge that did happen is not made twice by whoever takes over. Unpaid-order expiry leaves
# a fresher claim alone.
PAYMENT_CLAIM_SECONDS = 120


def payment_claims_expired() -> datetime:
    """Claims made before this moment are stale."""
    return utcnow() - timedelta(seconds=PAYMENT_CLAIM_SECONDS)


@dataclass(frozen=True, slots=True)
class Remembered:
    """Where an answer is kept for replay: the caller's (user, Idempotency-Key, request)."""

    user_id: int
    key: str
    request_hash: str


async def apply_transition(
    runtime: Runtime,
    *,
    order_id: int,
    action: Action,
    actor: Actor,
    reason: str | None = None,
    values: dict[str, Any] | None = None,
    payment: PaymentDO | None = None,
    remember: Remembered | None = None,
    unclaimed_before: datetime | None = None,
) -> OrderOut:
    """Apply `action` to the order as `actor`, setting `values` on it and adding `payment`
    (its row's unique key makes a replayed provider callback fail with IntegrityError).
    `remember` stores the answer under an Idempotency-Key in the same transaction."""
    now = utcnow()
    async with runtime.db.transaction() as uow:
        order = await dao.get_order(uow.session, order_id)
        if order is None:
            raise NotFound("No such order.", code="order.not_found")
        transition = decide(action=action, status=order.status, owner_id=order.user_id, actor=actor)
        moved = await dao.move_order(
            uow.session,
            order_id=order.id,
            seen_version=order.version,
            from_status=transition.from_status,
            values={"status": transition.to_status, "updated_at": now, **(values or {})},
            unclaimed_before=unclaimed_before,
        )
        if not moved:
            raise Conflict(
                "The order changed at the same time; reload it and try again.",
                code="order.invalid_state",
            )
        product_ids = sorted({item.product_id for item in order.items})
        if transition.restores_stock:
            for item in sorted(order.items, key=lambda line: line.product_id):
                await dao.return_stock(uow.session, item.product_id, item.quantity)
        if payment is not None:
            uow.session.add(payment)
        uow.session.add(
            OrderHistoryDO(
                order_id=order.id,
                from_status=transition.from_status,
                to_status=transition.to_status,
                actor_id=actor.user_id,
                actor=actor.label,
                reason=reason,
                created_at=now,
            )
        )
        await uow.session.flush()
        await uow.session.refresh(order)
        out = order_out(order)
        if remember is not None:
            uow.session.add(
                IdempotencyRecordDO(
                    user_id=remember.user_id,
                    idempotency_key=remember.key,
                    request_hash=remember.request_hash,
                    resource_id=order.id,
                    response_body=out.model_dump_json(),
                )
            )
        keys = [order_key(runtime, order.id)]
        if transition.restores_stock:
            keys += [product_key(runtime, product_id) for product_id in product_ids]
        forget_after_commit(uow, runtime, *keys)
        await publish(
            uow,
            runtime.events,
            ORDER_TOPIC_BY_STATUS[transition.to_status],
            order_event(out, reason=reason),
            aggregate_id=order.id,
        )
        if transition.restores_stock:
            await publish_product_changed(uow, runtime, product_ids, "stock")
    log.info("order_transition", order_id=order_id, to=transition.to_status, actor=actor.label)
    return out


async def ship_order(
    *, runtime: Runtime, principal: Principal, order_id: int, carrier: str, tracking_no: str
) -> OrderOut:
    return await apply_transition(
        runtime,
        order_id=order_id,
        action="ship",
        actor=Actor.of(principal),
        values={"carrier": carrier, "tracking_no": tracking_no},
    )


async def complete_order(*, runtime: Runtime, principal: Principal, order_id: int) -> OrderOut:
    return await apply_transition(
        runtime, order_id=order_id, action="complete", actor=Actor.of(principal)
    )


async def cancel_order(
    *, runtime: Runtime, principal: Principal, order_id: int, reason: str | None
) -> OrderOut:
    return await apply_transition(
        runtime, order_id=order_id, action="cancel", actor=Actor.of(principal), reason=reason
    )


async def refund_order(
    *, runtime: Runtime, principal: Principal, order_id: int, reason: str | None
) -> OrderOut:
    return await apply_transition(
        runtime, order_id=order_id, action="refund", actor=Actor.of(principal), reason=reason
    )


async def expire_unpaid_orders(*, runtime: Runtime, batch_size: int = 100) -> int:
    """Cancel orders left unpaid past their deadline and give their stock back."""
    async with runtime.db.read() as session:
        ids = await dao.expired_unpaid_order_ids(
            session, utcnow(), batch_size, unclaimed_before=payment_claims_expired()
        )
    expired = 0
    for order_id in ids:
        try:
            await apply_transition(
                runtime,
                order_id=order_id,
                action="cancel",
                actor=SYSTEM,
                reason="payment timeout",
                # Never cancel under a payment that is being charged right now.
                unclaimed_before=payment_claims_expired(),
            )
            expired += 1
        except Conflict:
            pass  # paid or cancelled meanwhile: nothing to do
    if expired:
        log.info("unpaid_orders_expired", count=expired)
    return expired
