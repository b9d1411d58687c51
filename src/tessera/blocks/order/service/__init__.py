"""Use cases of the order block, one module per concern; import them from here
(`from tessera.blocks.order import service`; `service.place_order(...)`).

- `catalogue`: products: create, edit, delete, cached reads, lists.
- `ordering`: place an order (stock, `Idempotency-Key`), view one, list, history.
- `lifecycle`: ship, complete, cancel, refund, expire unpaid orders: the I/O side of the
  state machine (one versioned transaction per transition).
- `payments`: pay through a provider; the providers' signed callbacks.

Pure modules, no I/O, unit-tested without a database:
- `state_machine`: statuses, transitions, who may perform which (owner / staff / system).
- `money`: cents, line and order totals.
- `order_no`: the format of order numbers.

`common` holds what the use cases share (DTO mapping, cache keys, event payloads). Every use
case is one transaction, publishes its events in it, and invalidates caches after commit.
"""

from tessera.blocks.order.service.catalogue import (
    PRODUCT_MANAGE,
    create_product,
    delete_product,
    get_product,
    list_products,
    update_product,
)
from tessera.blocks.order.service.lifecycle import (
    cancel_order,
    complete_order,
    expire_unpaid_orders,
    refund_order,
    ship_order,
)
from tessera.blocks.order.service.ordering import (
    PlacedOrder,
    get_order_for_viewer,
    list_orders,
    order_history,
    place_order,
)
from tessera.blocks.order.service.payments import PaidOrder, handle_payment_callback, pay_order
from tessera.blocks.order.service.state_machine import (
    ORDER_MANAGE,
    ORDER_READ_ANY,
    TRANSITIONS,
    Actor,
    Transition,
)

__all__ = [
    "ORDER_MANAGE",
    "ORDER_READ_ANY",
    "PRODUCT_MANAGE",
    "TRANSITIONS",
    "Actor",
    "PaidOrder",
    "PlacedOrder",
    "Transition",
    "cancel_order",
    "complete_order",
    "create_product",
    "delete_product",
    "expire_unpaid_orders",
    "get_order_for_viewer",
    "get_product",
    "handle_payment_callback",
    "list_orders",
    "list_products",
    "order_history",
    "pay_order",
    "place_order",
    "refund_order",
    "ship_order",
    "update_product",
]
