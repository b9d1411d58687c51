"""Payment providers of the order block: the seam (`base`), the sandbox and generic webhook
providers (`webhook`), Alipay (`alipay`) and WeChat Pay API v3 (`wechatpay`), and the
factory that builds them from settings (`providers`).
"""

from tessera.blocks.order.integration.base import (
    CallbackAnswer,
    CallbackEvent,
    CallbackRejected,
    Charge,
    Checkout,
    ConfigurationError,
    PaymentError,
    PaymentForm,
    PaymentGateway,
    PaymentProvider,
    ProviderRejected,
    ProviderUnavailable,
    RefundRequest,
    RefundStatus,
    TradeRequest,
    TradeStatus,
)
from tessera.blocks.order.integration.providers import build_gateways, split_method
from tessera.blocks.order.integration.webhook import (
    SandboxProvider,
    WebhookProvider,
    sign_webhook,
    verify_webhook,
)

__all__ = [
    "CallbackAnswer",
    "CallbackEvent",
    "CallbackRejected",
    "Charge",
    "Checkout",
    "ConfigurationError",
    "PaymentError",
    "PaymentForm",
    "PaymentGateway",
    "PaymentProvider",
    "ProviderRejected",
    "ProviderUnavailable",
    "RefundRequest",
    "RefundStatus",
    "SandboxProvider",
    "TradeRequest",
    "TradeStatus",
    "WebhookProvider",
    "build_gateways",
    "sign_webhook",
    "split_method",
    "verify_webhook",
]
