"""Builds the payment gateways the configuration asks for (at the order block's start-up),
and names the methods clients choose from: `sandbox`, generic webhook names, and
`<provider>.<channel>` for the real providers (`alipay.qr`, `wechatpay.native`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from tessera.blocks.order.integration.alipay import AlipayGateway
from tessera.blocks.order.integration.base import Channel, ConfigurationError, PaymentGateway
from tessera.blocks.order.integration.wechatpay import WechatPayGateway
from tessera.lib.config import PAYMENT_METHODS, OrderSettings, PaymentSettings

CALLBACK_PATH = "/api/v1/payments/{provider}/callback"


def split_method(method: str) -> tuple[str, Channel] | None:
    """`alipay.qr` -> ("alipay", "qr"); None for `sandbox` and webhook names."""
    for provider, methods in PAYMENT_METHODS.items():
        if method in methods:
            channel = method.split(".", 1)[1]
            return provider, channel  # type: ignore[return-value]
    return None


def notify_url(payments: PaymentSettings, provider: str) -> str:
    section = getattr(payments, provider)
    if section.notify_url:
        return str(section.notify_url)
    if not payments.callback_base_url:
        raise ConfigurationError(
            f"order.payments.{provider}.notify_url or order.payments.callback_base_url is missing"
        )
    return payments.callback_base_url.rstrip("/") + CALLBACK_PATH.format(provider=provider)


def build_gateways(
    settings: OrderSettings, *, clients: Mapping[str, httpx.AsyncClient] | None = None
) -> dict[str, PaymentGateway]:
    """One gateway per real provider with a method in `order.payment_methods`; keys and
    certificates are read and checked here, so a bad file stops start-up, not a payment."""
    wanted = {split[0] for method in settings.payment_methods if (split := split_method(method))}
    clash = wanted & set(settings.payment_webhook_secrets)
    if clash:
        raise ConfigurationError(
            f"{', '.join(sorted(clash))}: configured both as a generic webhook "
            "(order.payment_webhook_secrets) and as a payment provider; keep one"
        )
    clients = clients or {}
    payments = settings.payments
    gateways: dict[str, PaymentGateway] = {}
    if "alipay" in wanted:
        gateways["alipay"] = AlipayGateway(
            payments.alipay,
            notify_url=notify_url(payments, "alipay"),
            client=clients.get("alipay"),
        )
    if "wechatpay" in wanted:
        gateways["wechatpay"] = WechatPayGateway(
            payments.wechatpay,
            notify_url=notify_url(payments, "wechatpay"),
            client=clients.get("wechatpay"),
        )
    return gateways
