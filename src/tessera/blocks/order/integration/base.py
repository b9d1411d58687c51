"""The payment provider seam: what the order block asks of a payment provider, in Tessera's
own terms, so the service never sees a provider's field names or signature schemes.

`PaymentProvider` is the small original seam (`charge`), kept for the sandbox and the
generic webhook provider. `PaymentGateway` is what a real provider (Alipay, WeChat Pay)
offers: start a trade, query, close, refund, and verify-then-parse its callbacks.

Amounts cross this boundary as integer fen (1/100 CNY), never floats; each adapter turns
them into its provider's format and back, and refuses amounts it cannot represent exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal, Protocol

# --- the original seam ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Charge:
    provider_ref: str
    settled: bool  # True: paid now; False: wait for the provider's webhook


class PaymentProvider(Protocol):
    name: str

    async def charge(self, *, order_no: str, amount: Decimal, currency: str) -> Charge: ...


# --- errors ---------------------------------------------------------------------------------


class PaymentError(Exception):
    """Base of the errors a gateway raises."""

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message)
        self.provider = provider


class ProviderUnavailable(PaymentError):
    """The provider could not be reached, answered 5xx, or answered something that failed
    verification. The outcome of the call is unknown: decide nothing from it, retry later
    (trade and refund numbers make retries idempotent at the provider). `sent` is False only
    when the request certainly never left (no connection): then nothing exists over there.
    """

    def __init__(self, message: str, *, provider: str = "", sent: bool = True) -> None:
        super().__init__(message, provider=provider)
        self.sent = sent


class ProviderRejected(PaymentError):
    """A verified refusal from the provider (a business error such as insufficient balance
    or a trade that is already paid). `code` is the provider's own code."""

    def __init__(self, message: str, *, provider: str = "", code: str = "") -> None:
        super().__init__(message, provider=provider)
        self.code = code


class CallbackRejected(PaymentError):
    """A callback failed verification (bad or missing signature, stale timestamp, unknown
    certificate, tampered ciphertext, another merchant's message). Nothing in it was used."""


class ConfigurationError(PaymentError):
    """A key, certificate or setting of a provider is missing or unusable."""


# --- money ----------------------------------------------------------------------------------

SUPPORTED_CURRENCIES = frozenset({"CNY"})
_YUAN = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$")


def to_fen(amount: Decimal) -> int:
    """12.50 -> 1250; refuses negative amounts and fractions of a fen."""
    if amount < 0:
        raise ValueError(f"negative amount {amount}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of fen")
    return int(fen)


def fen_to_decimal(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def yuan_string(fen: int) -> str:
    """1250 -> "12.50" (the form Alipay's amounts take)."""
    if fen < 0:
        raise ValueError(f"negative amount {fen}")
    return f"{fen // 100}.{fen % 100:02d}"


def parse_yuan(text: str) -> int:
    """ "12.5" / "12.50" -> 1250; anything that is not a plain decimal amount is refused."""
    if not _YUAN.match(text):
        raise ValueError(f"not an amount: {text!r}")
    try:
        return to_fen(Decimal(text))
    except InvalidOperation as exc:  # pragma: no cover - the pattern already rules it out
        raise ValueError(f"not an amount: {text!r}") from exc


def check_currency(currency: str, provider: str) -> None:
    if currency not in SUPPORTED_CURRENCIES:
        raise ProviderRejected(
            f"{provider} takes {', '.join(sorted(SUPPORTED_CURRENCIES))} only, not {currency}",
            provider=provider,
            code="currency_unsupported",
        )


# --- what goes in and out of a gateway ------------------------------------------------------

Channel = Literal["page", "wap", "qr", "native", "jsapi", "h5"]
TradeState = Literal["not_found", "pending", "paid", "closed", "refunded", "failed"]
RefundState = Literal["pending", "succeeded", "failed"]
CallbackKind = Literal["payment", "refund", "other"]


@dataclass(frozen=True, slots=True)
class TradeRequest:
    """One provider trade: Tessera's trade number (one per payment attempt), the amount in
    fen, and what the channel needs (the buyer's address for H5, their openid for JSAPI)."""

    out_trade_no: str
    channel: Channel
    amount_fen: int
    currency: str
    subject: str
    expires_at: datetime
    client_ip: str | None = None
    openid: str | None = None
    return_url: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentForm:
    """An HTML form the buyer's browser submits to the provider (page and WAP pay)."""

    action: str
    method: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class Checkout:
    """What the buyer needs to pay: a QR code to show, a URL or form to open, or the
    parameters of WeChat's in-app payment sheet."""

    out_trade_no: str
    channel: Channel
    qr_code_url: str | None = None
    redirect_url: str | None = None
    form: PaymentForm | None = None
    jsapi: dict[str, str] | None = None
    prepay_id: str | None = None


@dataclass(frozen=True, slots=True)
class TradeStatus:
    out_trade_no: str
    state: TradeState
    transaction_id: str | None = None
    amount_fen: int | None = None
    currency: str | None = None
    paid_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    out_trade_no: str
    out_refund_no: str
    amount_fen: int
    total_fen: int
    currency: str
    reason: str | None = None
    transaction_id: str | None = None


@dataclass(frozen=True, slots=True)
class RefundStatus:
    out_refund_no: str
    state: RefundState
    refund_id: str | None = None
    amount_fen: int | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class CallbackEvent:
    """A verified, decrypted callback in Tessera's terms. `event_id` is the provider's id of
    the notification (retries of one notification share it)."""

    kind: CallbackKind
    event_id: str
    out_trade_no: str | None = None
    transaction_id: str | None = None
    state: TradeState | None = None
    amount_fen: int | None = None
    currency: str | None = None
    paid_at: datetime | None = None
    refund: RefundStatus | None = None
    raw: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """The HTTP answer a provider expects from a callback handler."""

    status_code: int
    media_type: str
    body: bytes


class PaymentGateway(Protocol):
    """A real payment provider behind Tessera's payment seam."""

    name: str
    channels: tuple[Channel, ...]

    async def create_trade(self, request: TradeRequest) -> Checkout:
        """Start a trade (or, for page/WAP pay, sign the buyer's redirect to one)."""
        ...

    async def query_trade(self, out_trade_no: str) -> TradeStatus: ...

    async def close_trade(self, out_trade_no: str) -> None:
        """Close an unpaid trade so it can no longer be paid. A trade the provider does not
        know is already as good as closed; a paid one raises `ProviderRejected`."""
        ...

    async def refund(self, request: RefundRequest) -> RefundStatus:
        """Ask for a refund; the same `out_refund_no` never refunds twice."""
        ...

    async def query_refund(self, *, out_trade_no: str, out_refund_no: str) -> RefundStatus: ...

    async def parse_callback(self, *, headers: Mapping[str, str], body: bytes) -> CallbackEvent:
        """Verify a callback, then decode it. Raises `CallbackRejected` before reading any
        field of an unverified message."""
        ...

    def answer_callback(
        self, *, accepted: bool, message: str = "", status_code: int = 400
    ) -> CallbackAnswer:
        """The answer the provider expects: acceptance, or a refusal it will retry."""
        ...

    async def aclose(self) -> None: ...
