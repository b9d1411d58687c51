"""The order block: products, stock, orders and their state machine, payments (sandbox,
generic webhooks, Alipay, WeChat Pay), refunds, reconciliation and expiry."""

from __future__ import annotations

from tessera.blocks.order.controller import router
from tessera.blocks.order.events import ORDER_CANCELLED, ORDER_REFUND_DUE, OrderEvent, RefundEvent
from tessera.blocks.order.service import (
    expire_unpaid_orders,
    on_order_cancelled,
    on_refund_due,
    reconcile_payments,
)
from tessera.blocks.order.service.gateways import gateways, start_gateways, stop_gateways
from tessera.lib.runtime import Block, Runtime
from tessera.lib.tasks import Event


async def _schedule_expiry(runtime: Runtime) -> None:
    async def expire() -> None:
        await expire_unpaid_orders(runtime=runtime)

    runtime.events.every(
        runtime.settings.order.expire_check_interval_seconds, "order.expire_unpaid", expire
    )


async def _start_payments(runtime: Runtime) -> None:
    """Build the payment gateways (a bad key stops start-up here) and, when there are any,
    the jobs that keep Tessera and the providers in agreement."""
    await start_gateways(runtime)
    if not gateways(runtime):
        return

    async def reconcile() -> None:
        await reconcile_payments(runtime=runtime)

    async def close_trades(event: Event[OrderEvent]) -> None:
        await on_order_cancelled(runtime, event)

    async def send_refund(event: Event[RefundEvent]) -> None:
        await on_refund_due(runtime, event)

    runtime.events.every(
        runtime.settings.order.payments.reconcile_interval_seconds,
        "order.reconcile_payments",
        reconcile,
    )
    runtime.events.subscribe(ORDER_CANCELLED, "order.close_trades", close_trades)
    runtime.events.subscribe(ORDER_REFUND_DUE, "order.send_refund", send_refund)


block = Block(
    name="order",
    router=router,
    depends_on=("user",),
    on_startup=(_schedule_expiry, _start_payments),
    on_shutdown=(stop_gateways,),
    description="Products, stock, orders, payments",
)
