"""Moving orders along their lifecycle: ship, complete, cancel. This is the I/O side of the
state machine (`state_machine.py` decides); payments and refunds (`payments.py`,
`refunds.py`) move orders through `transition_in`, in their own transactions, and the job
that cancels orders left unpaid lives with reconciliation (it asks the providers first).

`apply_transition` is one transaction: it reads the order, asks `decide`, then moves the
order only if its version is still the one it read (of two concurrent transitions exactly one
wins, the other gets 409), returns stock if the transition says so, records the history and
publishes `order.<status>` (plus `product.changed`, reason `stock`, when stock came back).
"""

from __future__ import annotations

from typing import Any

import structlog

from tessera.blocks.order import dao
from tessera.blocks.order.events import ORDER_TOPIC_BY_STATUS
from tessera.blocks.order.model.do import OrderDO, OrderHistoryDO, PaymentDO
from tessera.blocks.order.model.dto import OrderOut
from tessera.blocks.order.service.common import (
    forget_after_commit,
    order_event,
    order_key,
    order_out,
    product_key,
    publish_product_changed,
)
from tessera.blocks.order.service.state_machine import Action, Actor, decide
from tessera.lib.db import UnitOfWork, utcnow
from tessera.lib.errors import Conflict, NotFound
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.tasks import publish

log = structlog.get_logger("tessera.order")


async def transition_in(
    uow: UnitOfWork,
    runtime: Runtime,
    *,
    order: OrderDO,
    action: Action,
    actor: Actor,
    reason: str | None = None,
    values: dict[str, Any] | None = None,
) -> OrderOut:
    """Apply `action` to `order` inside the caller's transaction (`uow`): the versioned
    UPDATE, stock, history, cache invalidation and events. Payments and refunds use it to
    move the order in the same transaction as their own rows."""
    now = utcnow()
    transition = decide(action=action, status=order.status, owner_id=order.user_id, actor=actor)
    moved = await dao.move_order(
        uow.session,
        order_id=order.id,
        seen_version=order.version,
        from_status=transition.from_status,
        values={"status": transition.to_status, "updated_at": now, **(values or {})},
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
    log.info("order_transition", order_id=order.id, to=transition.to_status, actor=actor.label)
    return out


async def apply_transition(
    runtime: Runtime,
    *,
    order_id: int,
    action: Action,
    actor: Actor,
    reason: str | None = None,
    values: dict[str, Any] | None = None,
    payment: PaymentDO | None = None,
) -> OrderOut:
    """Apply `action` to the order as `actor`, setting `values` on it and adding `payment`
    (its row's unique key makes a replayed provider callback fail with IntegrityError)."""
    async with runtime.db.transaction() as uow:
        order = await dao.get_order(uow.session, order_id)
        if order is None:
            raise NotFound("No such order.", code="order.not_found")
        if payment is not None:
            uow.session.add(payment)
        return await transition_in(
            uow, runtime, order=order, action=action, actor=actor, reason=reason, values=values
        )


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
