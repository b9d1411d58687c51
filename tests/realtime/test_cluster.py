"""Several `tessera serve` processes on one Redis behave as one: real processes started the way
an operator starts them (environment only), on the test MariaDB database and real Redis with
this module's own key prefix. A client on one instance receives what happens through another;
chat and presence span instances; revocation closes sockets everywhere; an instance stopped
(SIGTERM: 1012) or killed leaves its clients to resume elsewhere with nothing lost; and a
Redis restart under load loses nothing a client cannot recover.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tessera.lib.migrations import upgrade_database
from tessera.lib.realtime.client import RealtimeClient
from tests.conftest import Backend, _mariadb_execute, open_api
from tests.helpers import SignedIn, bearer, signed_in
from tests.realtime.conftest import free_port, live_settings
from tests.realtime.helpers import make_product, next_topic, place_order, support_room

REPO = Path(__file__).resolve().parents[2]
TESSERA = str(Path(sys.executable).with_name("tessera"))
SECRET = "cluster-secret-" + uuid.uuid4().hex + uuid.uuid4().hex


@dataclass
class Instance:
    name: str
    port: int
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> Instance:
        self.process = subprocess.Popen(
            [TESSERA, "serve", "--port", str(self.port)],
            cwd=self.env["TESSERA_VAR_DIR"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited: {self.process.stdout.read()}")  # type: ignore[union-attr]
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.http + "/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        pytest.fail(f"{self.name} did not start within {timeout} s")

    def stop(self, sig: int = signal.SIGTERM) -> str:
        process = self.process
        if process is None:
            return ""
        if process.poll() is None:
            process.send_signal(sig)
        try:
            out, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, _ = process.communicate(timeout=5)
        self.process = None
        return out or ""


def cluster_env(backend: Backend, var_dir: Path, *, cache_url: str, prefix: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    var_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        TESSERA_CONFIG_DIR=str(REPO / "config"),
        TESSERA_ENV="test",
        TESSERA_VAR_DIR=str(var_dir),
        TESSERA_DATABASE__URL=backend.database_url,
        TESSERA_CACHE__URL=cache_url,
        TESSERA_CACHE__KEY_PREFIX=prefix,
        TESSERA_SECURITY__JWT_SECRET=SECRET,
        TESSERA_SECURITY__ARGON2_TIME_COST="1",
        TESSERA_SECURITY__ARGON2_MEMORY_KIB="1024",
        TESSERA_SECURITY__ARGON2_PARALLELISM="1",
        TESSERA_LOGGING__LEVEL="WARNING",
        TESSERA_LOGGING__ACCESS_LOG="false",
        TESSERA_TASKS__WORKER_IN_PROCESS="on",
        TESSERA_TASKS__POLL_INTERVAL_SECONDS="0.2",
        TESSERA_TASKS__BACKOFF_BASE_SECONDS="0.1",
        TESSERA_TASKS__BACKOFF_MAX_SECONDS="1",
        # Short backoff, so as many tries as production's hours of retries would give.
        TESSERA_TASKS__MAX_ATTEMPTS="100",
        TESSERA_REALTIME__HEARTBEAT_INTERVAL_SECONDS="1",
        TESSERA_REALTIME__IDLE_TIMEOUT_SECONDS="5",
        TESSERA_REALTIME__PRESENCE_TTL_SECONDS="3",
        TESSERA_REALTIME__REVOCATION_SWEEP_INTERVAL_SECONDS="600",
    )
    return env


@dataclass
class Cluster:
    backend: Backend
    prefix: str
    cache_url: str
    root: Path
    instances: list[Instance] = field(default_factory=list)

    def add(self, name: str) -> Instance:
        env = cluster_env(
            self.backend, self.root / name, cache_url=self.cache_url, prefix=self.prefix
        )
        instance = Instance(name, free_port(), env)
        self.instances.append(instance)
        return instance

    def start(self, *names: str) -> list[Instance]:
        started = [self.add(name).start() for name in names]
        for instance in started:
            instance.wait_ready()
        return started

    def stop_all(self) -> None:
        for instance in self.instances:
            output = instance.stop()
            assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def mariadb(request: pytest.FixtureRequest) -> Backend:
    backend: Backend = request.getfixturevalue("mariadb_backend")
    return backend


@pytest.fixture(scope="module")
def pair(mariadb: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    assert mariadb.cache_url is not None
    cluster = Cluster(
        mariadb, f"tessera-cluster-{uuid.uuid4().hex[:10]}", mariadb.cache_url,
        tmp_path_factory.mktemp("cluster"),
    )  # fmt: skip
    try:
        cluster.start("a", "b")
        yield cluster
    finally:
        cluster.stop_all()


async def _setup_api(cluster: Cluster, tmp_path: Path):
    backend = Backend("mariadb", cluster.backend.database_url, cluster.cache_url)
    settings = live_settings(
        backend,
        tmp_path,
        cache={"url": cluster.cache_url, "key_prefix": cluster.prefix},
        security={"jwt_secret": SECRET},
        tasks={"worker_in_process": "off"},
    )
    return open_api(settings)


@pytest_asyncio.fixture
async def setup(pair: Cluster, tmp_path: Path) -> AsyncIterator:
    """An in-process app on the cluster's database and Redis, for creating users and roles."""
    async with await _setup_api(pair, tmp_path) as api:
        yield api


