"""A small Tessera deployment for the fault suite: a database of the parametrised kind, a
private Redis, `tessera serve` (and optionally `tessera worker`) as real processes, an admin,
a product and signed-in customers. Everything is driven over HTTP like a client would."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.faults.procs import (
    TESSERA,
    Proc,
    RedisServer,
    free_port,
    serve,
    start,
    tessera_env,
    wait_http_ok,
)
from tests.fresh_db import fresh_databases

PASSWORD = "Fault-Suite-Passw0rd"


@dataclass
class Deployment:
    directory: Path
    env: dict[str, str]
    redis: RedisServer
    port: int = field(default_factory=free_port)
    server: Proc | None = None
    workers: list[Proc] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_server(self, *extra: str) -> Proc:
        self.server = serve(
            self.env, self.directory, self.port, *extra, name=f"serve-{uuid.uuid4().hex[:6]}"
        )
        wait_http_ok(self.server, f"{self.base_url}/healthz")
        return self.server

    def start_worker(self) -> Proc:
        worker = start(
            [TESSERA, "worker"],
            env=self.env,
            cwd=self.directory,
            log_name=f"worker-{uuid.uuid4().hex[:6]}",
        )
        self.workers.append(worker)
        return worker

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TESSERA, *args],
            env=self.env,
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def stop(self) -> None:
        for proc in [*self.workers, *([self.server] if self.server else [])]:
            proc.stop()


@contextmanager
def deployment(kind: str, directory: Path, **settings: str) -> Iterator[Deployment]:
    redis = RedisServer(directory)
    redis.start()
    try:
        with fresh_databases(kind, directory) as (url,):
            env = tessera_env(
                directory / "var",
                TESSERA_DATABASE__URL=url,
                TESSERA_CACHE__URL=redis.url,
                TESSERA_CACHE__KEY_PREFIX=f"fault-{uuid.uuid4().hex[:8]}",
                TESSERA_RATELIMIT__ENABLED="false",
                **settings,
            )
            deployed = Deployment(directory, env, redis)
            try:
                yield deployed
            finally:
                deployed.stop()
    finally:
        redis.stop()


async def admin_token(deployed: Deployment, client: httpx.AsyncClient) -> str:
    created = deployed.cli(
        "user",
        "create-admin",
        "--username",
        "admin",
        "--email",
        "admin@example.com",
        "--password",
        PASSWORD,
    )
    assert created.returncode == 0, created.stderr
    return await token(client, "admin")


async def token(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def customers(client: httpx.AsyncClient, count: int) -> list[dict[str, str]]:
    headers = []
    for _ in range(count):
        name = f"c{uuid.uuid4().hex[:10]}"
        registered = await client.post(
            "/api/v1/auth/register",
            json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
        )
        assert registered.status_code == 201, registered.text
        headers.append({"Authorization": f"Bearer {await token(client, name)}"})
    return headers


async def product(client: httpx.AsyncClient, admin: str, *, stock: int) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/products",
        json={"sku": f"sku-{uuid.uuid4().hex[:8]}", "name": "Tea", "price": "1.00", "stock": stock},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def all_orders(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await client.get(
            "/api/v1/orders", params={"page": page, "size": 100}, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        found.extend(body["items"])
        if len(found) >= body["total"] or not body["items"]:
            return found
        page += 1


async def until_ok(client: httpx.AsyncClient, path: str, within_seconds: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_seconds
    while True:
        try:
            if (await client.get(path)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if loop.time() > deadline:
            raise AssertionError(f"{path} not 200 within {within_seconds} s")
        await asyncio.sleep(0.05)
