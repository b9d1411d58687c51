"""Use cases of the order block, one module per concern; import them from here
(`from tessera.blocks.order import service`; `service.place_order(...)`).

- `catalogue`: products: create, edit, delete, cached reads, lists.
- `ordering`: place an order (stock, `Idempotency-Key`), view one, list, history.
- `lifecycle`: ship, complete, cancel: the I/O side of the state machine (one versioned
  transaction per transition; `transition_in` moves an order inside another use case's).
- `payments`: pay (sandbox, generic webhooks, Alipay and WeChat Pay through `gateways`),
  provider callbacks, settling a paid trade once.
- `refunds`: refunds through the provider, partial or full, and their outcomes.
- `reconciliation`: the periodic job that recovers missed callbacks, closes trades of
  orders that will not be paid, retries refunds; the expiry of unpaid orders.
- `reports`: for the report block: export rows by keyset pages, SKU checks and bulk creation
  for the product import, an order by id for its documents.

Pure modules, no I/O, unit-tested without a database:
- `state_machine`: statuses, transitions, who may perform which (owner / staff / system).
- `money`: cents, line and order totals.
- `order_no`: the format of order numbers.
- `payment_rules`: trade and refund numbers, attempt and refund statuses, refundable amounts.

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
    ship_order,
)
from tessera.blocks.order.service.ordering import (
    PlacedOrder,
    get_order_for_viewer,
    list_orders,
    order_history,
    place_order,
)
from tessera.blocks.order.service.payments import (
    PaidOrder,
    handle_payment_callback,
    handle_provider_callback,
    list_payments,
    pay_order,
    payment_methods,
)
from tessera.blocks.order.service.reconciliation import (
    expire_unpaid_orders,
    on_order_cancelled,
    on_refund_due,
    reconcile_payments,
)
from tessera.blocks.order.service.refunds import (
    RequestedRefund,
    list_refunds,
    refund_order,
    request_refund,
)
from tessera.blocks.order.service.reports import (
    count_orders,
    count_products,
    create_products,
    create_products_where_new,
    existing_skus,
    get_order,
    order_rows,
    product_rows,
)
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
    "RequestedRefund",
    "Transition",
    "cancel_order",
    "complete_order",
    "count_orders",
    "count_products",
    "create_product",
    "create_products",
    "create_products_where_new",
    "delete_product",
    "existing_skus",
    "expire_unpaid_orders",
    "get_order",
    "get_order_for_viewer",
    "get_product",
    "handle_payment_callback",
    "handle_provider_callback",
    "list_orders",
    "list_payments",
    "list_products",
    "list_refunds",
    "on_order_cancelled",
    "on_refund_due",
    "order_history",
    "order_rows",
    "pay_order",
    "payment_methods",
    "place_order",
    "product_rows",
    "reconcile_payments",
    "refund_order",
    "request_refund",
    "ship_order",
    "update_product",
]
