"""Issue 9 items 7 and 18: `/metrics` is not public (allowed networks connecting directly, or
a bearer token), and a refused CORS preflight is problem+json like every other error."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from tessera.app import create_app
from tests.conftest import Backend, make_settings

PROBLEM = "application/problem+json"
TOKEN = secrets.token_urlsafe(40)


@asynccontextmanager
async def clients(
    backend: Backend, tmp_path: Path, **overrides: Any
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One app, reached from the host itself and from an outside address."""
    app = create_app(make_settings(backend, tmp_path, **overrides))
    async with app.router.lifespan_context(app):
        opened: dict[str, httpx.AsyncClient] = {}
        for name, peer in (("local", ("127.0.0.1", 40000)), ("outside", ("203.0.113.9", 40000))):
            transport = httpx.ASGITransport(app=app, client=peer)
            opened[name] = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        try:
            yield opened
        finally:
            for client in opened.values():
                await client.aclose()


async def test_metrics_are_refused_to_outside_addresses(backend: Backend, tmp_path: Path):
    async with clients(backend, tmp_path) as client:
        refused = await client["outside"].get("/metrics")
        assert refused.status_code == 403
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["code"] == "metrics.forbidden"
        assert "tessera_http_requests_total" not in refused.text

        scraped = await client["local"].get("/metrics")
        assert scraped.status_code == 200
        assert "tessera_http_requests_total" in scraped.text


async def test_metrics_through_a_proxy_need_the_token(backend: Backend, tmp_path: Path):
    """A reverse proxy on the same host connects from 127.0.0.1: its forwarded requests are
    outsiders, not the host."""
    async with clients(backend, tmp_path, metrics={"token": TOKEN}) as client:
        forwarded = {"X-Forwarded-For": "198.51.100.7"}
        assert (await client["local"].get("/metrics", headers=forwarded)).status_code == 403
        wrong = {"Authorization": "Bearer " + "x" * 40}
        assert (await client["outside"].get("/metrics", headers=wrong)).status_code == 403
        right = {"Authorization": f"Bearer {TOKEN}"}
        scraped = await client["outside"].get("/metrics", headers=right)
        assert scraped.status_code == 200
        assert "tessera_http_request_duration_seconds" in scraped.text


async def test_metrics_allow_list_is_configurable(backend: Backend, tmp_path: Path):
    async with clients(backend, tmp_path, metrics={"allow_from": ["203.0.113.0/24"]}) as client:
        assert (await client["outside"].get("/metrics")).status_code == 200
        assert (await client["local"].get("/metrics")).status_code == 403


async def test_metrics_can_be_switched_off(backend: Backend, tmp_path: Path):
    async with clients(backend, tmp_path, metrics={"enabled": False}) as client:
        assert (await client["local"].get("/metrics")).status_code == 404


async def test_refused_cors_preflight_is_a_problem(backend: Backend, tmp_path: Path):
    async with clients(backend, tmp_path, server={"cors_origins": ["https://shop.example"]}) as c:
        preflight = {
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "X-Request-ID": "cors-probe-1",
        }
        refused = await c["outside"].options("/api/v1/auth/login", headers=preflight)
        assert refused.status_code == 400
        assert refused.headers["content-type"] == PROBLEM
        body = refused.json()
        assert body["code"] == "cors.preflight_rejected"
        assert "origin" in body["detail"].lower()
        assert body["request_id"] == "cors-probe-1"
        assert "access-control-allow-origin" not in refused.headers

        allowed = await c["outside"].options(
            "/api/v1/auth/login",
            headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
