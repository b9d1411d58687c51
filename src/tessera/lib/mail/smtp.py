"""SMTP delivery with aiosmtplib: STARTTLS or implicit TLS, optional auth, one reused connection.

The connection stays open between messages (a worker sending a backlog pays the handshake once)
and is re-opened transparently when the server dropped it. Failures are classified as
transient (retry later) or permanent (5xx: the message can never be delivered as is).
"""

from __future__ import annotations

import asyncio
import ssl

import aiosmtplib
import structlog

from tessera.lib.config import MailSettings
from tessera.lib.mail.base import (
    MailMessage,
    PermanentMailError,
    TransientMailError,
    build_mime,
)

log = structlog.get_logger("tessera.mail")


class SmtpMailer:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._client: aiosmtplib.SMTP | None = None
        # One connection, one conversation at a time: SMTP is strictly request/response.
        self._lock = asyncio.Lock()

    def _new_client(self) -> aiosmtplib.SMTP:
        s = self.settings
        tls_context: ssl.SSLContext | None = None
        if s.smtp_ca_file is not None:
            tls_context = ssl.create_default_context(cafile=str(s.smtp_ca_file))
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=password,
            use_tls=s.smtp_implicit_tls,
            # True: refuse to talk in clear text; False: never upgrade (local relays, tests).
            start_tls=False if s.smtp_implicit_tls else s.smtp_starttls,
            timeout=s.smtp_timeout_seconds,
            tls_context=tls_context,
        )

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        client = self._new_client()
        await client.connect()
        self._client = client
        return client

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

    async def send(self, message: MailMessage) -> str:
        mime = build_mime(message, default_from=self.settings.from_address)
        message_id = str(mime["Message-ID"])
        async with self._lock:
            # A kept-alive connection may have been closed by the server since the last
            # message: try once more on a fresh connection before calling it a failure.
            for attempt in (1, 2):
                try:
                    client = await self._connected()
                    await client.send_message(mime)
                    return message_id
                except aiosmtplib.SMTPServerDisconnected as exc:
                    await self._drop()
                    if attempt == 2:
                        raise TransientMailError(f"SMTP server disconnected: {exc}") from exc
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    raise PermanentMailError(f"recipient refused: {exc.recipients}") from exc
                except aiosmtplib.SMTPResponseException as exc:
                    await self._drop()
                    if 500 <= exc.code < 600 and not isinstance(
                        exc, aiosmtplib.SMTPAuthenticationError
                    ):
                        raise PermanentMailError(f"SMTP {exc.code}: {exc.message}") from exc
                    # 4xx, and auth failures an operator can fix: worth retrying later.
                    raise TransientMailError(f"SMTP {exc.code}: {exc.message}") from exc
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                    await self._drop()
                    raise TransientMailError(f"SMTP unavailable: {exc!r}") from exc
        raise AssertionError("unreachable")

    async def close(self) -> None:
        async with self._lock:
            await self._drop()
