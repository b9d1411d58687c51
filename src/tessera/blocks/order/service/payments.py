"""Paying orders.

- `sandbox` settles at once; generic webhook providers (`order.payment_webhook_secrets`)
  confirm later through their HMAC-signed JSON webhook (`handle_payment_callback`).
- Real providers (`alipay.*`, `wechatpay.*`, `integration/`): `pay_order` starts one provider
  trade per attempt and answers what the buyer needs (QR code, redirect, form, JSAPI sheet).
  The attempt is reserved first, in a transaction that bumps the order's version, so two
  concurrent pay requests never start two trades; the same `Idempotency-Key` replays the
  first answer; a second request with the same method while the trade is payable gets that
  trade again. If the provider cannot be reached, the reservation is undone (or, when the
  request may have arrived, kept as `abandoned` for reconciliation to close) and the buyer
  gets 503: nothing else is written.
- Provider callbacks (`handle_provider_callback`) are verified by the adapter before any
  field is read, then `settle_trade` applies them in one transaction: idempotent by
  (provider, transaction id), refused (and logged) when the amount, currency or trade
  number does not match. A payment for an order that is no longer payable (cancelled,
  expired, paid by another trade) is kept and refunded automatically (`order.refund_due`);
  the order and its stock do not move. The callback is answered in the provider's format
  after the commit; everything slow (mail, SMS, refunds) goes through the outbox.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError

from tessera.blocks.order import dao
from tessera.blocks.order.events import ORDER_REFUND_DUE
from tessera.blocks.order.integration import (
    CallbackAnswer,
    CallbackEvent,
    CallbackRejected,
    Checkout,
    PaymentGateway,
    ProviderRejected,
    ProviderUnavailable,
    SandboxProvider,
    TradeRequest,
    verify_webhook,
)
from tessera.blocks.order.integration.base import to_fen
from tessera.blocks.order.model.do import (
    IdempotencyRecordDO,
    OrderDO,
    PaymentAttemptDO,
    PaymentDO,
    PaymentRefundDO,
)
from tessera.blocks.order.model.dto import (
    CheckoutOut,
    PayIn,
    PaymentAttemptOut,
    PaymentCallbackIn,
    PaymentCallbackOut,
    PaymentFormOut,
    PaymentMethodOut,
    PayOut,
)
from tessera.blocks.order.service import money
from tessera.blocks.order.service import payment_rules as rules
from tessera.blocks.order.service.common import (
    forget_after_commit,
    order_key,
    order_out,
    refund_event,
)
from tessera.blocks.order.service.gateways import (
    CHECKOUT_FIELDS,
    enabled_methods,
    find_method,
    gateway,
)
from tessera.blocks.order.service.lifecycle import apply_transition, transition_in
from tessera.blocks.order.service.ordering import get_order_for_viewer
from tessera.blocks.order.service.state_machine import PENDING_PAYMENT, Actor, decide
from tessera.lib.db import UnitOfWork, utcnow
from tessera.lib.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.tasks import publish

log = structlog.get_logger("tessera.order.payments")

RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class PaidOrder:
    order: PayOut
    replayed: bool  # True: an earlier request with the same Idempotency-Key answered this


class PaymentRefused(Exception):
    """A verified callback or query that Tessera will not apply (and logs)."""

    def __init__(self, reason: str, *, status_code: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


# --- reading --------------------------------------------------------------------------------


def _checkout_json(checkout: Checkout) -> str:
    out = CheckoutOut(
        qr_code_url=checkout.qr_code_url,
        redirect_url=checkout.redirect_url,
        form=None
        if checkout.form is None
        else PaymentFormOut(
            action=checkout.form.action, method="POST", fields=checkout.form.fields
        ),
        jsapi=checkout.jsapi,
    )
    return out.model_dump_json(exclude_none=True)


def attempt_out(attempt: PaymentAttemptDO, *, with_checkout: bool) -> PaymentAttemptOut:
    checkout = None
    if with_checkout and attempt.status == rules.STARTED and attempt.checkout:
        checkout = CheckoutOut.model_validate_json(attempt.checkout)
    return PaymentAttemptOut(
        id=attempt.id,
        method=attempt.method,
        provider=attempt.provider,
        out_trade_no=attempt.out_trade_no,
        status=attempt.status,
        amount=attempt.amount,
        currency=attempt.currency,
        transaction_id=attempt.transaction_id,
        expires_at=attempt.expires_at,
        paid_at=attempt.paid_at,
        created_at=attempt.created_at,
        checkout=checkout,
    )


def _pay_out(order: OrderDO, attempt: PaymentAttemptDO | None) -> PayOut:
    base = order_out(order).model_dump()
    payment = None if attempt is None else attempt_out(attempt, with_checkout=True)
    return PayOut(**base, payment=payment)


def payment_methods(*, runtime: Runtime) -> list[PaymentMethodOut]:
    """The methods a buyer may choose here, and the checkout fields each fills."""
    return [
        PaymentMethodOut(
            method=method.name,
            provider=method.provider,
            returns=[] if method.channel is None else CHECKOUT_FIELDS[method.channel],
        )
        for method in enabled_methods(runtime)
    ]


async def list_payments(
    *, runtime: Runtime, principal: Principal, order_id: int
) -> list[PaymentAttemptOut]:
    """The provider trades of an order (the buyer also sees how to pay an open one)."""
    order = await get_order_for_viewer(runtime=runtime, principal=principal, order_id=order_id)
    async with runtime.db.read() as session:
        attempts = await dao.attempts_of_order(session, order_id)
    owner = order.user_id == principal.id
    return [attempt_out(attempt, with_checkout=owner) for attempt in attempts]


# --- Idempotency-Key ------------------------------------------------------------------------


def _request_hash(order_id: int, data: PayIn) -> str:
    canonical = json.dumps(
        {"pay": order_id, **data.model_dump(mode="json")}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _record_key(key: str) -> str:
    """Keys are the caller's, shared with placing orders (where the same key may have been
    used): pay's are stored apart, hashed to stay within the column."""
    return "pay:" + hashlib.sha256(key.encode()).hexdigest()


