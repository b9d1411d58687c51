"""Events the order block publishes (through the outbox, after commit).

Every `order.*` topic carries the same `OrderEvent` payload: a snapshot of the order after
the change. Consumers: notify (mail/SMS per the owner's settings); realtime and report later.
`product.changed` says which products changed (catalogue edits, stock moved by orders); a
consumer that needs the new state reads it through the order service (cached).
`order.refund_*` follow a refund through the payment provider (`RefundEvent`);
`order.refund_due` is the order block's own job: a refund it owes (a payment that arrived
after its order was cancelled) waiting to be sent to the provider.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from tessera.lib.tasks import EventPayload, Topic


class OrderLine(EventPayload):
    product_id: int
    sku: str
    name: str
    unit_price: str  # decimal string, like the API
    quantity: int
    line_total: str


class OrderEvent(EventPayload):
    order_id: int
    order_no: str
    user_id: int
    status: str
    total: str
    currency: str
    items: list[OrderLine] = []
    reason: str | None = None
    carrier: str | None = None
    tracking_no: str | None = None
    occurred_at: datetime | None = None


ORDER_CREATED = Topic("order.created", OrderEvent, description="An order was placed")
ORDER_PAID = Topic("order.paid", OrderEvent, description="An order was paid")
ORDER_SHIPPED = Topic("order.shipped", OrderEvent, description="An order was shipped")
ORDER_COMPLETED = Topic("order.completed", OrderEvent, description="The buyer confirmed delivery")
ORDER_CANCELLED = Topic(
    "order.cancelled", OrderEvent, description="An unpaid order was cancelled (stock returned)"
)
ORDER_REFUNDED = Topic(
    "order.refunded", OrderEvent, description="A paid order was refunded (stock returned)"
)

# Every change of an order's status, in lifecycle order (notification settings list them).
ORDER_TOPICS: tuple[Topic[OrderEvent], ...] = (
    ORDER_CREATED,
    ORDER_PAID,
    ORDER_SHIPPED,
    ORDER_COMPLETED,
    ORDER_CANCELLED,
    ORDER_REFUNDED,
)
ORDER_TOPIC_BY_STATUS: dict[str, Topic[OrderEvent]] = {
    "paid": ORDER_PAID,
    "shipped": ORDER_SHIPPED,
    "completed": ORDER_COMPLETED,
    "cancelled": ORDER_CANCELLED,
    "refunded": ORDER_REFUNDED,
}


# Why products changed: a catalogue edit by staff, or `stock` moved by placing an order or by
# cancelling, refunding or expiring one. The payload keeps a plain `str` so that a consumer
# built before a new reason is added still reads the event.
ProductChangeReason = Literal["created", "updated", "deleted", "stock"]


class ProductChanged(EventPayload):
    """One per transaction: every product it changed, each once, in id order."""

    product_ids: list[int]
    reason: str


PRODUCT_CHANGED = Topic(
    "product.changed",
    ProductChanged,
    description="Products were created, edited, deleted, or their stock moved",
)


class RefundEvent(EventPayload):
    """A refund of an order through its payment provider, as it is after the change."""

    refund_id: int
    order_id: int
    order_no: str
    user_id: int
    provider: str
    out_refund_no: str
    amount: str  # decimal string, like the API
    currency: str
    status: str  # requested | pending | succeeded | failed
    automatic: bool  # Tessera refunded a payment it could not accept (e.g. after cancel)
    reason: str | None = None
    detail: str | None = None
    occurred_at: datetime | None = None


ORDER_REFUND_SUCCEEDED = Topic(
    "order.refund_succeeded",
    RefundEvent,
    description="The payment provider confirmed a refund (full or partial)",
)
ORDER_REFUND_FAILED = Topic(
    "order.refund_failed",
    RefundEvent,
    description="The payment provider refused or gave up a refund",
)
ORDER_REFUND_DUE = Topic(
    "order.refund_due",
    RefundEvent,
    description="A refund Tessera owes (a late or second payment) waits to be sent",
)
