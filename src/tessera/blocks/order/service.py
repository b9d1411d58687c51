"""Use cases of the order block: the product catalogue, placing orders without overselling,
the order state machine, payments and the expiry of unpaid orders.

Every use case is one transaction. Placing an order decrements each line's stock with a
conditional UPDATE (lines in product-id order, so concurrent orders lock rows in the same
order and cannot deadlock); if any line is short, the whole transaction rolls back.
Transitions compare the order's version, so of two concurrent transitions exactly one wins.
Each committed change writes its domain event to the outbox in the same transaction, and
caches are invalidated only after the commit.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError

from tessera.blocks.order import dao
from tessera.blocks.order.events import (
    ORDER_CREATED,
    ORDER_TOPIC_BY_STATUS,
    OrderEvent,
    OrderLine,
)
from tessera.blocks.order.integration import (
    PaymentProvider,
    SandboxProvider,
    WebhookProvider,
    verify_webhook,
)
from tessera.blocks.order.model.do import (
    IdempotencyRecordDO,
    OrderDO,
    OrderHistoryDO,
    OrderItemDO,
    PaymentDO,
    ProductDO,
)
from tessera.blocks.order.model.dto import (
    OrderCreateIn,
    OrderHistoryOut,
    OrderOut,
    PaymentCallbackIn,
    PaymentCallbackOut,
    ProductCreateIn,
    ProductOut,
    ProductUpdateIn,
)
from tessera.lib.db import UnitOfWork, utcnow
from tessera.lib.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from tessera.lib.pagination import Page, PageParams
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.tasks import Topic, publish

log = structlog.get_logger("tessera.order")

BLOCK = "order"
CENT = Decimal("0.01")
PRODUCT_MANAGE = "product:manage"
ORDER_READ_ANY = "order:read:any"
ORDER_MANAGE = "order:manage"


# --- products -------------------------------------------------------------------------------


def _product_out(product: ProductDO) -> ProductOut:
    return ProductOut.model_validate(product, from_attributes=True)


def _product_key(runtime: Runtime, product_id: int) -> str:
    return runtime.cache.key(BLOCK, "product", product_id)


def _order_key(runtime: Runtime, order_id: int) -> str:
    return runtime.cache.key(BLOCK, "order", order_id)


def _forget(uow: UnitOfWork, runtime: Runtime, *keys: str) -> None:
    async def invalidate() -> None:
        await runtime.cache.delete(*keys)

    uow.after_commit(invalidate)


async def create_product(*, runtime: Runtime, data: ProductCreateIn) -> ProductOut:
    try:
        async with runtime.db.transaction() as uow:
            if await dao.sku_exists(uow.session, data.sku):
                raise Conflict(f"SKU {data.sku} already exists.", code="product.sku_taken")
            product = ProductDO(
                sku=data.sku,
                name=data.name,
                description=data.description,
                price=data.price,
                currency=data.currency or runtime.settings.order.default_currency,
                stock=data.stock,
                status=data.status,
            )
            await dao.add(uow.session, product)
            out = _product_out(product)
    except IntegrityError as exc:
        raise Conflict(f"SKU {data.sku} already exists.", code="product.sku_taken") from exc
    return out


async def update_product(*, runtime: Runtime, product_id: int, data: ProductUpdateIn) -> ProductOut:
    changes = data.model_dump(exclude_unset=True)
    async with runtime.db.transaction() as uow:
        product = await dao.get_product(uow.session, product_id)
        if product is None:
            raise NotFound("No such product.", code="product.not_found")
        for name, value in changes.items():
            setattr(product, name, value)
        product.updated_at = utcnow()
        await uow.session.flush()
        await uow.session.refresh(product)
        out = _product_out(product)
        _forget(uow, runtime, _product_key(runtime, product_id))
    return out


async def delete_product(*, runtime: Runtime, product_id: int) -> None:
    """Soft delete: the product disappears from the catalogue; old orders keep their lines."""
    async with runtime.db.transaction() as uow:
        product = await dao.get_product(uow.session, product_id)
        if product is None:
            raise NotFound("No such product.", code="product.not_found")
        product.deleted_at = utcnow()
        product.status = "inactive"
        _forget(uow, runtime, _product_key(runtime, product_id))


async def get_product(*, runtime: Runtime, product_id: int) -> ProductOut:
    """Cached read (cache-aside, single flight); invalidated after every committed change."""

    async def load() -> ProductOut | None:
        async with runtime.db.read() as session:
            product = await dao.get_product(session, product_id)
            return None if product is None else _product_out(product)

    product = await runtime.cache.get_or_load_model(
        _product_key(runtime, product_id),
        load,
        ProductOut,
        ttl_seconds=runtime.settings.order.product_cache_ttl_seconds,
    )
    if product is None:
        raise NotFound("No such product.", code="product.not_found")
    return product


async def list_products(
    *,
    runtime: Runtime,
    viewer: Principal | None,
    paging: PageParams,
    q: str | None,
    min_price: Decimal | None,
    max_price: Decimal | None,
    status: str | None,
    sort: str,
) -> Page[ProductOut]:
    if min_price is not None and max_price is not None and min_price > max_price:
        raise ValidationFailed(
            "min_price is above max_price.",
            code="product.bad_price_range",
            errors=[{"loc": ["query", "min_price"], "msg": "above max_price", "type": "range"}],
        )
    is_staff = viewer is not None and viewer.has(PRODUCT_MANAGE)
    if not is_staff:
        # Shoppers see the active catalogue only.
        if status not in (None, "active"):
            return Page[ProductOut].of([], 0, paging)
        status = "active"
    async with runtime.db.read() as session:
        rows, total = await dao.search_products(
            session,
            q=q,
            min_price=min_price,
            max_price=max_price,
            status=status,
            sort=sort,
            offset=paging.offset,
            limit=paging.size,
        )
        items = [_product_out(row) for row in rows]
    return Page[ProductOut].of(items, total, paging)


# --- orders ---------------------------------------------------------------------------------


def _order_out(order: OrderDO) -> OrderOut:
    return OrderOut.model_validate(order, from_attributes=True)


def _event_payload(order: OrderOut, *, reason: str | None = None) -> OrderEvent:
    """The payload of every `order.*` event (the contract for notify, realtime, ...)."""
    return OrderEvent(
        order_id=order.id,
        order_no=order.order_no,
        user_id=order.user_id,
        status=order.status,
        total=f"{order.total:.2f}",
        currency=order.currency,
        items=[
            OrderLine(
                product_id=item.product_id,
                sku=item.sku,
                name=item.name,
                unit_price=f"{item.unit_price:.2f}",
                quantity=item.quantity,
                line_total=f"{item.line_total:.2f}",
            )
            for item in order.items
        ],
        reason=reason,
        carrier=order.carrier,
        tracking_no=order.tracking_no,
        occurred_at=utcnow(),
    )


def _new_order_no(now: datetime) -> str:
    return now.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"


def _request_hash(data: OrderCreateIn) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    order: OrderOut
    replayed: bool


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
            for line in lines:
                if not await dao.take_stock(uow.session, line.product_id, line.quantity):
                    product = products[line.product_id]
                    raise Conflict(
                        f"Not enough stock for product {product.id} ({product.sku}).",
                        code="order.insufficient_stock",
                        extra={"product_id": product.id},
                    )
            items = []
            for line in data.items:
                product = products[line.product_id]
                line_total = (product.price * line.quantity).quantize(CENT, ROUND_HALF_UP)
                items.append(
                    OrderItemDO(
                        product_id=product.id,
                        sku=product.sku,
                        name=product.name,
                        unit_price=product.price,
                        quantity=line.quantity,
                        line_total=line_total,
                    )
                )
            order = OrderDO(
                order_no=_new_order_no(now),
                user_id=principal.id,
                status="pending_payment",
                total=sum((item.line_total for item in items), Decimal("0.00")),
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
                    to_status="pending_payment",
                    actor_id=principal.id,
                    actor=f"user:{principal.id}",
                    created_at=now,
                )
            )
            out = _order_out(order)
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
            await publish(
                uow, runtime.events, ORDER_CREATED, _event_payload(out), aggregate_id=order.id
            )
            _forget(uow, runtime, *(_product_key(runtime, line.product_id) for line in lines))
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


def _can_see(principal: Principal, order_user_id: int) -> bool:
    return order_user_id == principal.id or principal.has(ORDER_READ_ANY)


async def get_order_for_viewer(
    *, runtime: Runtime, principal: Principal, order_id: int
) -> OrderOut:
    """The order if the caller may see it; someone else's order is simply not found."""

    async def load() -> OrderOut | None:
        async with runtime.db.read() as session:
            order = await dao.get_order(session, order_id)
            return None if order is None else _order_out(order)

    order = await runtime.cache.get_or_load_model(
        _order_key(runtime, order_id),
        load,
        OrderOut,
        ttl_seconds=runtime.settings.order.order_cache_ttl_seconds,
    )
    if order is None or not _can_see(principal, order.user_id):
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
        items = [_order_out(row) for row in rows]
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


