"""Paying orders: the buyer's `pay_order` through a `PaymentProvider` (`integration.py`), and
the signed webhook by which a provider settles a payment later.

`sandbox` settles at once and the order moves to `paid` in the same request; other methods
only remember the chosen method and wait for the provider's callback. Before any provider is
charged the order is claimed in the database, so two concurrent pays never charge twice.
A callback is idempotent by `(provider, provider_ref)`: the `payment` row's unique key is
written in the same transaction as the transition, so a replay changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from tessera.blocks.order import dao
from tessera.blocks.order.integration import (
    PaymentProvider,
    SandboxProvider,
    WebhookProvider,
    verify_webhook,
)
from tessera.blocks.order.model.do import IdempotencyRecordDO, PaymentDO
from tessera.blocks.order.model.dto import OrderOut, PaymentCallbackIn, PaymentCallbackOut
from tessera.blocks.order.service import money
from tessera.blocks.order.service.common import forget_after_commit, order_key
from tessera.blocks.order.service.lifecycle import (
    Remembered,
    apply_transition,
    payment_claims_expired,
)
from tessera.blocks.order.service.ordering import get_order_for_viewer
from tessera.blocks.order.service.state_machine import Actor, decide
from tessera.lib.db import utcnow
from tessera.lib.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal


def _providers(runtime: Runtime) -> dict[str, PaymentProvider]:
    providers: dict[str, PaymentProvider] = {}
    for method in runtime.settings.order.payment_methods:
        providers[method] = SandboxProvider() if method == "sandbox" else WebhookProvider(method)
    return providers


@dataclass(frozen=True, slots=True)
class PaidOrder:
    order: OrderOut
    replayed: bool


def _idempotency(principal: Principal, order_id: int, method: str, key: str) -> Remembered:
    # Keys are the caller's, shared with order creation: keep pay's apart, within 128 chars.
    digest = hashlib.sha256(key.encode()).hexdigest()
    request_hash = hashlib.sha256(f"pay:{order_id}:{method}".encode()).hexdigest()
    return Remembered(user_id=principal.id, key=f"pay:{digest}", request_hash=request_hash)


async def _replay(runtime: Runtime, remembered: Remembered) -> PaidOrder | None:
    async with runtime.db.read() as session:
        record = await dao.get_idempotency_record(session, remembered.user_id, remembered.key)
    if record is None:
        return None
    if record.request_hash != remembered.request_hash:
        raise Conflict(
            "This Idempotency-Key was used with a different request.",
            code="idempotency.key_reused",
        )
    return PaidOrder(OrderOut.model_validate_json(record.response_body), replayed=True)


async def pay_order(
    *,
    runtime: Runtime,
    principal: Principal,
    order_id: int,
    method: str,
    idempotency_key: str | None = None,
) -> PaidOrder:
    """Charge the buyer's order once. The right to charge is claimed in the database first
    (one concurrent request wins, the others get 409), the provider is charged, then the
    order moves to `paid`; a failed charge gives the claim back. With `Idempotency-Key` the
    first answer is replayed."""
    remembered = (
        _idempotency(principal, order_id, method, idempotency_key) if idempotency_key else None
    )
    if remembered is not None and (replayed := await _replay(runtime, remembered)) is not None:
        return replayed
    provider = _providers(runtime).get(method)
    if provider is None:
        raise ValidationFailed(
            f"Unknown payment method {method}.",
            code="payment.unknown_method",
            errors=[{"loc": ["body", "method"], "msg": "unknown payment method", "type": "enum"}],
        )
    current = await get_order_for_viewer(runtime=runtime, principal=principal, order_id=order_id)
    actor = Actor.of(principal)
    # Refuse before charging anything; the transition checks again against the fresh row.
    decide(action="pay", status=current.status, owner_id=current.user_id, actor=actor)
    now = utcnow()
    async with runtime.db.transaction() as uow:
        claimed = await dao.reserve_payment(
            uow.session,
            order_id=order_id,
            method=provider.name,
            now=now,
            stale_before=payment_claims_expired(),
        )
        forget_after_commit(uow, runtime, order_key(runtime, order_id))
    if not claimed:
        if remembered is not None and (replayed := await _replay(runtime, remembered)):
            return replayed
        fresh = await get_order_for_viewer(runtime=runtime, principal=principal, order_id=order_id)
        decide(action="pay", status=fresh.status, owner_id=fresh.user_id, actor=actor)
        raise Conflict(
            "This order is being paid; wait for that payment to finish.",
            code="order.payment_in_progress",
        )
    try:
        charge = await provider.charge(
            order_no=current.order_no, amount=current.total, currency=current.currency
        )
    except Exception as exc:
        async with runtime.db.transaction() as uow:
            await dao.release_payment(uow.session, order_id=order_id, method=provider.name)
            forget_after_commit(uow, runtime, order_key(runtime, order_id))
        if isinstance(exc, OSError):  # unreachable, reset, timed out: worth a retry
            raise ServiceUnavailable(
                "The payment provider is unreachable; nothing was charged, try again.",
                code="payment.provider_unavailable",
            ) from exc
        raise
    if not charge.settled:
        # The provider confirms later through its signed webhook; the claim (the chosen
        # method) stays on the order meanwhile.
        out = await get_order_for_viewer(runtime=runtime, principal=principal, order_id=order_id)
        if remembered is not None:
            await _remember(runtime, remembered, out)
        return PaidOrder(out, replayed=False)
    paid = await apply_transition(
        runtime,
        order_id=order_id,
        action="pay",
        actor=actor,
        values={"payment_method": provider.name},
        payment=PaymentDO(
            order_id=order_id,
            provider=provider.name,
            provider_ref=charge.provider_ref,
            amount=current.total,
            currency=current.currency,
            status="succeeded",
        ),
        remember=remembered,
    )
    return PaidOrder(paid, replayed=False)


async def _remember(runtime: Runtime, remembered: Remembered, out: OrderOut) -> None:
    with contextlib.suppress(IntegrityError):  # a concurrent request with the key won
        async with runtime.db.transaction() as uow:
            uow.session.add(
                IdempotencyRecordDO(
                    user_id=remembered.user_id,
                    idempotency_key=remembered.key,
                    request_hash=remembered.request_hash,
                    resource_id=out.id,
                    response_body=out.model_dump_json(),
                )
            )


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
    if money.quantize(data.amount) != order.total or data.currency != order.currency:
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
        await apply_transition(
            runtime,
            order_id=order.id,
            action="pay",
            actor=Actor.payment_provider(provider),
            values={"payment_method": provider},
            payment=payment,
        )
    except IntegrityError:
        # The same (provider, provider_ref) was recorded by a concurrent callback.
        return PaymentCallbackOut(order_id=order.id, status=data.status, duplicate=True)
    return PaymentCallbackOut(order_id=order.id, status=data.status, duplicate=False)
