"""Upgrading while requests for codes and links wait in the outbox: migration notify_0002
moves them to the user block's topics, so nothing queued before the upgrade is lost."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select

from tessera.lib.config import DatabaseSettings
from tessera.lib.db import Database
from tessera.lib.migrations import migrations_dir, upgrade_database
from tessera.lib.tasks.outbox import OutboxEventDO
from tests import conftest
from tests.conftest import Backend, make_settings, open_api
from tests.helpers import drain
from tests.messages import sms_sent, unique_phone


@pytest.fixture
def fresh_database(backend: Backend, tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend under test (not the suite's migrated one)."""
    if backend.name == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'upgrade.db'}"
        return
    name = f"tessera_test_{conftest.RUN_ID}_up{uuid.uuid4().hex[:6]}"
    asyncio.run(
        conftest._mariadb_execute(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    )
    server, _, _ = backend.database_url.rpartition("/")
    try:
        yield f"{server}/{name}?charset=utf8mb4"
    finally:
        asyncio.run(conftest._mariadb_execute(f"DROP DATABASE IF EXISTS `{name}`"))


def downgrade_database(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = url
    command.downgrade(config, revision)


async def topics(url: str) -> dict[str, str]:
    database = Database(DatabaseSettings(url=url))
    try:
        async with database.read() as session:
            rows = await session.execute(select(OutboxEventDO.event_id, OutboxEventDO.topic))
            return {event_id: topic for event_id, topic in rows.all()}
    finally:
        await database.dispose()


async def test_queued_code_and_reset_requests_survive_the_upgrade(
    fresh_database: str, backend: Backend, tmp_path: Path
):
    url = fresh_database
    for revision in ("tasks_0001", "notify_0001"):
        await asyncio.to_thread(upgrade_database, url, revision)
    waiting, parked, done = unique_phone(), unique_phone(), unique_phone()
    code, reset = "notify.sms_code_requested", "notify.password_reset_requested"
    rows = {
        "a" * 32: (code, "pending", {"phone": waiting, "purpose": "register"}),
        "b" * 32: (reset, "dead", {"email": "x@example.com"}),
        "c" * 32: (code, "delivered", {"phone": done, "purpose": "register"}),
        "d" * 32: (code, "dead", {"phone": parked, "purpose": "login"}),
    }
    database = Database(DatabaseSettings(url=url))
    try:
        async with database.transaction() as uow:
            for event_id, (topic, status, payload) in rows.items():
                uow.session.add(
                    OutboxEventDO(
                        event_id=event_id, topic=topic, payload=json.dumps(payload), status=status
                    )
                )
    finally:
        await database.dispose()

    await asyncio.to_thread(upgrade_database, url, "heads")
    assert await topics(url) == {
        "a" * 32: "user.sms_code_requested",
        "b" * 32: "user.password_reset_requested",
        "c" * 32: "notify.sms_code_requested",  # history stays as it happened
        "d" * 32: "user.sms_code_requested",
    }
    await asyncio.to_thread(downgrade_database, url, "notify_0001")
    assert set((await topics(url)).values()) == {code, reset}
    await asyncio.to_thread(upgrade_database, url, "heads")

    settings = make_settings(backend, tmp_path, database={"url": url})
    async with open_api(settings) as api:
        await drain(api)
        [sms] = sms_sent(api, waiting)
        assert sms["type"] == "verification_code"
        assert sms_sent(api, done) == []
