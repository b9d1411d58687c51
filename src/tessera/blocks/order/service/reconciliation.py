"""Keeping Tessera and the payment providers in agreement when callbacks go missing.

`reconcile_payments` runs periodically (`order.payments.reconcile_interval_seconds`):
- a trade still open for an order that still waits for payment is queried; if it was paid,
  the payment is settled exactly as its callback would have been;
- a trade of an order that expired, was cancelled or was paid another way, and trades left
  `abandoned` or `superseded`, are closed at the provider; one that turns out paid is
  settled, which refunds it automatically: a cancelled order's stock is never sold twice;
- refunds still `requested` are sent again (same refund number), `pending` ones queried.

Each record is looked at again only `reconcile_grace_seconds` after it last changed, so a
callback on its way is not raced. Two handlers act sooner: `order.cancelled` closes the
order's open trades at once, `order.refund_due` sends a refund Tessera owes. Expiry asks the
provider first: an order whose open trade was paid is settled, not cancelled.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import structlog

from tessera.blocks.order import dao
from tessera.blocks.order.events import OrderEvent, RefundEvent
from tessera.blocks.order.integration import ProviderRejected, ProviderUnavailable
from tessera.blocks.order.service import payment_rules as rules
from tessera.blocks.order.service.gateways import gateway
from tessera.blocks.order.service.lifecycle import apply_transition
from tessera.blocks.order.service.payments import PaymentRefused, close_attempt, settle_trade
from tessera.blocks.order.service.refunds import query_refund, send_refund
from tessera.blocks.order.service.state_machine import PENDING_PAYMENT, SYSTEM
from tessera.lib.db import utcnow
from tessera.lib.errors import Conflict
from tessera.lib.runtime import Runtime
from tessera.lib.tasks import Event

log = structlog.get_logger("tessera.order.reconciliation")


async def _touch_attempt(runtime: Runtime, attempt_id: int) -> None:
    async with runtime.db.transaction() as uow:
        attempt = await dao.get_attempt(uow.session, attempt_id, for_update=True)
        if attempt is not None:
            attempt.updated_at = utcnow()


async def _touch_refund(runtime: Runtime, refund_id: int) -> None:
    async with runtime.db.transaction() as uow:
        refund = await dao.get_refund(uow.session, refund_id, for_update=True)
        if refund is not None:
            refund.updated_at = utcnow()


async def reconcile_payments(*, runtime: Runtime) -> Counter[str]:
    """One pass over trades and refunds that need a word with their provider."""
    settings = runtime.settings.order.payments
    now = utcnow()
    cutoff = now - timedelta(seconds=settings.reconcile_grace_seconds)
    done: Counter[str] = Counter()
    async with runtime.db.read() as session:
        rows = await dao.attempts_to_reconcile(
            session,
            statuses=rules.RECONCILED_ATTEMPTS,
            touched_before=cutoff,
            limit=settings.reconcile_batch_size,
        )
        refunds = await dao.refunds_to_reconcile(
            session,
            statuses=rules.OPEN_REFUNDS,
            touched_before=cutoff,
            limit=settings.reconcile_batch_size,
        )
    for attempt, order in rows:
        provider = gateway(runtime, attempt.provider)
        if provider is None:
            continue
        # A trade still `creating` this long after its request is an orphan (the process
        # stopped while the provider was being asked): it is closed like the others.
        payable = (
            attempt.status == rules.STARTED
            and order.status == PENDING_PAYMENT
            and attempt.expires_at > now
            and (order.expires_at is None or order.expires_at > now)
        )
        try:
            if payable:
                trade = await provider.query_trade(attempt.out_trade_no)
                if trade.state == "paid":
                    outcome = await settle_trade(
                        runtime,
                        provider=provider.name,
                        out_trade_no=attempt.out_trade_no,
                        transaction_id=trade.transaction_id,
                        amount_fen=trade.amount_fen,
                        currency=trade.currency,
                        paid_at=trade.paid_at,
                        source="reconciliation",
                    )
                    done[f"trade_{outcome}"] += 1
                else:
                    await _touch_attempt(runtime, attempt.id)
                    done["trade_unpaid"] += 1
            else:
                outcome = await close_attempt(runtime, provider, attempt.id, attempt.out_trade_no)
                done[f"trade_{outcome}"] += 1
        except ProviderUnavailable as exc:
            log.warning("reconcile_provider_unavailable", provider=attempt.provider, error=str(exc))
            done["unavailable"] += 1
        except (ProviderRejected, PaymentRefused, Conflict) as exc:
            log.error("reconcile_trade_failed", out_trade_no=attempt.out_trade_no, error=str(exc))
            await _touch_attempt(runtime, attempt.id)
            done["trade_error"] += 1
    for refund in refunds:
        try:
            if refund.status == rules.REQUESTED:
                await send_refund(runtime, refund.id, actor=SYSTEM)
            else:
                await query_refund(runtime, refund.id)
            await _touch_refund(runtime, refund.id)
            done["refund_checked"] += 1
        except ProviderUnavailable as exc:
            log.warning("reconcile_refund_unavailable", refund_id=refund.id, error=str(exc))
            done["unavailable"] += 1
    if done:
        log.info("payments_reconciled", **dict(done))
    return done


async def close_open_trades(*, runtime: Runtime, order_id: int) -> int:
    """Close the trades of an order that will not be paid any more (it was cancelled).
    Raises ProviderUnavailable (the outbox retries; reconciliation would get there too)."""
    async with runtime.db.read() as session:
        order = await dao.get_order(session, order_id)
        attempts = await dao.attempts_of_order(session, order_id)
    if order is None or order.status == PENDING_PAYMENT:
        return 0
    closed = 0
    for attempt in attempts:
        if attempt.status not in (*rules.OPEN_ATTEMPTS, rules.ABANDONED, rules.SUPERSEDED):
            continue
        provider = gateway(runtime, attempt.provider)
        if provider is None:
            continue
        await close_attempt(runtime, provider, attempt.id, attempt.out_trade_no)
        closed += 1
    return closed


async def on_order_cancelled(runtime: Runtime, event: Event[OrderEvent]) -> None:
    await close_open_trades(runtime=runtime, order_id=event.data.order_id)


async def on_refund_due(runtime: Runtime, event: Event[RefundEvent]) -> None:
    # ProviderUnavailable propagates: the outbox retries with backoff.
    await send_refund(runtime, event.data.refund_id, actor=SYSTEM)


async def _wait_before_expiry(runtime: Runtime, order_id: int) -> bool:
    """Ask the providers about an expiring order's open trades before cancelling it. True
    (do not cancel now): a trade was paid in time and is now settled, or a provider could
    not be asked and the order is not yet far past its deadline (ask again next round)."""
    async with runtime.db.read() as session:
        order = await dao.get_order(session, order_id)
        attempts = await dao.attempts_of_order(session, order_id)
    if order is None:
        return True
    for attempt in attempts:
        if attempt.status not in rules.OPEN_ATTEMPTS:
            continue
        provider = gateway(runtime, attempt.provider)
        if provider is None:
            continue
        try:
            trade = await provider.query_trade(attempt.out_trade_no)
        except ProviderUnavailable:
            patience = timedelta(
                seconds=runtime.settings.order.payments.expiry_provider_patience_seconds
            )
            overdue = order.expires_at is not None and utcnow() - order.expires_at > patience
            if not overdue:
                return True
            continue
        if trade.state == "paid":
            try:
                await settle_trade(
                    runtime,
                    provider=provider.name,
                    out_trade_no=attempt.out_trade_no,
                    transaction_id=trade.transaction_id,
                    amount_fen=trade.amount_fen,
                    currency=trade.currency,
                    paid_at=trade.paid_at,
                    source="expiry",
                )
            except PaymentRefused as exc:
                log.error("expiry_settle_refused", order_id=order_id, reason=exc.reason)
                continue
            return True
    return False


async def expire_unpaid_orders(*, runtime: Runtime, batch_size: int = 100) -> int:
    """Cancel orders left unpaid past their deadline and give their stock back; an order
    whose provider trade was paid in time is settled instead."""
    async with runtime.db.read() as session:
        ids = await dao.expired_unpaid_order_ids(session, utcnow(), batch_size)
    expired = 0
    for order_id in ids:
        if await _wait_before_expiry(runtime, order_id):
            continue
        try:
            await apply_transition(
                runtime, order_id=order_id, action="cancel", actor=SYSTEM, reason="payment timeout"
            )
            expired += 1
        except Conflict:
            pass  # paid or cancelled meanwhile: nothing to do
    if expired:
        log.info("unpaid_orders_expired", count=expired)
    return expired
