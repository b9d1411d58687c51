"""Refunds through the payment provider, partial or full, with their own state:
requested -> (pending) -> succeeded | failed.

Staff ask (`request_refund`, `refund_order` for "everything left"); the refund is reserved
first (its amount checked against what is left, refunds of one order serialised by the
order's version), then sent. The order follows the provider's answer, never the request:
only a succeeded refund counts in `refunded_amount`, and the order becomes `refunded` (stock
back on the shelf) when a paid order has been refunded in full. A provider that cannot be
reached leaves the refund `requested`; reconciliation sends it again under the same refund
number, which the providers treat as the same refund. Payments by `sandbox` or a generic
webhook have no provider to ask: their refunds succeed at once, as before.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

import structlog
from sqlalchemy.exc import IntegrityError

from tessera.blocks.order import dao
from tessera.blocks.order.events import ORDER_REFUND_FAILED, ORDER_REFUND_SUCCEEDED
from tessera.blocks.order.integration import ProviderUnavailable, RefundRequest
from tessera.blocks.order.integration.base import RefundState, to_fen
from tessera.blocks.order.model.do import (
    IdempotencyRecordDO,
    PaymentAttemptDO,
    PaymentRefundDO,
)
from tessera.blocks.order.model.dto import OrderOut, RefundOut
from tessera.blocks.order.service import payment_rules as rules
from tessera.blocks.order.service.common import (
    forget_after_commit,
    order_key,
    refund_event,
)
from tessera.blocks.order.service.gateways import gateway
from tessera.blocks.order.service.lifecycle import transition_in
from tessera.blocks.order.service.ordering import get_order_for_viewer
from tessera.blocks.order.service.state_machine import ORDER_MANAGE, PAID, Actor, can_see
from tessera.lib.db import utcnow
from tessera.lib.errors import Conflict, Forbidden, NotFound
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.tasks import publish

log = structlog.get_logger("tessera.order.refunds")


@dataclass(frozen=True, slots=True)
class RequestedRefund:
    refund: RefundOut
    replayed: bool


def refund_out(refund: PaymentRefundDO) -> RefundOut:
    return RefundOut.model_validate(refund, from_attributes=True)


async def list_refunds(*, runtime: Runtime, principal: Principal, order_id: int) -> list[RefundOut]:
    await get_order_for_viewer(runtime=runtime, principal=principal, order_id=order_id)
    async with runtime.db.read() as session:
        refunds = await dao.refunds_of_order(session, order_id)
    return [refund_out(refund) for refund in refunds]


def _request_hash(order_id: int, amount: Decimal | None, reason: str | None) -> str:
    canonical = json.dumps(
        {
            "refund": order_id,
            "amount": None if amount is None else f"{amount:.2f}",
            "reason": reason,
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _replay(
    runtime: Runtime, *, user_id: int, key: str, request_hash: str
) -> RequestedRefund | None:
    async with runtime.db.read() as session:
        record = await dao.get_idempotency_record(session, user_id, key)
        if record is None:
            return None
        if record.request_hash != request_hash:
            raise Conflict(
                "This Idempotency-Key was used with a different request.",
                code="idempotency.key_reused",
            )
        refund = await dao.get_refund(session, record.resource_id)
    if refund is None:  # pragma: no cover - refunds are never deleted
        return None
    return RequestedRefund(refund_out(refund), replayed=True)


def _accepted_payment(
    attempts: list[PaymentAttemptDO], refunds: list[PaymentRefundDO]
) -> PaymentAttemptDO | None:
    """The provider trade that paid the order: paid, and not one Tessera refunded itself
    (a late or second payment)."""
    refunded_automatically = {refund.attempt_id for refund in refunds if refund.automatic}
    paid = [
        attempt
        for attempt in attempts
        if attempt.status == rules.PAID and attempt.id not in refunded_automatically
    ]
    return paid[0] if paid else None


async def request_refund(
    *,
    runtime: Runtime,
    principal: Principal,
    order_id: int,
    amount: Decimal | None,
    reason: str | None,
    idempotency_key: str | None = None,
    statuses: frozenset[str] = rules.REFUNDABLE_ORDER_STATUSES,
) -> RequestedRefund:
    """Staff (`order:manage`): refund `amount` (default: all that is left) of an order that
    is paid, shipped or completed (`statuses`)."""
    request_hash = _request_hash(order_id, amount, reason)
    if idempotency_key:
        replayed = await _replay(
            runtime, user_id=principal.id, key=idempotency_key, request_hash=request_hash
        )
        if replayed is not None:
            return replayed
    now = utcnow()
    try:
        async with runtime.db.transaction() as uow:
            order = await dao.get_order(uow.session, order_id)
            if order is None or not can_see(principal, order.user_id):
                raise NotFound("No such order.", code="order.not_found")
            if not principal.has(ORDER_MANAGE):
                raise Forbidden("You may not refund this order.", code="order.action_forbidden")
            if order.status not in statuses:
                raise Conflict(
                    f"Cannot refund an order that is {order.status}.",
                    code="order.invalid_state",
                    extra={"order_status": order.status},
                )
            if not await dao.claim_order_for_refund(
                uow.session, order_id=order.id, seen_version=order.version
            ):
                raise Conflict(
                    "The order changed at the same time; reload it and try again.",
                    code="order.invalid_state",
                )
            refunds = await dao.refunds_of_order(uow.session, order.id)
            attempt = _accepted_payment(await dao.attempts_of_order(uow.session, order.id), refunds)
            if attempt is not None:
                provider = attempt.provider
            else:
                # sandbox or a generic webhook: the ledger names the provider.
                payments = await dao.payments_of_order(uow.session, order.id)
                succeeded = [row for row in payments if row.status == "succeeded"]
                provider = succeeded[0].provider if succeeded else "manual"
            left = rules.refundable(
                order.total,
                ((refund.status, refund.amount) for refund in refunds if not refund.automatic),
            )
            wanted = left if amount is None else amount
            if wanted <= 0 or wanted > left:
                raise Conflict(
                    f"{wanted:.2f} is more than the {left:.2f} {order.currency} left to refund.",
                    code="refund.exceeds_payment",
                    extra={"refundable": f"{left:.2f}"},
                )
            refund = PaymentRefundDO(
                order_id=order.id,
                attempt_id=None if attempt is None else attempt.id,
                provider=provider,
                out_refund_no=rules.refund_no(order.order_no, len(refunds) + 1),
                amount=wanted,
                currency=order.currency,
                reason=reason,
                status=rules.REQUESTED,
                automatic=False,
                actor=f"user:{principal.id}",
                created_at=now,
                updated_at=now,
            )
            uow.session.add(refund)
            await uow.session.flush()
            if idempotency_key:
                uow.session.add(
                    IdempotencyRecordDO(
                        user_id=principal.id,
                        idempotency_key=idempotency_key,
                        request_hash=request_hash,
                        resource_id=refund.id,
                        response_body="refund",
                    )
                )
            refund_id = refund.id
    except IntegrityError:
        if idempotency_key:
            replayed = await _replay(
                runtime, user_id=principal.id, key=idempotency_key, request_hash=request_hash
            )
            if replayed is not None:
                return replayed
        raise
    log.info("refund_requested", order_id=order_id, refund_id=refund_id, amount=f"{wanted:.2f}")
    try:
        await send_refund(runtime, refund_id, actor=Actor.of(principal))
    except ProviderUnavailable as exc:
        log.warning("refund_provider_unavailable", refund_id=refund_id, error=str(exc))
    async with runtime.db.read() as session:
        stored = await dao.get_refund(session, refund_id)
    assert stored is not None
    return RequestedRefund(refund_out(stored), replayed=False)


async def refund_order(
    *, runtime: Runtime, principal: Principal, order_id: int, reason: str | None
) -> OrderOut:
    """Staff: refund everything left of a paid (not yet shipped) order; the order as the
    provider left it (`refunded`, stock back, once the provider confirms)."""
    await request_refund(
        runtime=runtime,
        principal=principal,
        order_id=order_id,
        amount=None,
        reason=reason,
        statuses=frozenset({PAID}),
    )
    return await get_order_for_viewer(runtime=runtime, principal=principal, order_id=order_id)


async def send_refund(runtime: Runtime, refund_id: int, *, actor: Actor) -> None:
    """Send a `requested` refund to its provider and apply the answer. Safe to repeat: the
    provider refunds one refund number once. ProviderUnavailable leaves it `requested`."""
    async with runtime.db.read() as session:
        refund = await dao.get_refund(session, refund_id)
        attempt = (
            None
            if refund is None or refund.attempt_id is None
            else await dao.get_attempt(session, refund.attempt_id)
        )
    if refund is None or refund.status != rules.REQUESTED:
        return
    provider = gateway(runtime, refund.provider)
    if provider is None or attempt is None:
        # No provider to ask (sandbox, a generic webhook, an offline payment).
        await settle_refund(
            runtime,
            out_refund_no=refund.out_refund_no,
            state="succeeded",
            refund_id=None,
            detail=None,
            actor=actor,
        )
        return
    status = await provider.refund(
        RefundRequest(
            out_trade_no=attempt.out_trade_no,
            out_refund_no=refund.out_refund_no,
            amount_fen=to_fen(refund.amount),
            total_fen=to_fen(attempt.amount),
            currency=refund.currency,
            reason=refund.reason,
            transaction_id=attempt.transaction_id,
        )
    )
    await settle_refund(
        runtime,
        out_refund_no=refund.out_refund_no,
        state=status.state,
        refund_id=status.refund_id,
        detail=status.detail,
        actor=actor if status.state != "pending" else Actor.payment_provider(provider.name),
    )


async def query_refund(runtime: Runtime, refund_id: int) -> None:
    """Ask the provider how a `pending` refund ended (a missed refund callback)."""
    async with runtime.db.read() as session:
        refund = await dao.get_refund(session, refund_id)
        attempt = (
            None
            if refund is None or refund.attempt_id is None
            else await dao.get_attempt(session, refund.attempt_id)
        )
    if refund is None or attempt is None or refund.status != rules.PENDING:
        return
    provider = gateway(runtime, refund.provider)
    if provider is None:
        return
    status = await provider.query_refund(
        out_trade_no=attempt.out_trade_no, out_refund_no=refund.out_refund_no
    )
    await settle_refund(
        runtime,
        out_refund_no=refund.out_refund_no,
        state=status.state,
        refund_id=status.refund_id,
        detail=status.detail,
        actor=Actor.payment_provider(provider.name),
    )


async def settle_refund(
    runtime: Runtime,
    *,
    out_refund_no: str,
    state: RefundState,
    refund_id: str | None,
    detail: str | None,
    actor: Actor,
) -> RefundOut | None:
    """Apply the provider's word on a refund, once. None: no such refund here."""
    now = utcnow()
    async with runtime.db.transaction() as uow:
        refund = await dao.get_refund_by_no(uow.session, out_refund_no, for_update=True)
        if refund is None:
            return None
        if refund.status in (rules.SUCCEEDED, rules.REFUND_FAILED):
            return refund_out(refund)  # a repeated callback or query: already final
        refund.refund_id = refund_id or refund.refund_id
        refund.updated_at = now
        if state == "pending":
            refund.status = rules.PENDING
            return refund_out(refund)
        order = await dao.get_order(uow.session, refund.order_id)
        assert order is not None
        if state == "failed":
            refund.status = rules.REFUND_FAILED
            refund.detail = (detail or "refused by the provider")[:500]
            refund.settled_at = now
            await uow.session.flush()
            await publish(
                uow,
                runtime.events,
                ORDER_REFUND_FAILED,
                refund_event(refund, order),
                aggregate_id=order.id,
            )
            log.warning("refund_failed", refund_id=refund.id, detail=refund.detail)
            return refund_out(refund)
        refund.status = rules.SUCCEEDED
        refund.settled_at = now
        await uow.session.flush()
        if not refund.automatic:
            refunded = order.refunded_amount + refund.amount
            if order.status == PAID and refunded >= order.total:
                # Paid in full and refunded in full: the order is refunded, stock comes back.
                await transition_in(
                    uow,
                    runtime,
                    order=order,
                    action="refund",
                    actor=actor,
                    reason=refund.reason,
                    values={"refunded_amount": refunded},
                )
            else:
                await dao.add_refunded_amount(uow.session, order.id, refund.amount)
                forget_after_commit(uow, runtime, order_key(runtime, order.id))
        await publish(
            uow,
            runtime.events,
            ORDER_REFUND_SUCCEEDED,
            refund_event(refund, order),
            aggregate_id=order.id,
        )
        out = refund_out(refund)
    log.info(
        "refund_succeeded", refund_id=out.id, order_id=out.order_id, amount=f"{out.amount:.2f}"
    )
    return out