async def _replay(
    runtime: Runtime, *, user_id: int, key: str, request_hash: str
) -> PaidOrder | None:
    async with runtime.db.read() as session:
        record = await dao.get_idempotency_record(session, user_id, key)
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise Conflict(
            "This Idempotency-Key was used with a different request.",
            code="idempotency.key_reused",
        )
    if not record.response_body:
        raise Conflict(
            "A payment with this Idempotency-Key is still being started; retry shortly.",
            code="order.payment_in_progress",
            headers={"Retry-After": "1"},
        )
    return PaidOrder(PayOut.model_validate_json(record.response_body), replayed=True)


def _remember(
    uow: UnitOfWork, *, user_id: int, key: str | None, request_hash: str, order_id: int
) -> None:
    """Reserve the key in the caller's transaction; the answer is written when known."""
    if key:
        uow.session.add(
            IdempotencyRecordDO(
                user_id=user_id,
                idempotency_key=key,
                request_hash=request_hash,
                resource_id=order_id,
                response_body="",
            )
        )


async def _answer(uow: UnitOfWork, *, user_id: int, key: str | None, out: PayOut) -> None:
    if key:
        record = await dao.get_idempotency_record(uow.session, user_id, key)
        if record is not None:
            record.response_body = out.model_dump_json()


# --- paying ---------------------------------------------------------------------------------


