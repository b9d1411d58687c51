"""Messages in tests: a real SMTP sink (aiosmtpd on 127.0.0.1) that can be stopped and
started again on the same port, and helpers that read links and codes out of delivered mail
and SMS. The fixtures `smtp_sink` and `notify_api` (tests/conftest.py) use them.
"""

from __future__ import annotations

import json
import random
import re
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select

from tessera.blocks.notify.model.do import NotificationDO
from tests.helpers import drain


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """Collects every message it accepts; `stop()` / `start()` simulate an outage."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [message for rcpt, message in self.messages if address in rcpt]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


TOKEN_RE = re.compile(r"token=([A-Za-z0-9_-]{20,})")


async def deliver(api: Any) -> None:
    """Run the outbox until nothing is due: handlers queue messages, then they are sent."""
    await drain(api)


def last_mail(sink: SmtpSink, address: str, link: str | None = None) -> Any:
    """The newest mail to `address` (carrying a `link` such as "reset-password", if given).

    Mails of different flows (registration, reset) are delivered concurrently, so their
    arrival order is not the order the flows started in.
    """
    mails = [m for m in sink.to(address) if link is None or f"{link}?token=" in text_of(m)]
    assert mails, f"no mail to {address}" + (f" with a {link} link" if link else "")
    return mails[-1]


def token_in_last_mail(sink: SmtpSink, address: str, link: str | None = None) -> str:
    mail = last_mail(sink, address, link)
    found = TOKEN_RE.search(text_of(mail))
    assert found, text_of(mail)
    return found.group(1)


def sms_sent(api: Any, phone: str | None = None) -> list[dict[str, Any]]:
    path = Path(api.settings.var_dir) / "outbox-sms.log"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if phone is None or line["phone"] == phone]


async def bind_phone(api: Any, user: Any, phone: str) -> None:
    """Bind `phone` to the signed-in `user` the way a client does: a code, then the binding."""
    sent = await api.post("/api/v1/auth/sms-code", json={"phone": phone, "purpose": "bind_phone"})
    assert sent.status_code == 202
    await deliver(api)
    response = await api.post(
        "/api/v1/users/me/phone",
        json={"phone": phone, "code": last_code(api, phone)},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text


def last_code(api: Any, phone: str) -> str:
    messages = sms_sent(api, phone)
    assert messages, f"no SMS to {phone}"
    code = str(messages[-1]["params"]["code"])
    assert re.fullmatch(r"[0-9]{6}", code)
    return code


async def notifications(api: Any, **where: Any) -> list[NotificationDO]:
    async with api.runtime.db.read() as session:
        query = select(NotificationDO).order_by(NotificationDO.id)
        for key, value in where.items():
            query = query.where(getattr(NotificationDO, key) == value)
        return list((await session.execute(query)).scalars())


_phone_counter = [0]


def unique_phone() -> str:
    """A valid mainland mobile number nobody else in this run uses."""
    _phone_counter[0] += 1
    return f"+86139{random.randint(0, 9999):04d}{_phone_counter[0] % 10000:04d}"