async def client_on(instance: Instance, user: SignedIn) -> RealtimeClient:
    client = RealtimeClient(instance.ws, token=user.access)
    await client.connect()
    return client


async def http(instance: Instance) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=instance.http, timeout=10)


async def test_client_on_a_receives_what_happens_through_b(pair, setup):
    a, b = pair.instances[:2]
    staff = await signed_in(setup, role="staff")
    customer = await signed_in(setup)
    async with await http(b) as through_b:
        product = await make_product(through_b, staff)
        order_id = await place_order(through_b, customer, product["id"])
        owner = await client_on(a, customer)
        feed = await client_on(a, staff)
        try:
            await owner.subscribe(f"order:{order_id}")
            await feed.subscribe("staff:orders")
            paid = await through_b.post(
                f"/api/v1/orders/{order_id}/pay",
                json={"method": "sandbox"},
                headers=customer.headers,
            )
            assert paid.status_code == 200, paid.text
            async with asyncio.timeout(2):
                mine = await next_topic(owner, f"order:{order_id}", "order.paid")
                staff_view = await next_topic(feed, "staff:orders", "order.paid")
        finally:
            await owner.close()
            await feed.close()
    assert mine["data"]["order_id"] == staff_view["data"]["order_id"] == order_id


async def test_chat_and_presence_span_instances(pair, setup):
    a, b = pair.instances[:2]
    staff = await signed_in(setup, role="staff")
    customer = await signed_in(setup)
    async with await http(a) as through_a:
        product = await make_product(through_a, staff)
        order_id = await place_order(through_a, customer, product["id"])
        room = await support_room(through_a, customer, order_id)
        channel = f"chat:{room['id']}"
        buyer = await client_on(a, customer)
        agent = await client_on(b, staff)
        try:
            await buyer.subscribe(channel)
            await agent.subscribe(channel)
            await buyer.publish(channel, {"text": "hello from A"})
            async with asyncio.timeout(2):
                seen = await next_topic(agent, channel, "chat.message_posted")
            assert seen["data"]["text"] == "hello from A"
            await asyncio.sleep(0.2)
            presence = await through_a.get(
                f"/api/v1/chat/rooms/{room['id']}/presence", headers=customer.headers
            )
            assert presence.json() == {"user_ids": sorted([customer.id, staff.id])}
        finally:
            await buyer.close()
            await agent.close()


async def test_logout_through_one_instance_closes_sockets_on_the_other(pair, setup):
    a, b = pair.instances[:2]
    user = await signed_in(setup)
    on_a = await client_on(a, user)
    async with await http(b) as through_b:
        response = await through_b.post("/api/v1/auth/logout", headers=user.headers)
        assert response.status_code == 204
    async with asyncio.timeout(1.0):
        closed = await on_a.wait_closed()
    assert closed.code == 4401