async def pay_order(
    *,
    runtime: Runtime,
    principal: Principal,
    order_id: int,
    data: PayIn,
    idempotency_key: str | None = None,
    client_ip: str | None = None,
) -> PaidOrder:
    """Pay the buyer's order with `data.method`: at once (sandbox), later by webhook, or by
    starting (or handing out again) one provider trade. The same Idempotency-Key replays
    the first answer; a concurrent second request gets 409 `order.payment_in_progress`."""
    request_hash = _request_hash(order_id, data)
    record_key = _record_key(idempotency_key) if idempotency_key else None
    if record_key:
        replayed = await _replay(
            runtime, user_id=principal.id, key=record_key, request_hash=request_hash
        )
        if replayed is not None:
            return replayed
    method = find_method(runtime, data.method)
    if method is None:
        raise ValidationFailed(
            f"Unknown payment method {data.method}.",
            code="payment.unknown_method",
            errors=[{"loc": ["body", "method"], "msg": "unknown payment method", "type": "enum"}],
        )
    current = await get_order_for_viewer(runtime=runtime, principal=principal, order_id=order_id)
    actor = Actor.of(principal)
    # Refuse before reserving anything; the reservation checks again against the fresh row.
    decide(action="pay", status=current.status, owner_id=current.user_id, actor=actor)
    try:
        if method.channel is None:
            return await _pay_simply(
                runtime, principal, order_id, method.name, record_key, request_hash
            )
        provider = gateway(runtime, method.provider)
        if provider is None:  # pragma: no cover - settings validation prevents it
            raise ValidationFailed("Payment method not available.", code="payment.unknown_method")
        if method.channel == "jsapi" and not data.openid:
            raise ValidationFailed(
                "wechatpay.jsapi needs the buyer's openid.",
                code="payment.openid_required",
                errors=[{"loc": ["body", "openid"], "msg": "required", "type": "missing"}],
            )
        return await _pay_with_gateway(
            runtime,
            principal=principal,
            order_id=order_id,
            method=method.name,
            provider=provider,
            data=data,
            idempotency_key=record_key,
            request_hash=request_hash,
            client_ip=client_ip,
        )
    except IntegrityError:
        # Only the idempotency record can collide: a concurrent request with the key won.
        if record_key:
            replayed = await _replay(
                runtime, user_id=principal.id, key=record_key, request_hash=request_hash
            )
            if replayed is not None:
                return replayed
        raise


async def _claim(uow: UnitOfWork, principal: Principal, order_id: int) -> OrderDO:
    """Read the order in the caller's transaction and make this request the only one
    starting a payment of it (the loser of a race gets 409 `order.payment_in_progress`)."""
    order = await dao.get_order(uow.session, order_id)
    if order is None:
        raise NotFound("No such order.", code="order.not_found")
    decide(action="pay", status=order.status, owner_id=order.user_id, actor=Actor.of(principal))
    if not await dao.claim_order_for_payment(
        uow.session, order_id=order.id, seen_version=order.version
    ):
        raise Conflict(
            "Another payment of this order is being started; retry shortly.",
            code="order.payment_in_progress",
            headers={"Retry-After": "1"},
        )
    return order


async def _pay_simply(
    runtime: Runtime,
    principal: Principal,
    order_id: int,
    method: str,
    idempotency_key: str | None,
    request_hash: str,
) -> PaidOrder:
    """`sandbox` pays now; a generic webhook provider only records the chosen method."""
    async with runtime.db.transaction() as uow:
        order = await _claim(uow, principal, order_id)
        _remember(
            uow,
            user_id=principal.id,
            key=idempotency_key,
            request_hash=request_hash,
            order_id=order_id,
        )
        if method != SandboxProvider.name:
            order.payment_method = method
            order.updated_at = utcnow()
            await uow.session.flush()
            out = PayOut(**order_out(order).model_dump(), payment=None)
            await _answer(uow, user_id=principal.id, key=idempotency_key, out=out)
            forget_after_commit(uow, runtime, order_key(runtime, order_id))
            return PaidOrder(out, replayed=False)
        try:
            charge = await SandboxProvider().charge(
                order_no=order.order_no, amount=order.total, currency=order.currency
            )
        except OSError as exc:  # unreachable, reset, timed out: the transaction rolls back
            raise ServiceUnavailable(
                "The payment provider is unreachable; nothing was charged, try again.",
                code="payment.provider_unavailable",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ) from exc
        uow.session.add(
            PaymentDO(
                order_id=order.id,
                provider=method,
                provider_ref=charge.provider_ref,
                amount=order.total,
                currency=order.currency,
                status="succeeded",
            )
        )
        await uow.session.refresh(order)
        paid = await transition_in(
            uow,
            runtime,
            order=order,
            action="pay",
            actor=Actor.of(principal),
            values={"payment_method": method},
        )
        out = PayOut(**paid.model_dump(), payment=None)
        await _answer(uow, user_id=principal.id, key=idempotency_key, out=out)
    return PaidOrder(out, replayed=False)


