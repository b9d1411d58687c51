"""What the adapters share about their HTTP calls to the providers."""

from __future__ import annotations

import httpx

from tessera.blocks.order.integration.base import ProviderUnavailable


def unreachable(provider: str, exc: Exception) -> ProviderUnavailable:
    """The error for a failed HTTP call: a refused or failed connection sent nothing."""
    sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
    return ProviderUnavailable(f"{provider} unreachable: {exc!r}", provider=provider, sent=sent)
