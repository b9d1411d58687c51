"""The `file` and `console` SMS senders (no provider needed) and `create_sms_sender`."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path

from tessera.lib.config import SmsSettings
from tessera.lib.db import utcnow
from tessera.lib.sms.base import SmsMessage, SmsSender


class FileSms:
    """Appends one JSON line per message to a file (`var/outbox-sms.log` by default)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    async def send(self, message: SmsMessage) -> str:
        provider_id = "file-" + uuid.uuid4().hex
        line = json.dumps(
            {
                "id": provider_id,
                "at": utcnow().isoformat(),
                "phone": message.phone,
                "type": message.message_type,
                "params": message.params,
                "text": message.text,
            },
            ensure_ascii=False,
        )

        def append() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

        async with self._lock:
            await asyncio.to_thread(append)
        return provider_id

    async def close(self) -> None:
        return None


class ConsoleSms:
    """Prints messages to stdout, never to the log (they carry one-time codes)."""

    async def send(self, message: SmsMessage) -> str:
        sys.stdout.write(f"----- sms to {message.phone} -----\n{message.text}\n")
        sys.stdout.flush()
        return "console-" + uuid.uuid4().hex

    async def close(self) -> None:
        return None


def create_sms_sender(settings: SmsSettings, *, var_dir: Path) -> SmsSender:
    if settings.backend == "aliyun":
        from tessera.lib.sms.aliyun import AliyunSms

        return AliyunSms(settings)
    if settings.backend == "tencent":
        from tessera.lib.sms.tencent import TencentSms

        return TencentSms(settings)
    if settings.backend == "console":
        return ConsoleSms()
    path = settings.file_path
    if not path.is_absolute() and path.parts[:1] == ("var",):
        path = var_dir.joinpath(*path.parts[1:])
    return FileSms(path)
