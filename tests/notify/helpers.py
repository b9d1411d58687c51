"""Helpers of the notify tests: read links and codes out of delivered messages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tessera.blocks.notify.model.do import NotificationDO
from tests.helpers import drain
from tests.notify.conftest import SmtpSink, text_of

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
    import random

    _phone_counter[0] += 1
    return f"+86139{random.randint(0, 9999):04d}{_phone_counter[0] % 10000:04d}"
