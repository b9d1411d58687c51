"""The order block: products, stock, orders and their state machine, payments, expiry."""

from __future__ import annotations

from tessera.blocks.order.controller import router
from tessera.blocks.order.service import expire_unpaid_orders
from tessera.lib.runtime import Block, Runtime


async def _schedule_expiry(runtime: Runtime) -> None:
    async def expire() -> None:
        await expire_unpaid_orders(runtime=runtime)

    runtime.events.every(
        runtime.settings.order.expire_check_interval_seconds, "order.expire_unpaid", expire
    )


block = Block(
    name="order",
    router=router,
    depends_on=("user",),
    on_startup=(_schedule_expiry,),
    description="Products, stock, orders, payments",
)
