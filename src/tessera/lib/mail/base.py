"""The mail message, the `Mailer` protocol and its errors, and MIME assembly.

Errors are split by what the caller should do: `TransientMailError` (server down, 4xx reply,
timeout: retry later) and `PermanentMailError` (5xx reply, bad address: retrying cannot help).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol, runtime_checkable


class MailDeliveryError(Exception):
    """A message could not be handed to the mail system."""


class TransientMailError(MailDeliveryError):
    """Worth retrying later (connection refused, timeout, 4xx)."""


class PermanentMailError(MailDeliveryError):
    """Retrying will not help (5xx, rejected recipient)."""


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class MailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None
    from_address: str | None = None
    attachments: tuple[Attachment, ...] = ()
    # Stable across retries so a receiver can drop a duplicate delivery.
    message_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Mailer(Protocol):
    async def send(self, message: MailMessage) -> str:
        """Deliver `message`; returns the provider's id for it (the Message-ID)."""
        ...

    async def close(self) -> None: ...


def build_mime(message: MailMessage, *, default_from: str) -> EmailMessage:
    """Plain text first, HTML as the alternative, then attachments (RFC 2046 order)."""
    mime = EmailMessage()
    mime["From"] = message.from_address or default_from
    mime["To"] = message.to
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(localtime=False, usegmt=True)
    domain = (message.from_address or default_from).rsplit("@", 1)[-1].strip("> ") or "localhost"
    mime["Message-ID"] = message.message_id or make_msgid(domain=domain)
    for name, value in message.headers.items():
        mime[name] = value
    mime.set_content(message.text, subtype="plain", charset="utf-8")
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html", charset="utf-8")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mime
