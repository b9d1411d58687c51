"""The `tessera` command as an operator runs it: a real process, configured only through the
environment, on a throw-away SQLite database (the repository's `var/` is never touched)."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme

from tessera.app import create_app
from tessera.lib.config import Settings
from tests.helpers import PASSWORD, bearer, unique

REPO = Path(__file__).resolve().parents[1]
TESSERA = str(Path(sys.executable).with_name("tessera"))
TIMEOUT = 60


@dataclass
class Cli:
    cwd: Path
    env: dict[str, str]
    database_path: Path
    var_dir: Path

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.database_path}"

    def run(
        self, *args: str, stdin: str = "", timeout: float = TIMEOUT, **extra_env: str
    ) -> subprocess.CompletedProcess[str]:
        process = subprocess.Popen(
            [TESSERA, *args],
            cwd=self.cwd,
            env={**self.env, **extra_env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # No controlling terminal: hidden prompts read stdin instead of /dev/tty; and
            # its own process group, so a command that hangs is ended with its children.
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(process)
            pytest.fail(f"tessera {' '.join(args)} did not finish within {timeout} s")
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [TESSERA, *args],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )


def stop_group(process: subprocess.Popen[str]) -> str:
    """Stop a process we started (and any children it forked); return its output."""
    if process.poll() is None:
        process.terminate()
    try:
        stdout, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, _ = process.communicate(timeout=5)
    return stdout or ""


@asynccontextmanager
async def http_api(cli: Cli) -> AsyncIterator[httpx.AsyncClient]:
    """The app, in this process, on the database the commands wrote to."""
    settings = Settings(
        env="test",
        var_dir=cli.var_dir,
        database={"url": cli.database_url},
        cache={"url": None},
        security={"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1},
        logging={"level": "WARNING", "access_log": False},
        tasks={"worker_in_process": "off"},
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            yield api


async def sign_in(cli: Cli, username: str) -> httpx.Response:
    async with http_api(cli) as api:
        return await api.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """A migrated temp database and the environment an operator would export."""
    root = tmp_path_factory.mktemp("cli")
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    database_path = root / "data" / "cli.db"
    var_dir = root / "var"
    env.update(
        TESSERA_CONFIG_DIR=str(REPO / "config"),
        TESSERA_DATABASE__URL=f"sqlite+aiosqlite:///{database_path}",
        TESSERA_VAR_DIR=str(var_dir),
        TESSERA_LOGGING__LEVEL="WARNING",
        # Cheap argon2 keeps each process fast; the policy under test does not depend on it.
        TESSERA_SECURITY__ARGON2_TIME_COST="1",
        TESSERA_SECURITY__ARGON2_MEMORY_KIB="1024",
        TESSERA_SECURITY__ARGON2_PARALLELISM="1",
    )
    tool = Cli(cwd=root, env=env, database_path=database_path, var_dir=var_dir)
    upgraded = tool.run("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert str(database_path) in upgraded.stdout
    assert database_path.is_file()
    return tool


def test_help_for_every_command_group_exits_zero(cli: Cli):
    top = cli.run("--help")
    assert top.returncode == 0, top.stderr
    for command in ("serve", "db", "user"):
        assert command in top.stdout
    db = cli.run("db", "--help")
    assert db.returncode == 0, db.stderr
    assert "upgrade" in db.stdout
    create_admin = cli.run("user", "create-admin", "--help")
    assert create_admin.returncode == 0, create_admin.stderr
    for option in ("--username", "--email", "--password"):
        assert option in create_admin.stdout


async def test_created_admin_can_sign_in_and_administer(cli: Cli):
    name = unique("ops")
    result = cli.run(
        "user", "create-admin", "--username", name, "--email", f"{name}@example.com",
        "--password", PASSWORD,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert name in result.stdout
    assert (cli.var_dir / "jwt-secret").is_file()  # the dev secret lands in TESSERA_VAR_DIR

    async with http_api(cli) as api:
        login = await api.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        roles = await api.get("/api/v1/roles", headers=bearer(token))
        assert roles.status_code == 200, roles.text
        assert "admin" in {role["name"] for role in roles.json()}
        me = await api.get("/api/v1/users/me", headers=bearer(token))
        assert me.json()["roles"] == ["admin"]
        assert me.json()["email"] == f"{name}@example.com"


def test_duplicate_admin_is_refused_clearly(cli: Cli):
    name = unique("dup")
    args = ("user", "create-admin", "--username", name, "--email", f"{name}@example.com")
    first = cli.run(*args, "--password", PASSWORD)
    assert first.returncode == 0, first.stderr
    again = cli.run(*args, "--password", PASSWORD)
    assert again.returncode != 0
    assert "username_taken" in again.stderr
    assert "Traceback" not in again.stderr
    same_email = cli.run(
        "user",
        "create-admin",
        "--username",
        unique("other"),
        "--email",
        f"{name}@example.com",
        "--password",
        PASSWORD,
    )
    assert same_email.returncode != 0
    assert "email_taken" in same_email.stderr


async def test_weak_password_is_refused_with_the_reason(cli: Cli):
    name = unique("weak")
    result = cli.run(
        "user",
        "create-admin",
        "--username",
        name,
        "--email",
        f"{name}@example.com",
        "--password",
        "short",
    )
    assert result.returncode != 0
    assert "password" in result.stderr
    assert "at least 8 characters" in result.stderr
    assert "Traceback" not in result.stderr
    assert (await sign_in(cli, name)).status_code == 401  # no account was created


async def test_create_admin_prompts_for_missing_values(cli: Cli):
    name = unique("asked")
    answers = f"{name}\n{name}@example.com\n{PASSWORD}\n{PASSWORD}\n"
    result = cli.run("user", "create-admin", stdin=answers)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"created admin {name}" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr  # the password is not echoed
    assert (await sign_in(cli, name)).status_code == 200


def test_production_without_secret_refuses_to_run(cli: Cli):
    result = cli.run("db", "upgrade", TESSERA_ENV="production")
    assert result.returncode != 0
    assert "TESSERA_SECURITY__JWT_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_several_workers_in_embedded_mode_are_refused(cli: Cli):
    result = cli.run("serve", "--workers", "2", "--port", str(free_port()), timeout=20)
    assert result.returncode != 0
    message = result.stderr
    assert "Redis" in message
    assert "database" in message.lower()
    assert "TESSERA_CACHE__URL" in message


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_speaks_tls_with_hsts(cli: Cli, tmp_path: Path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = (tmp_path / n for n in ("ca.pem", "cert.pem", "key.pem"))
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_file), append=True)
    port = free_port()
    context = ssl.create_default_context(cafile=str(ca_file))

    server = cli.popen(
        "serve",
        "--port",
        str(port),
        "--ssl-certfile",
        str(cert_file),
        "--ssl-keyfile",
        str(key_file),
    )
    try:
        response = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and server.poll() is None:
            try:
                response = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=context)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None, "server did not answer over TLS within 20 s"
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert response.headers["x-content-type-options"] == "nosniff"
    finally:
        output = stop_group(server)
    assert "Traceback" not in output, output


async def test_demo_seed_creates_a_usable_shop_and_is_repeatable(cli: Cli):
    first = cli.run("demo", "seed")
    assert first.returncode == 0, first.stderr
    assert "products: 32 created" in first.stdout
    second = cli.run("demo", "seed")
    assert second.returncode == 0, second.stderr
    assert "0 created, 32 existed" in second.stdout
    async with http_api(cli) as api:
        catalogue = (await api.get("/api/v1/products", params={"q": "龙井"})).json()
        assert catalogue["total"] == 1
        login = await api.post(
            "/api/v1/auth/login",
            json={"username": "customer", "password": "Customer-Demo-Passw0rd"},
        )
        assert login.status_code == 200
        order = await api.post(
            "/api/v1/orders",
            json={"items": [{"product_id": catalogue["items"][0]["id"], "quantity": 1}]},
            headers=bearer(login.json()["access_token"]),
        )
        assert order.status_code == 201
    refused = cli.run(
        "demo",
        "seed",
        TESSERA_ENV="production",
        TESSERA_SECURITY__JWT_SECRET="Zx" + "".join(chr(65 + i) for i in range(26)) + "abcdefghij",
        TESSERA_SECURITY__ALLOW_UNSAFE_SETTINGS='["mail.backend", "sms.backend"]',
    )
    assert refused.returncode != 0
    assert "refusing to seed demo data in production" in refused.stderr


async def test_events_can_be_listed_and_dead_ones_retried(cli: Cli):
    from pydantic import ConfigDict
    from sqlalchemy import update

    from tessera.lib.tasks import EventPayload, Topic, publish
    from tessera.lib.tasks.outbox import OutboxEventDO

    class Parked(EventPayload):
        model_config = ConfigDict(frozen=True, extra="allow")

    parked = Topic("test.parked", Parked, description="an event nobody handles")

    async with http_api(cli) as api:
        runtime = api._transport.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.db.transaction() as uow:
            event_id = await publish(uow, runtime.events, parked, Parked(n=1))
        async with runtime.db.transaction() as uow:
            await uow.session.execute(
                update(OutboxEventDO)
                .where(OutboxEventDO.event_id == event_id)
                .values(status="dead", attempts=8, last_error="smtp: connection refused")
            )
    listed = cli.run("events", "list", "--status", "dead")
    assert listed.returncode == 0, listed.stderr
    line = next(row for row in listed.stdout.splitlines() if "test.parked" in row)
    assert "connection refused" in line
    row_id = line.split()[0]
    retried = cli.run("events", "retry", row_id)
    assert retried.returncode == 0, retried.stderr
    delivered = cli.run("worker", "--once")
    assert delivered.returncode == 0, delivered.stderr
    assert "test.parked" not in cli.run("events", "list", "--status", "dead").stdout
    assert "test.parked" in cli.run("events", "list", "--status", "delivered").stdout
    assert cli.run("events", "retry", "987654321").returncode != 0
    assert cli.run("events", "list", "--status", "bogus").returncode != 0


def test_serve_refuses_an_unmigrated_database(cli: Cli, tmp_path: Path):
    fresh = tmp_path / "fresh.db"
    result = cli.run("serve", "--port", "1", TESSERA_DATABASE__URL=f"sqlite+aiosqlite:///{fresh}")
    assert result.returncode == 2
    assert "tessera db upgrade" in result.stderr
    assert not fresh.exists()


def test_routes_names_the_block_serving_each_path(cli: Cli):
    result = cli.run("routes")
    assert result.returncode == 0, result.stderr
    owners = {
        (line.split()[0], line.split()[1]): line.split()[2] for line in result.stdout.splitlines()
    }
    assert owners[("POST", "/api/v1/auth/login")] == "user"
    assert owners[("POST", "/api/v1/orders")] == "order"
    assert owners[("PUT", "/api/v1/users/me/avatar")] == "file"
    assert owners[("GET", "/healthz")] == "(operations)"

    only_user = cli.run("routes", "--blocks", "user")
    assert only_user.returncode == 0, only_user.stderr
    assert "/api/v1/auth/login" in only_user.stdout
    assert "/api/v1/orders" not in only_user.stdout

    unknown = cli.run("routes", "--blocks", "nope")
    assert unknown.returncode == 2
    assert "unknown block" in unknown.stderr


def test_serve_with_chosen_blocks_serves_only_those(cli: Cli):
    assert cli.run("db", "upgrade").returncode == 0
    port = free_port()
    server = cli.popen("serve", "--port", str(port), "--blocks", "user")
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and server.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}/api/v1"
        assert httpx.get(f"{base}/users/me").status_code == 401
        assert httpx.get(f"{base}/products").status_code == 404
    finally:
        output = stop_group(server)
    assert "Traceback" not in output, output