async def pay_through(instance: Instance, user: SignedIn, order_id: int) -> None:
    async with await http(instance) as client:
        response = await client.post(
            f"/api/v1/orders/{order_id}/pay", json={"method": "sandbox"}, headers=user.headers
        )
        assert response.status_code == 200, response.text


async def paid_ids(client: RealtimeClient, channel: str, count: int) -> list[int]:
    ids = []
    async with asyncio.timeout(5):
        while len(ids) < count:
            frame = await next_topic(client, channel, "order.paid")
            ids.append(frame["data"]["order_id"])
    return ids


async def test_sigterm_closes_1012_and_clients_resume_elsewhere(pair, setup):
    a, b = pair.instances[:2]
    (c,) = pair.start("c")
    staff = await signed_in(setup, role="staff")
    customer = await signed_in(setup)
    async with await http(a) as through_a:
        product = await make_product(through_a, staff)
        orders = [await place_order(through_a, customer, product["id"]) for _ in range(4)]
    client = await client_on(c, customer)
    channel = f"user:{customer.id}"
    await client.subscribe(channel)
    await pay_through(b, customer, orders[0])
    assert await paid_ids(client, channel, 1) == [orders[0]]
    output = c.stop(signal.SIGTERM)
    closed = await client.wait_closed(5)
    assert closed.code == 1012
    assert "Traceback" not in output, output
    for order_id in orders[1:]:
        await pay_through(b, customer, order_id)  # while the client is away
    acks = await client.resume(a.ws)
    assert acks[channel]["recovered"] is True
    # Each missed payment arrives once. Their relative order is the order the workers of
    # several instances published them in, not the order the payments committed in.
    assert sorted(await paid_ids(client, channel, 3)) == orders[1:]
    await client.close()


async def test_killed_instance_clients_resume_and_its_users_leave_presence(pair, setup):
    a, b = pair.instances[:2]
    (d,) = pair.start("d")
    staff = await signed_in(setup, role="staff")
    room = (
        await setup.post(
            "/api/v1/chat/rooms", json={"name": "ops", "member_ids": []}, headers=staff.headers
        )
    ).json()
    channel = f"chat:{room['id']}"
    client = await client_on(d, staff)
    await client.subscribe(channel)
    await asyncio.sleep(0.2)
    presence_url = f"/api/v1/chat/rooms/{room['id']}/presence"
    async with await http(a) as through_a:
        assert (await through_a.get(presence_url, headers=staff.headers)).json()["user_ids"] == [
            staff.id
        ]
        d.stop(signal.SIGKILL)
        closed = await client.wait_closed(5)
        assert closed.code != 1000
        texts = [f"missed {index}" for index in range(3)]
        for text in texts:
            sent = await through_a.post(
                f"/api/v1/chat/rooms/{room['id']}/messages",
                json={"text": text},
                headers=staff.headers,
            )
            assert sent.status_code == 201
        await asyncio.sleep(0.5)
        acks = await client.resume(b.ws)
        assert acks[channel]["recovered"] is True
        frames = await client.messages(3)
        assert [frame["data"]["text"] for frame in frames] == texts
        await client.unsubscribe(channel)
        # The killed instance never said goodbye: its entry expires (presence TTL 3 s).
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            users = (await through_a.get(presence_url, headers=staff.headers)).json()["user_ids"]
            if not users:
                break
            await asyncio.sleep(0.25)
        assert users == []
    await client.close()


