"""Outgoing SMS: the `SmsSender` protocol, providers (Aliyun dysms, Tencent Cloud SMS) and the
`file` / `console` defaults, phone-number helpers, and the provider-neutral errors.

Blocks get the process-wide sender through `sms_of(runtime)`; the notify block installs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tessera.lib.sms.backends import ConsoleSms, FileSms, create_sms_sender
from tessera.lib.sms.base import (
    SmsConfigurationError,
    SmsError,
    SmsInvalidNumber,
    SmsMessage,
    SmsSender,
    SmsTemplateRejected,
    SmsThrottled,
    SmsUnavailable,
)
from tessera.lib.sms.phone import mask_phone, normalize_phone

if TYPE_CHECKING:
    from tessera.lib.runtime import Runtime


def sms_of(runtime: Runtime) -> SmsSender:
    """The sender the notify block installed at start-up (`runtime.sms`)."""
    if runtime.sms is None:
        raise RuntimeError("no SMS sender installed: enable the notify block")
    return runtime.sms


__all__ = [
    "ConsoleSms",
    "FileSms",
    "SmsConfigurationError",
    "SmsError",
    "SmsInvalidNumber",
    "SmsMessage",
    "SmsSender",
    "SmsTemplateRejected",
    "SmsThrottled",
    "SmsUnavailable",
    "create_sms_sender",
    "mask_phone",
    "normalize_phone",
    "sms_of",
]
