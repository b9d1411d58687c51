"""Helpers of the notify block: recipient masking, sealing secret message parameters, and
the template renderer for the shipped `templates/` (en, zh-CN), built once per runtime from
`notify.default_locale` and kept in the `RENDERER` slot.

Secret parameters (one-time codes, link tokens) must reach the worker through the database,
so they are sealed with Fernet under a key derived from the server secret, and wiped from the
row once the message is sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tessera.lib.config import NotifySettings
from tessera.lib.mail import TemplateRenderer
from tessera.lib.otp import seal, unseal
from tessera.lib.runtime import Runtime, Slot
from tessera.lib.sms import mask_phone

TEMPLATES = Path(__file__).parent / "templates"
SEALED = "__sealed__"
WIPED = "__wiped__"

RENDERER: Slot[TemplateRenderer] = Slot("notify.renderer", owner="notify")


def build_renderer(settings: NotifySettings) -> TemplateRenderer:
    """The renderer falling back to `default_locale` (or the shipped locale of its language,
    `zh` -> `zh-CN`); a default with no templates stops start-up instead of every mail."""
    shipped = TemplateRenderer(TEMPLATES)
    wanted = settings.default_locale
    language = wanted.split("-", 1)[0].lower()
    if not any(locale.split("-", 1)[0].lower() == language for locale in shipped.locales):
        raise ValueError(
            f"notify.default_locale {wanted!r} has no templates; shipped: "
            + ", ".join(shipped.locales)
        )
    return TemplateRenderer(TEMPLATES, default_locale=shipped.resolve_locale(wanted))


def renderer_of(runtime: Runtime) -> TemplateRenderer:
    """The renderer the notify block built at start-up (`notify.default_locale` applied)."""
    return runtime.slots.get(RENDERER)


def mask_email(address: str) -> str:
    """`alice@example.com` → `a***e@example.com`."""
    local, _, domain = address.partition("@")
    hidden = local[:1] + "*" if len(local) <= 2 else local[0] + "***" + local[-1]
    return f"{hidden}@{domain}"


def mask_recipient(channel: str, recipient: str) -> str:
    return mask_phone(recipient) if channel == "sms" else mask_email(recipient)


def seal_params(runtime: Runtime, params: dict[str, Any], secret: dict[str, str]) -> str:
    data = dict(params)
    if secret:
        data[SEALED] = seal(runtime, "notify-params", json.dumps(secret))
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def open_params(runtime: Runtime, stored: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stored)
    sealed = data.pop(SEALED, None)
    if sealed is not None:
        # A changed server secret raises ValueError: the queued code/link is useless anyway.
        data.update(json.loads(unseal(runtime, "notify-params", sealed)))
    return data


def wipe_secrets(stored: str) -> str:
    data: dict[str, Any] = json.loads(stored)
    if SEALED in data:
        data[SEALED] = None
        data.pop(SEALED)
        data[WIPED] = True
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
