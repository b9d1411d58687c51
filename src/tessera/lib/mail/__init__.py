"""Outgoing mail: the `Mailer` protocol, the message type, and the backend chosen by config.

Backends: `smtp` (aiosmtplib, STARTTLS or implicit TLS), `file` (one `.eml` per message under
`var/`, the embedded default) and `console` (prints to stdout, development only). Blocks get
the process-wide mailer through `mailer_of(runtime)`; the notify block installs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tessera.lib.mail.attachments import (
    AttachmentSource,
    add_attachment_source,
    attachments_for,
)
from tessera.lib.mail.backends import ConsoleMailer, FileMailer, create_mailer
from tessera.lib.mail.base import (
    Attachment,
    MailDeliveryError,
    Mailer,
    MailMessage,
    PermanentMailError,
    TransientMailError,
    build_mime,
)
from tessera.lib.mail.smtp import SmtpMailer
from tessera.lib.mail.templates import RenderedMail, TemplateRenderer

if TYPE_CHECKING:
    from tessera.lib.runtime import Runtime


def mailer_of(runtime: Runtime) -> Mailer:
    """The mailer the notify block installed at start-up (`runtime.mailer`)."""
    if runtime.mailer is None:
        raise RuntimeError("no mailer installed: enable the notify block")
    return runtime.mailer


__all__ = [
    "Attachment",
    "AttachmentSource",
    "ConsoleMailer",
    "FileMailer",
    "MailDeliveryError",
    "MailMessage",
    "Mailer",
    "PermanentMailError",
    "RenderedMail",
    "SmtpMailer",
    "TemplateRenderer",
    "TransientMailError",
    "add_attachment_source",
    "attachments_for",
    "build_mime",
    "create_mailer",
    "mailer_of",
]
