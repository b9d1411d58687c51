"""The SMS message, the `SmsSender` protocol and the provider-neutral errors.

Providers report failures in their own vocabulary; adapters translate them to the errors below
so callers decide by meaning: `retryable` errors (throttled, provider down) are retried later,
the others (invalid number, template rejected, bad configuration) can never succeed as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class SmsError(Exception):
    code = "sms.failed"
    retryable = False

    def __init__(self, detail: str, *, provider_code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.provider_code = provider_code


class SmsUnavailable(SmsError):
    """The provider could not be reached or answered 5xx: try again later."""

    code, retryable = "sms.unavailable", True


class SmsThrottled(SmsError):
    """The provider's own frequency control refused the message for now."""

    code, retryable = "sms.throttled", True


class SmsInvalidNumber(SmsError):
    code, retryable = "sms.invalid_number", False


class SmsTemplateRejected(SmsError):
    """Unknown, unapproved or mis-parameterised template (or sign name)."""

    code, retryable = "sms.template_rejected", False


class SmsConfigurationError(SmsError):
    """Credentials refused, signature mismatch, no template id configured."""

    code, retryable = "sms.configuration", False


@dataclass(frozen=True, slots=True)
class SmsMessage:
    phone: str  # E.164, e.g. +8613800138000
    message_type: str  # key of `sms.templates`, e.g. "verification_code"
    # Template parameters in template order (Tencent's templates are positional).
    params: dict[str, str] = field(default_factory=dict)
    # The text as a person would read it, for the file/console backends.
    text: str = ""


@runtime_checkable
class SmsSender(Protocol):
    async def send(self, message: SmsMessage) -> str:
        """Send one message; returns the provider's id for it."""
        ...

    async def close(self) -> None: ...
