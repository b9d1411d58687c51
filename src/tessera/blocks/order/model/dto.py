"""Request and response schemas of the order block. Money is `Decimal`, serialized as a
string with two decimals ("12.50"); never a float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

from tessera.lib.types import Id, MoneyIn, StrictInt, non_nullable, rule_error

ProductStatus = Literal["active", "inactive"]
OrderStatus = Literal["pending_payment", "paid", "shipped", "completed", "cancelled", "refunded"]

# Always two decimals on the wire, whatever the database driver hands back.
MoneyOut = Annotated[
    Decimal, PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json")
]


# Strict on the way in (see tessera.lib.types): decimal strings of ASCII digits, ids within
# 1 .. 2^63-1, and JSON integers (not "1", not true) for quantities and stock.
Stock = Annotated[StrictInt, Field(ge=0, le=10_000_000)]
Quantity = Annotated[StrictInt, Field(ge=1, le=999)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductCreateIn(_In):
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10000)
    price: MoneyIn
    currency: Currency | None = None
    stock: Stock
    status: ProductStatus = "active"


class ProductUpdateIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=non_nullable(
            "name", "price", "currency", "stock", "status", "description"
        ),
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10000)
    price: MoneyIn | None = None
    currency: Currency | None = None
    stock: Stock | None = None
    status: ProductStatus | None = None

    @field_validator("name", "price", "currency", "stock", "status", "description")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null")
        return value


class ProductOut(BaseModel):
    id: int
    sku: str
    name: str
    description: str
    price: MoneyOut
    currency: str
    stock: int
    status: str
    created_at: datetime
    updated_at: datetime


class OrderLineIn(_In):
    product_id: Id
    quantity: Quantity


class OrderCreateIn(_In):
    items: list[OrderLineIn] = Field(
        min_length=1,
        max_length=100,
        description="one line per product (else 422 `order.duplicate_product`)",
    )
    shipping_address: str | None = Field(default=None, max_length=1000)
    note: str | None = Field(default=None, max_length=1000)

    @field_validator("items")
    @classmethod
    def _one_line_per_product(cls, items: list[OrderLineIn]) -> list[OrderLineIn]:
        seen: set[int] = set()
        for item in items:
            if item.product_id in seen:
                # JSON Schema has no "unique by a member" for arrays of objects: a rule.
                raise rule_error(
                    "order.duplicate_product",
                    f"product {item.product_id} appears on more than one line",
                )
            seen.add(item.product_id)
        return items


class OrderItemOut(BaseModel):
    product_id: int
    sku: str
    name: str
    unit_price: MoneyOut
    quantity: int
    line_total: MoneyOut


class OrderOut(BaseModel):
    id: int
    order_no: str
    user_id: int
    status: str
    items: list[OrderItemOut]
    total: MoneyOut
    currency: str
    shipping_address: str | None
    note: str | None
    payment_method: str | None
    # What the payment provider confirmed refunding (partial refunds keep the status).
    refunded_amount: MoneyOut = Decimal("0.00")
    carrier: str | None
    tracking_no: str | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class OrderHistoryOut(BaseModel):
    from_status: str | None
    to_status: str
    actor: str
    actor_id: int | None
    reason: str | None
    at: datetime


PAY_METHOD_DESCRIPTION = """How to pay; one of `order.payment_methods` (`GET /payments/methods`):

| method | what the answer's `payment.checkout` holds |
| --- | --- |
| `sandbox` | nothing: the order is paid at once (demos and tests) |
| `alipay.page` | `redirect_url` and `form`: Alipay's desktop cashier |
| `alipay.wap` | `redirect_url` and `form`: Alipay's mobile web cashier |
| `alipay.qr` | `qr_code_url`: show it as a QR code; the buyer scans it with Alipay |
| `wechatpay.native` | `qr_code_url` (`weixin://...`): show it as a QR code for WeChat |
| `wechatpay.jsapi` | `jsapi`: `WeixinJSBridge` `getBrandWCPayRequest` parameters (needs `openid`) |
| `wechatpay.h5` | `redirect_url`: WeChat Pay's mobile web page |
| other names | a generic provider that confirms by signed webhook |
"""


class PayIn(_In):
    method: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)?$",
        description=PAY_METHOD_DESCRIPTION,
        examples=["sandbox", "alipay.qr", "wechatpay.native"],
    )
    # WeChat JSAPI pays as a known user of the merchant's official account or mini program.
    openid: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The buyer's openid under the merchant's app id (`wechatpay.jsapi` only)",
    )


class PaymentFormOut(BaseModel):
    """An HTML form for the buyer's browser to submit (Alipay page and WAP pay)."""

    action: str
    method: Literal["POST"]
    fields: dict[str, str]