# --- Redis restarted under load --------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test's own (never the machine's shared one)."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.root = root
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                import socket

                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            time.sleep(0.05)
        pytest.fail("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


async def test_redis_restart_under_load_loses_nothing_a_client_cannot_recover(
    mariadb, tmp_path_factory, tmp_path
):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    root = tmp_path_factory.mktemp("redis-restart")
    redis = PrivateRedis(root)
    redis.start()
    # Its own database: another installation's workers (the module's pair, on the shared
    # Redis) must not deliver this one's outbox events.
    name = f"tessera_test_restart_{uuid.uuid4().hex[:8]}"
    await _mariadb_execute(
        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    database_url = mariadb.database_url.replace(
        mariadb.database_url.split("/")[-1].split("?")[0], name
    )
    await asyncio.to_thread(upgrade_database, database_url)
    own = Backend("mariadb", database_url, redis.url)
    cluster = Cluster(own, f"tessera-restart-{uuid.uuid4().hex[:8]}", redis.url, root)
    try:
        e, f = cluster.start("e", "f")
        async with await _setup_api(cluster, tmp_path) as api:
            staff = await signed_in(api, role="staff")
            customer = await signed_in(api)
            product = await make_product(api, staff, stock=1000)
        feed = await client_on(e, staff)
        await feed.subscribe("staff:orders")
        seen: set[int] = set()
        live: set[int] = set()
        reloads = 0
        placed: list[int] = []

        journal: list[str] = []

        async def watch() -> None:
            nonlocal reloads
            async for frame in feed:
                journal.append(
                    f"{frame['type']}:{frame.get('offset')}:{frame.get('epoch')}:"
                    f"{(frame.get('data') or {}).get('topic')}:"
                    f"{(frame.get('data') or {}).get('order_id')}"
                )
                if frame["type"] == "message" and frame["data"].get("topic") == "order.paid":
                    seen.add(frame["data"]["order_id"])
                    live.add(frame["data"]["order_id"])
                elif frame["type"] == "resync":
                    reloads += 1
                    await reload_paid(f, staff, seen)

        watcher = asyncio.create_task(watch())

        async def restart_redis() -> None:
            redis.stop()
            await asyncio.sleep(1.5)  # orders keep coming (and get 503s) meanwhile
            await asyncio.to_thread(redis.start)

        restart: asyncio.Task[None] | None = None
        after_restart: list[int] = []
        async with await http(f) as through_f:
            for index in range(16):
                if index == 6:
                    restart = asyncio.create_task(restart_redis())
                order_id = await retry_503(
                    lambda: place_order_raw(through_f, customer, product["id"])
                )
                await retry_503(lambda order_id=order_id: pay_raw(through_f, customer, order_id))
                placed.append(order_id)
                if restart is not None and restart.done():
                    after_restart.append(order_id)
        assert restart is not None
        await restart
        # Events whose publish failed while Redis was down are retried by the outbox.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not set(placed) <= seen:
            if feed.close_code is not None:
                # The socket may be closed (Redis lost its auth state); resume like a client.
                await feed.resume(e.ws)
                await reload_paid(f, staff, seen)
                watcher = asyncio.create_task(watch())
            await asyncio.sleep(0.2)
        watcher.cancel()
        await feed.close()
        missing = sorted(set(placed) - seen)
        assert missing == [], (
            f"never delivered nor recoverable: {missing} (reloads: {reloads}; placed {placed}; "
            f"frames {journal})"
        )
        # Once Redis is back, delivery is live again (not only through reloads).
        assert after_restart
        assert set(after_restart) <= live
    finally:
        cluster.stop_all()
        redis.stop()
        await _mariadb_execute(f"DROP DATABASE IF EXISTS `{name}`")


async def place_order_raw(
    client: httpx.AsyncClient, user: SignedIn, product_id: int
) -> httpx.Response:
    return await client.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product_id, "quantity": 1}]},
        headers=user.headers,
    )


async def pay_raw(client: httpx.AsyncClient, user: SignedIn, order_id: int) -> httpx.Response:
    return await client.post(
        f"/api/v1/orders/{order_id}/pay", json={"method": "sandbox"}, headers=user.headers
    )


async def retry_503(call) -> int:
    """Redis down means 503 + Retry-After for requests that need it: retry like a client."""
    for _ in range(100):
        response = await call()
        if response.status_code == 503:
            await asyncio.sleep(0.1)
            continue
        assert response.status_code in (200, 201), response.text
        return int(response.json()["id"])
    pytest.fail("the service stayed unavailable")


async def reload_paid(instance: Instance, staff: SignedIn, seen: set[int]) -> None:
    """What a client does on `resync`: reload the state over REST."""
    async with await http(instance) as client:
        for _ in range(50):
            response = await client.get(
                "/api/v1/orders",
                params={"status": "paid", "size": 100},
                headers=bearer(staff.access),
            )
            if response.status_code == 200:
                seen.update(item["id"] for item in response.json()["items"])
                return
            await asyncio.sleep(0.1)
