"""Pure-ASGI middleware shared by every block: request id, access log, metrics, security
headers, JSON body limit, and the last-resort 500 problem; and the method guards that answer
OPTIONS and unsupported methods per RFC 9110.

Written against raw ASGI rather than `BaseHTTPMiddleware` because they sit on every request's
hot path and must not buffer bodies or spawn tasks.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tessera.lib.errors import (
    PROBLEM_MEDIA_TYPE,
    internal_error_body,
    problem_body,
    problem_response,
)

access_log = structlog.get_logger("tessera.access")
error_log = structlog.get_logger("tessera.errors")

REQUESTS = Counter(
    "tessera_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "tessera_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
_DOCS_PATHS = ("/docs", "/redoc")
_BASE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Who is on the other end, as far as trusted proxies let us know (audit, rate limits)."""

    ip: str | None
    user_agent: str | None


async def client_info(request: Request) -> ClientInfo:
    # async: a plain `def` dependency would cost a thread-pool hop on every request.
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


Client = Annotated[ClientInfo, Depends(client_info)]


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


class RequestContextMiddleware:
    """Binds the request id, adds security headers, logs and measures every request.

    It is also the last line of defence: an exception nobody handled becomes a generic 500
    problem (logged with the request id) instead of a stack trace.
    """

    def __init__(self, app: ASGIApp, *, hsts_max_age_seconds: int, access_log: bool) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age_seconds}; includeSubDomains".encode()
        self.log_access = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = (
            incoming.decode("latin-1")
            if incoming and _REQUEST_ID_RE.fullmatch(incoming.decode("latin-1"))
            else uuid.uuid4().hex
        )
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        path: str = scope["path"]
        extra = self._security_headers(scope, path)
        extra.append((b"x-request-id", request_id.encode()))
        started = time.perf_counter()
        status_holder = [500]
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_holder[0] = message["status"]
                headers = list(message.get("headers", ()))
                present = {key.lower() for key, _ in headers}
                headers.extend(item for item in extra if item[0] not in present)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            error_log.error("unhandled_error", method=scope.get("method"), path=path, exc_info=exc)
            if not response_started:
                await send_json(
                    send_wrapper,
                    500,
                    internal_error_body(request_id),
                    media_type=PROBLEM_MEDIA_TYPE,
                )
        finally:
            self._observe(scope, status_holder[0], time.perf_counter() - started, state)

    def _security_headers(self, scope: Scope, path: str) -> list[tuple[bytes, bytes]]:
        headers = list(_BASE_HEADERS)
        if not path.startswith(_DOCS_PATHS):
            headers.append((b"content-security-policy", _API_CSP))
        if scope.get("scheme") == "https":
            headers.append((b"strict-transport-security", self.hsts))
        return headers

    def _observe(self, scope: Scope, status: int, seconds: float, state: dict[str, Any]) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "<unmatched>"
        method = scope.get("method", "")
        REQUESTS.labels(method, template, str(status)).inc()
        LATENCY.labels(method, template).observe(seconds)
        if self.log_access:
            client = scope.get("client")
            access_log.info(
                "request",
                method=method,
                path=scope["path"],
                status=status,
                duration_ms=round(seconds * 1000, 2),
                user_id=state.get("user_id"),
                client=client[0] if client else None,
            )


class JsonBodyLimitMiddleware:
    """Answers 413 as soon as a request body exceeds the limit.

    Only multipart bodies sent to declared upload routes (`Block.upload_paths`, regular
    expressions) pass through; those endpoints stream the body and enforce their own limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, upload_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_paths = [re.compile(pattern) for pattern in upload_paths]

    def _is_upload(self, scope: Scope) -> bool:
        content_type = _header(scope, b"content-type") or b""
        return content_type.lower().startswith(b"multipart/") and any(
            pattern.fullmatch(scope["path"]) for pattern in self.upload_paths
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_upload(scope):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, f"Request body exceeds {self.max_bytes} bytes.")
            return message

        await self.app(scope, limited_receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = problem_body(
            status=413,
            code="request.too_large",
            title="Payload Too Large",
            detail=f"Request body exceeds {self.max_bytes} bytes.",
            request_id=scope.get("state", {}).get("request_id"),
        )
        await send_json(send, 413, body, media_type=PROBLEM_MEDIA_TYPE)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS handling, except that a refused preflight is a problem+json 400
    (`cors.preflight_rejected`) like every other error, not a bare text line."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "OPTIONS":
            headers = Headers(scope=scope)
            if "origin" in headers and "access-control-request-method" in headers:
                response = self.preflight_response(request_headers=headers)
                if response.status_code >= 400:
                    reason = bytes(response.body).decode("utf-8", "replace").strip()
                    body = problem_body(
                        status=response.status_code,
                        code="cors.preflight_rejected",
                        title="CORS preflight rejected",
                        detail=f"{reason}." if reason else "CORS preflight rejected.",
                        request_id=scope.get("state", {}).get("request_id"),
                    )
                    await send_json(send, response.status_code, body, media_type=PROBLEM_MEDIA_TYPE)
                    return
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def send_json(
    send: Send, status: int, body: dict[str, Any], *, media_type: str = "application/json"
) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


_GUARDED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def method_guards(routes: Iterable[BaseRoute]) -> list[Route]:
    """One route per path template answering every method the path does not serve.

    OPTIONS answers 204 with `Allow`, anything else 405 with `Allow` (RFC 9110 sections 9.3.7
    and 15.5.6). Starlette alone would answer OPTIONS with 405 and list only the methods of
    the one route it matched; worse, a method a fixed path (`/products/import`) lacks falls
    through to a parameterised one (`GET /products/{product_id}`) and answers 422 or 401. So
    the guards of fixed paths go right after the fixed routes, before any parameterised one.
    """
    served: dict[str, set[str]] = {}
    for route in routes:
        methods = getattr(route, "methods", None)
        if isinstance(route, Route) and methods:
            served.setdefault(route.path, set()).update(methods)
    guards = []
    for path, methods in served.items():
        allow = ", ".join(sorted(methods | {"OPTIONS"}))
        others = [method for method in _GUARDED_METHODS if method not in methods]
        guards.append(Route(path, _guard_endpoint(allow), methods=others, include_in_schema=False))
    return guards


def _guard_endpoint(allow: str) -> Any:
    async def endpoint(request: StarletteRequest) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        return problem_response(
            request,
            status=405,
            code="route.method_not_allowed",
            title="Method Not Allowed",
            detail=f"{request.method} is not allowed here; allowed: {allow}.",
            headers={"Allow": allow},
        )

    return endpoint
