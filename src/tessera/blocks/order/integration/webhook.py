"""The two simple payment providers: `sandbox` pays at once (demos and tests); a generic
webhook provider settles later through its signed callback
(`POST /api/v1/payments/{provider}/callback`, HMAC-SHA256 of the raw body).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from decimal import Decimal

from tessera.blocks.order.integration.base import Charge


class SandboxProvider:
    """Pays every order immediately. Never enable it where money is real."""

    name = "sandbox"

    async def charge(self, *, order_no: str, amount: Decimal, currency: str) -> Charge:
        return Charge(provider_ref=f"sandbox-{uuid.uuid4().hex}", settled=True)


class WebhookProvider:
    """A provider that settles later via its signed callback (e.g. a hosted checkout)."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def charge(self, *, order_no: str, amount: Decimal, currency: str) -> Charge:
        return Charge(provider_ref=f"{self.name}-{order_no}", settled=False)


def sign_webhook(secret: str, body: bytes) -> str:
    """The signature header value a provider sends: `sha256=<hex>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_webhook(secret: str, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(sign_webhook(secret, body), header.strip())