@dataclass(frozen=True, slots=True)
class _Reserved:
    attempt_id: int
    request: TradeRequest


async def _pay_with_gateway(
    runtime: Runtime,
    *,
    principal: Principal,
    order_id: int,
    method: str,
    provider: PaymentGateway,
    data: PayIn,
    idempotency_key: str | None,
    request_hash: str,
    client_ip: str | None,
) -> PaidOrder:
    channel = method.split(".", 1)[1]
    now = utcnow()
    async with runtime.db.transaction() as uow:
        order = await _claim(uow, principal, order_id)
        if order.expires_at is not None and order.expires_at <= now:
            # A provider trade expires with its order: there is no time left to pay in.
            raise Conflict("The order's time to pay has run out.", code="order.payment_expired")
        _remember(
            uow,
            user_id=principal.id,
            key=idempotency_key,
            request_hash=request_hash,
            order_id=order_id,
        )
        attempts = await dao.attempts_of_order(uow.session, order.id)
        for attempt in reversed(attempts):
            if attempt.method != method or attempt.status not in rules.OPEN_ATTEMPTS:
                continue
            if attempt.status == rules.CREATING:
                raise Conflict(
                    "A payment of this order is being started; retry shortly.",
                    code="order.payment_in_progress",
                    headers={"Retry-After": "1"},
                )
            if attempt.expires_at > now and (channel != "jsapi" or _same_payer(attempt, data)):
                # The trade is still payable: hand it out again rather than start another.
                out = _pay_out(order, attempt)
                await _answer(uow, user_id=principal.id, key=idempotency_key, out=out)
                return PaidOrder(out, replayed=False)
        if len(attempts) >= rules.MAX_ATTEMPTS:
            raise Conflict("Too many payment attempts for this order.", code="payment.too_many")
        expires_at = order.expires_at or now + timedelta(
            seconds=runtime.settings.order.payment_timeout_seconds
        )
        attempt = PaymentAttemptDO(
            order_id=order.id,
            provider=provider.name,
            method=method,
            out_trade_no=rules.trade_no(order.order_no, len(attempts) + 1),
            status=rules.CREATING,
            amount=order.total,
            currency=order.currency,
            checkout=json.dumps({"openid": data.openid}) if data.openid else None,
            expires_at=expires_at,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(attempt)
        await uow.session.flush()
        reserved = _Reserved(
            attempt.id,
            TradeRequest(
                out_trade_no=attempt.out_trade_no,
                channel=channel,  # type: ignore[arg-type]
                amount_fen=to_fen(order.total),
                currency=order.currency,
                subject=f"Order {order.order_no}",
                expires_at=expires_at,
                client_ip=client_ip,
                openid=data.openid,
            ),
        )
    try:
        checkout = await provider.create_trade(reserved.request)
    except ProviderUnavailable as exc:
        await _undo_reservation(
            runtime, reserved.attempt_id, principal.id, idempotency_key, exc, keep=exc.sent
        )
        log.warning(
            "payment_provider_unavailable",
            order_id=order_id,
            provider=provider.name,
            error=str(exc),
            trade_may_exist=exc.sent,
        )
        raise ServiceUnavailable(
            f"{provider.name} cannot be reached right now; nothing was charged. Try again.",
            code="payment.provider_unavailable",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from exc
    except ProviderRejected as exc:
        await _undo_reservation(
            runtime, reserved.attempt_id, principal.id, idempotency_key, exc, keep=True
        )
        log.warning("payment_rejected", order_id=order_id, provider=provider.name, error=str(exc))
        if exc.code == "currency_unsupported":
            raise ValidationFailed(str(exc), code="payment.currency_unsupported") from exc
        raise Conflict(
            f"{provider.name} refused the payment: {exc}", code="payment.rejected"
        ) from exc
    return await _start(runtime, reserved.attempt_id, principal, idempotency_key, checkout)


def _same_payer(attempt: PaymentAttemptDO, data: PayIn) -> bool:
    """A JSAPI trade belongs to one openid; another payer needs a new trade."""
    try:
        stored = json.loads(attempt.checkout or "{}")
    except ValueError:
        return False
    return bool(stored.get("jsapi")) and stored.get("openid") == data.openid


async def _undo_reservation(
    runtime: Runtime,
    attempt_id: int,
    user_id: int,
    key: str | None,
    error: Exception,
    *,
    keep: bool,
) -> None:
    """The provider did not start the trade. Forget the key (the same request may be tried
    again) and the attempt; keep the attempt only when a trade may exist over there
    (`abandoned`, for reconciliation to close) or for the record of a refusal (`failed`)."""
    async with runtime.db.transaction() as uow:
        attempt = await dao.get_attempt(uow.session, attempt_id, for_update=True)
        if attempt is not None and attempt.status == rules.CREATING:
            if not keep:
                await dao.delete_attempt(uow.session, attempt_id)
            else:
                unavailable = isinstance(error, ProviderUnavailable)
                attempt.status = rules.ABANDONED if unavailable else rules.FAILED
                attempt.last_error = str(error)[:500]
                attempt.updated_at = utcnow()
        if key:
            await dao.delete_idempotency_record(uow.session, user_id, key)


async def _start(
    runtime: Runtime,
    attempt_id: int,
    principal: Principal,
    key: str | None,
    checkout: Checkout,
) -> PaidOrder:
    now = utcnow()
    async with runtime.db.transaction() as uow:
        attempt = await dao.get_attempt(uow.session, attempt_id, for_update=True)
        if attempt is None or attempt.status != rules.CREATING:
            raise Conflict(
                "The payment was closed while it was being started; pay again.",
                code="payment.closed",
            )
        stored: dict[str, Any] = json.loads(_checkout_json(checkout))
        if checkout.jsapi:
            stored["openid"] = json.loads(attempt.checkout or "{}").get("openid")
        attempt.status = rules.STARTED
        attempt.checkout = json.dumps(stored)
        attempt.updated_at = now
        # Trades the buyer started with other methods are left for reconciliation to close.
        for other in await dao.attempts_of_order(uow.session, attempt.order_id):
            if other.id != attempt.id and other.status in rules.OPEN_ATTEMPTS:
                other.status = rules.SUPERSEDED
                other.updated_at = now
        order = await dao.get_order(uow.session, attempt.order_id)
        assert order is not None
        order.payment_method = attempt.method
        order.updated_at = now
        await uow.session.flush()
        out = _pay_out(order, attempt)
        await _answer(uow, user_id=principal.id, key=key, out=out)
        forget_after_commit(uow, runtime, order_key(runtime, order.id))
    log.info(
        "payment_started",
        order_id=out.id,
        provider=attempt.provider,
        method=attempt.method,
        out_trade_no=attempt.out_trade_no,
    )
    return PaidOrder(out, replayed=False)


# --- settling -------------------------------------------------------------------------------


async def settle_trade(
    runtime: Runtime,
    *,
    provider: str,
    out_trade_no: str | None,
    transaction_id: str | None,
    amount_fen: int | None,
    currency: str | None,
    paid_at: datetime | None,
    source: str,
) -> str:
    """Apply a verified "this trade is paid" (a callback or a query) once: `paid` (the order
    moved to paid), `late` (kept and refunded: the order no longer wanted it), `duplicate`.
    Raises PaymentRefused, writing nothing, when the trade is unknown or the amount,
    currency or transaction does not match what Tessera asked for."""
    if not out_trade_no or not transaction_id:
        raise PaymentRefused("trade number or transaction id missing", status_code=422)
    try:
        async with runtime.db.transaction() as uow:
            attempt = await dao.get_attempt_by_trade_no(uow.session, out_trade_no, for_update=True)
            if attempt is None or attempt.provider != provider:
                raise PaymentRefused(f"unknown trade {out_trade_no}", status_code=404)
            if not rules.amount_matches(
                expected=attempt.amount,
                currency=attempt.currency,
                provider_fen=amount_fen,
                provider_currency=currency,
            ):
                log.error(
                    "payment_amount_mismatch",
                    provider=provider,
                    out_trade_no=out_trade_no,
                    transaction_id=transaction_id,
                    expected_fen=to_fen(attempt.amount),
                    expected_currency=attempt.currency,
                    reported_fen=amount_fen,
                    reported_currency=currency,
                    source=source,
                )
                raise PaymentRefused("amount or currency does not match", status_code=409)
            if attempt.status == rules.PAID:
                if attempt.transaction_id != transaction_id:
                    log.error(
                        "payment_transaction_mismatch",
                        out_trade_no=out_trade_no,
                        recorded=attempt.transaction_id,
                        reported=transaction_id,
                    )
                    raise PaymentRefused("another transaction for a paid trade", status_code=409)
                return "duplicate"
            order = await dao.get_order(uow.session, attempt.order_id)
            assert order is not None
            now = utcnow()
            attempt.status = rules.PAID
            attempt.transaction_id = transaction_id
            attempt.paid_at = paid_at or now
            attempt.updated_at = now
            uow.session.add(
                PaymentDO(
                    order_id=order.id,
                    provider=provider,
                    provider_ref=transaction_id,
                    amount=attempt.amount,
                    currency=attempt.currency,
                    status="succeeded",
                )
            )
            await uow.session.flush()
            if order.status == PENDING_PAYMENT:
                await transition_in(
                    uow,
                    runtime,
                    order=order,
                    action="pay",
                    actor=Actor.payment_provider(provider),
                    values={"payment_method": attempt.method},
                )
                outcome = "paid"
            else:
                await owe_refund(
                    uow,
                    runtime,
                    order=order,
                    attempt=attempt,
                    reason=f"paid after the order was {order.status}",
                )
                outcome = "late"
    except IntegrityError:
        # The same (provider, transaction id) was recorded by a concurrent callback.
        return "duplicate"
    log.info(
        "payment_settled",
        provider=provider,
        out_trade_no=out_trade_no,
        transaction_id=transaction_id,
        outcome=outcome,
        source=source,
    )
    if outcome == "late":
        log.warning("late_payment_refund_due", provider=provider, out_trade_no=out_trade_no)
    return outcome


async def owe_refund(
    uow: UnitOfWork,
    runtime: Runtime,
    *,
    order: OrderDO,
    attempt: PaymentAttemptDO,
    reason: str,
) -> PaymentRefundDO:
    """Tessera owes the buyer this payment back: record the refund and let the outbox send
    it (`order.refund_due`), so the callback that revealed it answers at once."""
    refunds = await dao.refunds_of_order(uow.session, order.id)
    now = utcnow()
    refund = PaymentRefundDO(
        order_id=order.id,
        attempt_id=attempt.id,
        provider=attempt.provider,
        out_refund_no=rules.refund_no(order.order_no, len(refunds) + 1),
        amount=attempt.amount,
        currency=attempt.currency,
        reason=reason,
        status=rules.REQUESTED,
        automatic=True,
        actor="system",
        created_at=now,
        updated_at=now,
    )
    uow.session.add(refund)
    await uow.session.flush()
    await publish(
        uow,
        runtime.events,
        ORDER_REFUND_DUE,
        refund_event(refund, order),
        aggregate_id=order.id,
    )
    return refund


async def close_attempt(
    runtime: Runtime, provider: PaymentGateway, attempt_id: int, out_trade_no: str
) -> str:
    """Close a trade nobody should pay any more. A trade that turns out paid is settled
    (which refunds it when its order no longer wants it). Returns what happened."""
    try:
        await provider.close_trade(out_trade_no)
    except ProviderRejected:
        trade = await provider.query_trade(out_trade_no)
        if trade.state == "paid":
            return await settle_trade(
                runtime,
                provider=provider.name,
                out_trade_no=out_trade_no,
                transaction_id=trade.transaction_id,
                amount_fen=trade.amount_fen,
                currency=trade.currency,
                paid_at=trade.paid_at,
                source="close",
            )
        if trade.state not in ("closed", "not_found", "failed"):
            raise
    async with runtime.db.transaction() as uow:
        attempt = await dao.get_attempt(uow.session, attempt_id, for_update=True)
        if attempt is not None and attempt.status not in (rules.PAID, rules.CLOSED):
            attempt.status = rules.CLOSED
            attempt.closed_at = attempt.updated_at = utcnow()
    return "closed"


async def handle_provider_callback(
    *, runtime: Runtime, provider: str, headers: dict[str, str], body: bytes
) -> CallbackAnswer:
    """A callback of Alipay or WeChat Pay, answered in the provider's own format."""
    gateway_ = gateway(runtime, provider)
    if gateway_ is None:
        raise NotFound("Unknown payment provider.", code="payment.unknown_provider")
    try:
        event = await gateway_.parse_callback(headers=headers, body=body)
    except CallbackRejected as exc:
        log.warning("payment_callback_rejected", provider=provider, reason=str(exc))
        return gateway_.answer_callback(
            accepted=False, message="verification failed", status_code=401
        )
    try:
        await _apply_callback(runtime, gateway_, event)
    except PaymentRefused as exc:
        log.error(
            "payment_callback_refused",
            provider=provider,
            reason=exc.reason,
            event_id=event.event_id,
            out_trade_no=event.out_trade_no,
        )
        return gateway_.answer_callback(
            accepted=False, message=exc.reason, status_code=exc.status_code
        )
    except Conflict as exc:
        # The order moved at the same moment: ask the provider to come back.
        log.warning("payment_callback_conflict", provider=provider, error=exc.detail)
        return gateway_.answer_callback(accepted=False, message="busy", status_code=503)
    return gateway_.answer_callback(accepted=True)


async def _apply_callback(runtime: Runtime, provider: PaymentGateway, event: CallbackEvent) -> None:
    if event.kind == "payment":
        if event.state == "paid":
            await settle_trade(
                runtime,
                provider=provider.name,
                out_trade_no=event.out_trade_no,
                transaction_id=event.transaction_id,
                amount_fen=event.amount_fen,
                currency=event.currency,
                paid_at=event.paid_at,
                source="callback",
            )
        elif event.state == "closed" and event.out_trade_no:
            await _mark_closed(runtime, event.out_trade_no)
        return
    if event.kind == "refund" and event.refund is not None:
        # Imported here: refunds settle through the same module that requests them.
        from tessera.blocks.order.service.refunds import settle_refund

        settled = await settle_refund(
            runtime,
            out_refund_no=event.refund.out_refund_no,
            state=event.refund.state,
            refund_id=event.refund.refund_id,
            detail=event.refund.detail,
            actor=Actor.payment_provider(provider.name),
        )
        if settled is None:
            # A refund made outside Tessera (the merchant console): nothing to update.
            log.warning(
                "refund_callback_unknown",
                provider=provider.name,
                out_refund_no=event.refund.out_refund_no,
            )
        return
    log.info("payment_callback_ignored", provider=provider.name, kind=event.kind)


async def _mark_closed(runtime: Runtime, out_trade_no: str) -> None:
    async with runtime.db.transaction() as uow:
        attempt = await dao.get_attempt_by_trade_no(uow.session, out_trade_no, for_update=True)
        if attempt is not None and attempt.status in (*rules.OPEN_ATTEMPTS, rules.ABANDONED):
            attempt.status = rules.CLOSED
            attempt.closed_at = attempt.updated_at = utcnow()


# --- the generic webhook ----------------------------------------------------------------------


async def handle_payment_callback(
    *, runtime: Runtime, provider: str, body: bytes, signature: str | None
) -> PaymentCallbackOut:
    """A generic provider's signed webhook: idempotent by (provider, provider_ref)."""
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
