"""Property-based contract tests: schemathesis walks the whole OpenAPI document.

Every operation is called with generated positive and negative inputs (examples, coverage and
fuzzing phases), then the stateful phase follows the document's `links` (register → order →
pay → ship → documents, ...). Each answer is checked against the document: documented status,
content type, headers and body schema, no 5xx, negative input refused, unsupported methods
405 with `Allow`. It runs once per role (customer, staff, admin) on both back ends, in-process
over ASGI, with the fixed seed and small budget of `schemathesis.toml`.
"""

from __future__ import annotations

import asyncio
import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.python import asgi

from tessera.app import create_app
from tessera.blocks.user import dao as user_dao
from tessera.blocks.user import service as user_service
from tessera.lib.config import Settings
from tessera.lib.migrations import upgrade_database
from tessera.lib.runtime import Runtime
from tests.conftest import (
    MARIADB_HOST,
    MARIADB_PASSWORD,
    MARIADB_PORT,
    MARIADB_USER,
    RUN_ID,
    Backend,
    _mariadb_execute,
    make_settings,
)
from tests.helpers import PASSWORD, unique

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def own_backend(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """A database of the contract runs' own, dropped afterwards: they leave queued export
    jobs and undelivered outbox events (thousands of generated requests) that the shared
    session database must not hand to later tests' workers."""
    if backend.name == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('contract') / 'tessera.db'}"
        upgrade_database(url)
        yield Backend("sqlite", url, None)
        return
    name = f"tessera_test_{RUN_ID}_contract"
    charset = "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    asyncio.run(_mariadb_execute(f"CREATE DATABASE `{name}` {charset}"))
    auth = MARIADB_USER + (f":{MARIADB_PASSWORD}" if MARIADB_PASSWORD else "")
    url = f"mysql+asyncmy://{auth}@{MARIADB_HOST}:{MARIADB_PORT}/{name}?charset=utf8mb4"
    try:
        upgrade_database(url)
        yield Backend("mariadb", url, backend.cache_url)
    finally:
        asyncio.run(_mariadb_execute(f"DROP DATABASE IF EXISTS `{name}`"))


@schemathesis.check
def schema_says_every_constraint(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request the document allows is never refused for breaking the schema.

    `positive_data_acceptance` (schemathesis.toml) lets a schema-valid request be refused with
    422, because some rules cannot be written in JSON Schema (a phone number's numbering plan,
    a common password); those refusals carry their own documented code. A 422
    `request.validation_failed` for such a request would mean the server checks a constraint
    the document does not show.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    code = response.json().get("code")
    if code == "request.validation_failed":
        raise AssertionError(f"schema-valid request refused as invalid: {response.text[:500]}")
    return None


async def _create_user(settings: Settings, role: str) -> str:
    """The account the run acts as, made the way an operator would; returns its username."""
    runtime = Runtime.build(settings)
    await runtime.start()
    try:
        name = unique(role)
        created = await user_service.create_admin(
            runtime=runtime, username=name, email=f"{name}@example.com", password=PASSWORD
        )
        if role != "admin":
            async with runtime.db.transaction() as uow:
                user = await user_dao.get_user(uow.session, created.id)
                assert user is not None
                user.roles = await user_dao.roles_by_name(uow.session, [role])
        return name
    finally:
        await runtime.close()


def _failures(event: events.ScenarioFinished) -> list[str]:
    found = []
    for case_id, checks in event.recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            interaction = event.recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            found.append(
                f"[{event.phase.name}] {event.label}: {check.name}: "
                f"{check.failure_info.failure.title} -- {check.failure_info.failure.message}\n"
                f"    {check.failure_info.code_sample}\n"
                f"    -> {response.status_code if response else '?'} "
                f"{(response.content or b'')[:300]!r}"
            )
    return found


@pytest.mark.parametrize("role", ["customer", "staff", "admin"])
def test_the_document_holds(own_backend: Backend, tmp_path: Path, role: str) -> None:
    settings = make_settings(own_backend, tmp_path)
    username = asyncio.run(_create_user(settings, role))
    app = create_app(settings)
    try:
        _run(app, username, own_backend, role)
    finally:
        # The client leaves the app's lifespan running (pools open) for reuse: end it.
        asgi.shutdown_lifespans()


def _run(app: Any, username: str, backend: Backend, role: str) -> None:
    with asgi.get_client(app) as client:
        login = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.text
        config = SchemathesisConfig.from_dict(tomllib.loads(CONFIG.read_text()))
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)

        class SignIn:
            """The role's bearer token; signs in again when an answer is 401, since the
            run itself may end the session (`POST /auth/logout` is in the document too)."""

            def get(self, case: Any, ctx: Any) -> str:
                again = client.post(
                    "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
                )
                assert again.status_code == 200, again.text
                return str(again.json()["access_token"])

            def set(self, case: Any, data: str, ctx: Any) -> None:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

        schema.auth(refresh_interval=600)(SignIn)
        failures: list[str] = []
        errors: list[str] = []
        cases: Counter[str] = Counter()
        transitions = 0
        walked: Counter[str] = Counter()
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                cases[event.phase.name] += len(event.recorder.cases)
                if event.phase.name == "STATEFUL_TESTING":
                    for interaction in event.recorder.interactions.values():
                        response = interaction.response
                        if response is not None and response.status_code < 300:
                            walked[interaction.request.method] += 1
                failures.extend(_failures(event))
            elif isinstance(event, events.PhaseStarted) and event.payload is not None:
                transitions = event.payload.transitions_total
            elif isinstance(event, events.NonFatalError | events.FatalError):
                errors.append(repr(event.info if hasattr(event, "info") else event)[:2000])
    print(f"{backend.name}/{role}: cases per phase {dict(cases)}, links {transitions}")
    print(f"stateful 2xx answers by method: {dict(walked)}")
    assert not errors, "\n".join(errors)
    # Every phase ran, the stateful one over the document's links.
    assert {"EXAMPLES", "COVERAGE", "FUZZING", "STATEFUL_TESTING"} <= {
        phase for phase, count in cases.items() if count > 0
    }, cases
    assert transitions >= 100, transitions
    # ...and got somewhere: some of its steps were accepted (how far a walk gets depends on
    # the data each back end hands out, so no particular path is asserted).
    assert sum(walked.values()) > 0, walked
    assert not failures, f"{len(failures)} contract failures:\n" + "\n".join(failures)