# --- the state machine ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transition:
    action: str
    from_status: str
    to_status: str
    restores_stock: bool = False

    @property
    def event(self) -> Topic[OrderEvent]:
        return ORDER_TOPIC_BY_STATUS[self.to_status]


TRANSITIONS = {
    "pay": Transition("pay", "pending_payment", "paid"),
    "ship": Transition("ship", "paid", "shipped"),
    "complete": Transition("complete", "shipped", "completed"),
    "cancel": Transition("cancel", "pending_payment", "cancelled", restores_stock=True),
    "refund": Transition("refund", "paid", "refunded", restores_stock=True),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who moves an order: a user (with their permissions) or the system."""

    label: str
    user_id: int | None = None
    principal: Principal | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(label=f"user:{principal.id}", user_id=principal.id, principal=principal)


SYSTEM = Actor(label="system")

# Which callers may perform an action on an order they can see.
_OWNER_ONLY = {"pay"}
_STAFF_ONLY = {"ship", "refund"}


def _authorize(actor: Actor, order: OrderDO, action: str) -> None:
    principal = actor.principal
    if principal is None:
        return  # the system (expiry job, payment webhook) is always allowed
    if not _can_see(principal, order.user_id):
        raise NotFound("No such order.", code="order.not_found")
    is_owner = order.user_id == principal.id
    is_staff = principal.has(ORDER_MANAGE)
    allowed = (
        is_owner
        if action in _OWNER_ONLY
        else is_staff
        if action in _STAFF_ONLY
        else is_owner or is_staff
    )
    if not allowed:
        raise Forbidden(f"You may not {action} this order.", code="order.action_forbidden")


async def _transition(
    runtime: Runtime,
    *,
    order_id: int,
    action: str,
    actor: Actor,
    reason: str | None = None,
    values: dict[str, Any] | None = None,
    payment: PaymentDO | None = None,
) -> OrderOut:
    transition = TRANSITIONS[action]
    now = utcnow()
    async with runtime.db.transaction() as uow:
        order = await dao.get_order(uow.session, order_id)
        if order is None:
            raise NotFound("No such order.", code="order.not_found")
        _authorize(actor, order, action)
        if order.status != transition.from_status:
            raise Conflict(
                f"Cannot {action} an order that is {order.status}.",
                code="order.invalid_state",
                extra={"status": order.status},
            )
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
        out = _order_out(order)
        await publish(
            uow,
            runtime.events,
            transition.event,
            _event_payload(out, reason=reason),
            aggregate_id=order.id,
        )
        keys = [_order_key(runtime, order.id)]
        if transition.restores_stock:
            keys += [_product_key(runtime, item.product_id) for item in order.items]
        _forget(uow, runtime, *keys)
    log.info("order_transition", order_id=order_id, to=transition.to_status, actor=actor.label)
    return out


def _providers(runtime: Runtime) -> dict[str, PaymentProvider]:
    settings = runtime.settings.order
    providers: dict[str, PaymentProvider] = {}
    for method in settings.payment_methods:
        providers[method] = SandboxProvider() if method == "sandbox" else WebhookProvider(method)
    return providers


async def pay_order(
    *, runtime: Runtime, principal: Principal, order_id: int, method: str
) -> OrderOut:
    provider = _providers(runtime).get(method)
    if provider is None:
        raise ValidationFailed(
            f"Unknown payment method {method}.",
            code="payment.unknown_method",
            errors=[{"loc": ["body", "method"], "msg": "unknown payment method", "type": "enum"}],
        )
    current = await get_order_for_viewer(runtime=runtime, principal=principal, order_id=order_id)
    if current.user_id != principal.id:
        raise Forbidden("Only the buyer pays an order.", code="order.action_forbidden")
    if current.status != "pending_payment":
        raise Conflict(f"Cannot pay an order that is {current.status}.", code="order.invalid_state")
    charge = await provider.charge(
        order_no=current.order_no, amount=current.total, currency=current.currency
    )
    if not charge.settled:
        # The provider confirms later through its signed webhook.
        async with runtime.db.transaction() as uow:
            order = await dao.get_order(uow.session, order_id)
            if order is not None:
                order.payment_method = provider.name
            _forget(uow, runtime, _order_key(runtime, order_id))
        return await get_order_for_viewer(runtime=runtime, principal=principal, order_id=order_id)
    return await _transition(
        runtime,
        order_id=order_id,
        action="pay",
        actor=Actor.of(principal),
        values={"payment_method": provider.name},
        payment=PaymentDO(
            order_id=order_id,
            provider=provider.name,
            provider_ref=charge.provider_ref,
            amount=current.total,
            currency=current.currency,
            status="succeeded",
        ),
    )


async def ship_order(
    *, runtime: Runtime, principal: Principal, order_id: int, carrier: str, tracking_no: str
) -> OrderOut:
    return await _transition(
        runtime,
        order_id=order_id,
        action="ship",
        actor=Actor.of(principal),
        values={"carrier": carrier, "tracking_no": tracking_no},
    )


async def complete_order(*, runtime: Runtime, principal: Principal, order_id: int) -> OrderOut:
    return await _transition(
        runtime, order_id=order_id, action="complete", actor=Actor.of(principal)
    )


async def cancel_order(
    *, runtime: Runtime, principal: Principal, order_id: int, reason: str | None
) -> OrderOut:
    return await _transition(
        runtime, order_id=order_id, action="cancel", actor=Actor.of(principal), reason=reason
    )


async def refund_order(
    *, runtime: Runtime, principal: Principal, order_id: int, reason: str | None
) -> OrderOut:
    return await _transition(
        runtime, order_id=order_id, action="refund", actor=Actor.of(principal), reason=reason
    )


async def expire_unpaid_orders(*, runtime: Runtime, batch_size: int = 100) -> int:
    """Cancel orders left unpaid past their deadline and give their stock back."""
    async with runtime.db.read() as session:
        ids = await dao.expired_unpaid_order_ids(session, utcnow(), batch_size)
    expired = 0
    for order_id in ids:
        try:
            await _transition(
                runtime,
                order_id=order_id,
                action="cancel",
                actor=SYSTEM,
                reason="payment timeout",
            )
            expired += 1
        except Conflict:
            pass  # paid or cancelled meanwhile: nothing to do
    if expired:
        log.info("unpaid_orders_expired", count=expired)
    return expired


async def handle_payment_callback(
    *, runtime: Runtime, provider: str, body: bytes, signature: str | None
) -> PaymentCallbackOut:
    """A provider's signed webhook: idempotent by (provider, provider_ref)."""
    secret = runtime.settings.order.payment_webhook_secrets.get(provider)
    if secret is None:
        raise NotFound("Unknown payment provider.", code="payment.unknown_provider")
    if not verify_webhook(secret.get_secret_value(), body, signature):
        raise Unauthorized("Bad webhook signature.", code="payment.invalid_signature")
    try:
        data = PaymentCallbackIn.model_validate_json(body)
    except ValueError as exc:
        raise ValidationFailed(
            "The callback body is invalid.", code="payment.bad_callback"
        ) from exc
    async with runtime.db.read() as session:
        existing = await dao.get_payment(session, provider, data.provider_ref)
        order = await dao.get_order_by_no(session, data.order_no)
    if existing is not None:
        return PaymentCallbackOut(
            order_id=existing.order_id, status=existing.status, duplicate=True
        )
    if order is None:
        raise NotFound("No such order.", code="order.not_found")
    if data.amount.quantize(CENT) != order.total or data.currency != order.currency:
        raise ValidationFailed(
            "The paid amount does not match the order.", code="payment.amount_mismatch"
        )
    payment = PaymentDO(
        order_id=order.id,
        provider=provider,
        provider_ref=data.provider_ref,
        amount=data.amount,
        currency=data.currency,
        status=data.status,
    )
    try:
        if data.status == "failed":
            async with runtime.db.transaction() as uow:
                uow.session.add(payment)
            return PaymentCallbackOut(order_id=order.id, status="failed", duplicate=False)
        await _transition(
            runtime,
            order_id=order.id,
            action="pay",
            actor=Actor(label=f"payment:{provider}"),
            values={"payment_method": provider},
            payment=payment,
        )
    except IntegrityError:
        return PaymentCallbackOut(order_id=order.id, status=data.status, duplicate=True)
    return PaymentCallbackOut(order_id=order.id, status=data.status, duplicate=False)
