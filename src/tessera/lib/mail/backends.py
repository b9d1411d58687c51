"""The `file` and `console` mailers (no server needed) and `create_mailer` (config → backend)."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from tessera.lib.config import MailSettings
from tessera.lib.mail.base import Mailer, MailMessage, build_mime

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FileMailer:
    """One `.eml` file per message: open it with any mail client, or read it in tests."""

    def __init__(self, directory: Path, *, from_address: str) -> None:
        self.directory = directory
        self.from_address = from_address

    async def send(self, message: MailMessage) -> str:
        mime = build_mime(message, default_from=self.from_address)
        message_id = str(mime["Message-ID"])
        name = _UNSAFE.sub("_", message_id.strip("<>"))[:120] + ".eml"
        data = mime.as_bytes()

        def write() -> None:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary = self.directory / (name + ".tmp")
            temporary.write_bytes(data)
            # Readers never see a half-written message.
            temporary.replace(self.directory / name)

        await asyncio.to_thread(write)
        return message_id

    async def close(self) -> None:
        return None


class ConsoleMailer:
    """Prints messages to stdout (development only: they may contain links with tokens).

    It writes to stdout rather than the structured log on purpose: logs are shipped and kept,
    and secrets must never reach them.
    """

    def __init__(self, *, from_address: str) -> None:
        self.from_address = from_address

    async def send(self, message: MailMessage) -> str:
        mime = build_mime(message, default_from=self.from_address)
        sys.stdout.write(f"----- mail -----\n{mime.as_string()}\n----------------\n")
        sys.stdout.flush()
        return str(mime["Message-ID"])

    async def close(self) -> None:
        return None


def create_mailer(settings: MailSettings, *, var_dir: Path) -> Mailer:
    if settings.backend == "smtp":
        from tessera.lib.mail.smtp import SmtpMailer

        return SmtpMailer(settings)
    if settings.backend == "console":
        return ConsoleMailer(from_address=settings.from_address)
    directory = settings.file_dir
    if not directory.is_absolute() and directory.parts[:1] == ("var",):
        # `var/outbox-mail` follows `var_dir`, so each test or instance keeps its own.
        directory = var_dir.joinpath(*directory.parts[1:])
    return FileMailer(directory, from_address=settings.from_address)