class CheckoutOut(BaseModel):
    """What the buyer needs to pay; which fields are set depends on the method."""

    qr_code_url: str | None = Field(
        default=None, description="`alipay.qr`, `wechatpay.native`: encode it as a QR code"
    )
    redirect_url: str | None = Field(
        default=None,
        description="`alipay.page`, `alipay.wap`, `wechatpay.h5`: send the browser here",
    )
    form: PaymentFormOut | None = Field(
        default=None, description="`alipay.page`, `alipay.wap`: or submit this form (POST)"
    )
    jsapi: dict[str, str] | None = Field(
        default=None,
        description="`wechatpay.jsapi`: appId, timeStamp, nonceStr, package, signType, "
        "paySign for WeixinJSBridge getBrandWCPayRequest",
    )


PaymentAttemptStatus = Literal[
    "creating", "started", "paid", "closed", "failed", "abandoned", "superseded"
]


class PaymentAttemptOut(BaseModel):
    """One provider trade started by a pay request."""

    id: int
    method: str
    provider: str
    out_trade_no: str = Field(description="Tessera's trade number at the provider")
    status: PaymentAttemptStatus
    amount: MoneyOut
    currency: str
    transaction_id: str | None = Field(description="The provider's trade number, once paid")
    expires_at: datetime
    paid_at: datetime | None
    created_at: datetime
    checkout: CheckoutOut | None = Field(
        default=None, description="Shown to the buyer while the trade can be paid"
    )


class PayOut(OrderOut):
    """The order, and the provider trade the buyer pays (none for `sandbox` and webhooks)."""

    payment: PaymentAttemptOut | None = None


class PaymentMethodOut(BaseModel):
    method: str
    provider: str
    returns: list[str] = Field(description="The `checkout` fields this method fills")


RefundStatus = Literal["requested", "pending", "succeeded", "failed"]


class RefundIn(_In):
    amount: MoneyIn | None = Field(
        default=None, description="Decimal string; default: everything not yet refunded"
    )
    reason: str | None = Field(default=None, max_length=500)


class RefundOut(BaseModel):
    """A refund through the payment provider. `requested`: sent or waiting to be sent (the
    reconciliation job retries), `pending`: the provider is processing it, then `succeeded`
    or `failed`."""

    id: int
    order_id: int
    provider: str
    out_refund_no: str = Field(description="Tessera's refund number at the provider")
    amount: MoneyOut
    currency: str
    status: RefundStatus
    automatic: bool = Field(description="Made by Tessera (a payment after cancel, a double pay)")
    reason: str | None
    detail: str | None = Field(description="Why the provider refused, when it did")
    created_at: datetime
    settled_at: datetime | None


class ShipIn(_In):
    carrier: str = Field(min_length=1, max_length=64)
    tracking_no: str = Field(min_length=1, max_length=64)


class ReasonIn(_In):
    reason: str | None = Field(default=None, max_length=500)


class PaymentCallbackIn(BaseModel):
    """What a payment provider's webhook reports (signed with HMAC-SHA256)."""

    model_config = ConfigDict(extra="ignore")

    order_no: str = Field(min_length=1, max_length=32)
    provider_ref: str = Field(min_length=1, max_length=128)
    amount: Decimal = Field(max_digits=14, decimal_places=2)
    currency: Currency
    status: Literal["succeeded", "failed"]


class PaymentCallbackOut(BaseModel):
    order_id: int
    status: str
    duplicate: bool
