"""Mail and SMS delivery throughput of one outbox worker, with the backlog draining curve.

What it measures
----------------
For each backend (``--backends embedded,mariadb``: a temporary SQLite file with the
in-process cache, or a throw-away MariaDB database with Redis), it migrates a fresh
database, starts the notify block's integrations, creates one user, then:

* mail: with the worker stopped, publishes ``--events`` (default 1000) ``order.paid`` events
  (one transaction each, as the order block does), then starts ONE worker and times it
  until every notification is ``sent`` to a local SMTP sink (aiosmtpd on 127.0.0.1, a
  separate thread of this process). Each event costs the full path: claim, the order
  handler (read contact and settings, insert the notification + its outbox event), claim
  again, render the template (en, HTML + text), SMTP send over the kept-alive connection,
  status update, idempotency records.
* SMS: the same with ``order.shipped`` events and the user's settings set to SMS only, sent
  through the Aliyun adapter (signed requests) to the local fake provider of
  tests/fakes/sms_providers.py, which checks every signature.
* baseline: the same number of mails sent straight through `SmtpMailer` (no database, no
  outbox, no template) to the same sink, and SMS through `AliyunSms` to the same fake: what
  the transport alone can do. The ratio worker / baseline is the cost of the guarantees.

The draining curve samples the number of notifications not yet sent every
``--sample-seconds`` (default 0.5) while the worker runs.

Run: ``.venv/bin/python bench/notify_bench.py [--events 1000] [--backends embedded,mariadb]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.fakes

import structlog  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from tests.fakes.sms_providers import FakeSmsProvider  # noqa: E402

from tessera.blocks.notify import block as notify_block  # noqa: E402
from tessera.blocks.notify.model.do import NotificationDO  # noqa: E402
from tessera.blocks.order.events import ORDER_TOPICS, OrderEvent  # noqa: E402
from tessera.blocks.user import service as user_service  # noqa: E402
from tessera.blocks.user.model.dto import BindPhoneIn, RegisterIn  # noqa: E402
from tessera.lib.config import LoggingSettings, Settings  # noqa: E402
from tessera.lib.logging import configure_logging  # noqa: E402
from tessera.lib.mail import MailMessage, SmtpMailer  # noqa: E402
from tessera.lib.migrations import upgrade_database  # noqa: E402
from tessera.lib.runtime import Runtime  # noqa: E402
from tessera.lib.sms import SmsMessage  # noqa: E402
from tessera.lib.sms.aliyun import AliyunSms  # noqa: E402
from tessera.lib.tasks import OutboxWorker, publish  # noqa: E402
from tessera.lib.web import ClientInfo  # noqa: E402

PASSWORD = "Bench-Passphrase-2026!"


class CountingSink:
    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.count += 1
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def order_payload(user_id: int, index: int) -> dict[str, Any]:
    return {
        "order_id": index,
        "order_no": f"B{index:08d}",
        "user_id": user_id,
        "status": "paid",
        "total": "12.50",
        "currency": "CNY",
        "items": [
            {
                "product_id": 1,
                "sku": "TEA-001",
                "name": "Green tea",
                "unit_price": "6.25",
                "quantity": 2,
                "line_total": "12.50",
            }
        ],
        "reason": None,
        "carrier": "SF",
        "tracking_no": f"SF{index:010d}",
        "occurred_at": "2026-11-26T08:00:00Z",
    }


async def unsent(runtime: Runtime) -> int:
    async with runtime.db.read() as session:
        return int(
            await session.scalar(select(func.count()).where(NotificationDO.status != "sent")) or 0
        )


async def run_worker(
    runtime: Runtime, *, events: int, sample_seconds: float
) -> tuple[float, list[tuple[float, int]]]:
    """Start one worker on the backlog; time it until `events` notifications are sent."""
    worker = OutboxWorker(runtime.db, runtime.events, runtime.settings.tasks)
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(worker.run_forever(stop))
    curve: list[tuple[float, int]] = [(0.0, events)]
    while True:
        await asyncio.sleep(sample_seconds)
        async with runtime.db.read() as session:
            sent = int(
                await session.scalar(select(func.count()).where(NotificationDO.status == "sent"))
                or 0
            )
        elapsed = time.perf_counter() - started
        curve.append((elapsed, events - sent))
        if sent >= events:
            break
        if elapsed > 600:
            raise RuntimeError("worker did not drain the backlog in 10 minutes")
    stop.set()
    await task
    # The last sample is up to one interval late: use the curve to interpolate the finish.
    return curve[-1][0], curve


async def publish_backlog(runtime: Runtime, topic: str, user_id: int, events: int) -> float:
    declared = {declared.name: declared for declared in ORDER_TOPICS}[topic]
    started = time.perf_counter()
    for index in range(events):
        async with runtime.db.transaction() as uow:
            await publish(
                uow,
                runtime.events,
                declared,
                OrderEvent.model_validate(order_payload(user_id, index)),
                aggregate_id=index,
            )
    return time.perf_counter() - started


def print_curve(curve: list[tuple[float, int]]) -> None:
    step = max(1, len(curve) // 12)
    points = curve[::step] + ([curve[-1]] if (len(curve) - 1) % step else [])
    print("    backlog:  " + "  ".join(f"{t:5.1f}s:{left}" for t, left in points))


async def bench_backend(
    name: str, settings_values: dict[str, Any], events: int, sample: float
) -> None:
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    fake = FakeSmsProvider(kind="aliyun").start()
    values = {
        **settings_values,
        "mail": {
            "backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": controller.port,
            "smtp_starttls": False,
        },
        "sms": {
            "backend": "aliyun",
            "aliyun_access_key_id": fake.key_id,
            "aliyun_access_key_secret": fake.secret,
            "aliyun_endpoint": fake.url,
            "templates": {"order_shipped": "SMS_200", "verification_code": "SMS_100"},
        },
        "logging": {"level": "WARNING", "access_log": False},
        "tasks": {"worker_in_process": "off", "poll_interval_seconds": 0.05},
        "ratelimit": {"enabled": False},
        "security": {
            "jwt_secret": "bench-secret-" + "x" * 40,
            "argon2_time_cost": 1,
            "argon2_memory_kib": 1024,
            "argon2_parallelism": 1,
        },
    }
    settings = Settings(**values)
    runtime = Runtime.build(settings)
    await runtime.start()
    for hook in notify_block.on_startup:
        await hook(runtime)
    try:
        user = await user_service.register_user(
            runtime=runtime,
            data=RegisterIn(
                username=f"bench{uuid.uuid4().hex[:8]}",
                email=f"b{uuid.uuid4().hex[:8]}@example.com",
                password=PASSWORD,
            ),
            client=ClientInfo(ip="127.0.0.1", user_agent="bench"),
        )
        # The registration's verification mail is part of the backlog: count it in.
        publish_seconds = await publish_backlog(runtime, "order.paid", user.id, events)
        seconds, curve = await run_worker(runtime, events=events + 1, sample_seconds=sample)
        assert sink.count == events + 1, sink.count
        mail_rate = (events + 1) / seconds

        mailer = SmtpMailer(settings.mail)
        started = time.perf_counter()
        for index in range(events):
            await mailer.send(MailMessage(to=user.email, subject=f"raw {index}", text="x" * 600))
        raw_mail = events / (time.perf_counter() - started)
        await mailer.close()

        print(f"\n[{name}] {events} order events -> mail (one worker)")
        print(f"    publishing the backlog: {events / publish_seconds:8.0f} events/s")
        print(f"    worker, end to end:     {mail_rate:8.0f} mails/s  ({seconds:.2f} s)")
        print(f"    SmtpMailer alone:       {raw_mail:8.0f} mails/s")
        print(f"    ratio worker / raw:     {mail_rate / raw_mail:8.2f}")
        print_curve(curve)

        # SMS: verified phone (bound with a code, as a user does), SMS only for shipped orders.
        from tessera.blocks.notify import service as notify_service
        from tessera.blocks.notify.model.dto import NotificationSettingsIO
        from tessera.lib.security import Principal

        principal = Principal(user.id, user.username, True, frozenset(), frozenset())
        phone = "+8613912345678"
        issued = await user_service.issue_sms_code(
            runtime=runtime, phone=phone, purpose="bind_phone"
        )
        assert issued is not None
        await user_service.bind_phone(
            runtime=runtime,
            principal=principal,
            data=BindPhoneIn(phone=phone, code=issued.code.get_secret_value()),
            ip=None,
        )
        await notify_service.put_notification_settings(
            runtime=runtime,
            principal=principal,
            data=NotificationSettingsIO(mail=[], sms=["order.shipped"]),
        )
        before = len(fake.received)
        publish_seconds = await publish_backlog(runtime, "order.shipped", user.id, events)
        seconds, curve = await run_worker(runtime, events=2 * events + 1, sample_seconds=sample)
        assert len(fake.received) - before == events, len(fake.received)
        assert fake.rejected_signatures == 0
        sms_rate = events / seconds

        sender = AliyunSms(settings.sms)
        started = time.perf_counter()
        for index in range(events):
            await sender.send(
                SmsMessage(
                    phone="+8613912345678",
                    message_type="order_shipped",
                    params={"order_no": str(index)},
                )
            )
        raw_sms = events / (time.perf_counter() - started)
        await sender.close()
        print(f"[{name}] {events} order events -> SMS via the Aliyun adapter (one worker)")
        print(f"    worker, end to end:     {sms_rate:8.0f} SMS/s  ({seconds:.2f} s)")
        print(f"    AliyunSms alone:        {raw_sms:8.0f} SMS/s")
        print(f"    ratio worker / raw:     {sms_rate / raw_sms:8.2f}")
        print_curve(curve)
    finally:
        for hook in notify_block.on_shutdown:
            await hook(runtime)
        await runtime.close()
        controller.stop()
        fake.stop()


async def mariadb_values(url: str, redis_url: str) -> tuple[dict[str, Any], str]:
    import asyncmy

    name = f"tessera_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncmy.connect(host="127.0.0.1", port=3306, user="root")
    async with connection.cursor() as cursor:
        await cursor.execute(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    connection.close()
    values = {
        "database": {"url": f"{url.rstrip('/')}/{name}?charset=utf8mb4"},
        "cache": {"url": redis_url, "key_prefix": f"tessera-bench-{name}"},
    }
    return values, name


async def drop_database(name: str) -> None:
    import asyncmy

    connection = await asyncmy.connect(host="127.0.0.1", port=3306, user="root")
    async with connection.cursor() as cursor:
        await cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--backends", default="embedded,mariadb")
    parser.add_argument("--sample-seconds", type=float, default=0.5)
    parser.add_argument("--mariadb-url", default="mysql+asyncmy://root@127.0.0.1:3306")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    configure_logging(LoggingSettings(level="WARNING", access_log=False), production=False)
    structlog.get_logger("bench").info("start")
    print(f"notify bench: {args.events} events per run, CPU count {os.cpu_count()}")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "embedded":
                values = {
                    "var_dir": Path(tmp) / "var",
                    "database": {"url": f"sqlite+aiosqlite:///{tmp}/bench.db"},
                }
                upgrade_database(values["database"]["url"])
                asyncio.run(
                    bench_backend(
                        "embedded: SQLite + in-process cache",
                        values,
                        args.events,
                        args.sample_seconds,
                    )
                )
            else:
                values, name = asyncio.run(mariadb_values(args.mariadb_url, args.redis_url))
                values["var_dir"] = Path(tmp) / "var"
                try:
                    upgrade_database(values["database"]["url"])
                    asyncio.run(
                        bench_backend("MariaDB + Redis", values, args.events, args.sample_seconds)
                    )
                finally:
                    asyncio.run(drop_database(name))


if __name__ == "__main__":
    main()
