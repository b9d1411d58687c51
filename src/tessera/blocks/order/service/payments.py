"""Paying orders: the buyer's `pay_order` through a `PaymentProvider` (`integration.py`), and
the signed webhook by which a provider settles a payment later.

`sandbox` settles at once and the order moves to `paid` in the same request; other methods
only remember the chosen method and wait for the provider's callback. A callback is
idempotent by `(provider, provider_ref)`: the `payment` row's unique key is written in the
same transaction as the transition, so a replay changes nothing.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from tessera.blocks.order import dao
from tessera.blocks.order.integration import (
    PaymentProvider,
    SandboxProvider,
    WebhookProvider,
    verify_webhook,
)
from tessera.blocks.order.model.do import PaymentDO
from tessera.blocks.order.model.dto import OrderOut, PaymentCallbackIn, PaymentCallbackOut
from tessera.blocks.order.service import money
from tessera.blocks.order.service.common import forget_after_commit, order_key
from tessera.blocks.order.service.lifecycle import apply_transition
from tessera.blocks.order.service.ordering import get_order_for_viewer
from tessera.blocks.order.service.state_machine import Actor, decide
from tessera.lib.errors import NotFound, Unauthorized, ValidationFailed
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal


def _providers(runtime: Runtime) -> dict[str, PaymentProvider]:
    providers: dict[str, PaymentProvider] = {}
    for method in runtime.settings.order.payment_methods:
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
    actor = Actor.of(principal)
    # Refuse before charging anything; the transition checks again against the fresh row.
    decide(action="pay", status=current.status, owner_id=current.user_id, actor=actor)
    charge = await provider.charge(
        order_no=current.order_no, amount=current.total, currency=current.currency
    )
    if not charge.settled:
        # The provider confirms later through its signed webhook.
        async with runtime.db.transaction() as uow:
            order = await dao.get_order(uow.session, order_id)
            if order is not None:
                order.payment_method = provider.name
            forget_after_commit(uow, runtime, order_key(runtime, order_id))
        return await get_order_for_viewer(runtime=runtime, principal=principal, order_id=order_id)
    return await apply_transition(
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
