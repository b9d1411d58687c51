"""HTTP conventions shared by every block (DESIGN.md sections 4 and 10): problem+json errors,
body limits, security headers, trusted proxies, request ids, CORS, operations endpoints and
the last-resort 500, all observed through the public HTTP API."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tessera.app import create_app
from tessera.lib.errors import PROBLEM_MEDIA_TYPE
from tests.conftest import make_settings
from tests.helpers import PASSWORD, bearer, register, signed_in, unique

ONE_MIB = 1024 * 1024
REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def register_body(username: str, size: int | None = None) -> bytes:
    """A valid register request, optionally padded with JSON whitespace to `size` bytes."""
    body = (
        f'{{"username": "{username}", "email": "{username}@example.com", "password": "{PASSWORD}"}}'
    ).encode()
    if size is None:
        return body
    return b"{" + b" " * (size - len(body)) + body[1:]


def oversized_register_body(username: str) -> bytes:
    """Valid in every way but its size: without the limit it would create the account."""
    return register_body(username, ONE_MIB + 16)


async def assert_cannot_sign_in(api: httpx.AsyncClient, username: str) -> None:
    response = await api.post(LOGIN, json={"username": username, "password": PASSWORD})
    assert_problem(response, 401, "auth.invalid_credentials")


# --- request bodies -----------------------------------------------------------------------


async def test_malformed_json_is_400_problem(api):
    response = await api.post(
        LOGIN,
        content=b'{"username": "x", "password":',
        headers={"Content-Type": "application/json"},
    )
    body = assert_problem(response, 400, "request.malformed_json")
    assert body["request_id"]


async def test_wrong_types_and_missing_fields_are_422_with_field_errors(api):
    response = await api.post(REGISTER, json={"username": 12345, "email": "not-an-email"})
    body = assert_problem(response, 422, "request.validation_failed")
    errors = body["errors"]
    assert errors
    for error in errors:
        assert set(error) == {"loc", "msg", "type"}
        assert isinstance(error["loc"], list)
        assert isinstance(error["msg"], str)
        assert error["msg"]
    locations = {tuple(error["loc"]) for error in errors}
    assert ("body", "username") in locations
    assert ("body", "email") in locations
    assert ("body", "password") in locations
    missing = [error for error in errors if error["loc"] == ["body", "password"]]
    assert missing[0]["type"] == "missing"


async def test_missing_body_is_422(api):
    response = await api.post(LOGIN)
    body = assert_problem(response, 422, "request.validation_failed")
    assert body["errors"][0]["type"] == "missing"


@pytest.mark.parametrize(
    ("secret", "code"),
    [
        ("pass12!", "request.validation_failed"),  # too short: breaks the schema
        ("password1234", "user.weak_password"),  # on the common-password list: a rule
    ],
)
async def test_validation_errors_do_not_echo_submitted_values(api, secret, code):
    response = await api.post(
        REGISTER,
        json={"username": unique(), "email": "someone@example.com", "password": secret},
    )
    assert_problem(response, 422, code)
    assert secret not in response.text


async def test_json_over_one_mib_with_content_length_is_413_and_writes_nothing(api):
    username = unique()
    response = await api.post(
        REGISTER,
        content=oversized_register_body(username),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 413, "request.too_large")
    await assert_cannot_sign_in(api, username)


async def test_streamed_json_over_one_mib_without_content_length_is_413_and_writes_nothing(api):
    username = unique()
    payload = oversized_register_body(username)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    request = api.build_request(
        "POST", REGISTER, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in request.headers
    response = await api.send(request)
    assert_problem(response, 413, "request.too_large")
    await assert_cannot_sign_in(api, username)


async def test_multipart_content_type_does_not_bypass_the_json_body_limit(api):
    # JSON endpoints have no upload limit of their own: claiming multipart must not let a
    # client make the server buffer an unbounded body.
    response = await api.post(
        REGISTER,
        content=b"x" * (2 * ONE_MIB),
        headers={"Content-Type": "multipart/form-data; boundary=zzz"},
    )
    assert_problem(response, 413, "request.too_large")


async def test_body_just_under_the_limit_is_accepted(api):
    username = unique()
    payload = register_body(username, ONE_MIB)
    assert len(payload) == ONE_MIB
    response = await api.post(
        REGISTER, content=payload, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text


async def test_json_sent_with_wrong_media_type_is_415(api):
    response = await api.post(
        REGISTER, content=register_body(unique()), headers={"Content-Type": "text/plain"}
    )
    assert_problem(response, 415, "request.unsupported_media_type")


# --- routing ------------------------------------------------------------------------------


async def test_unknown_route_is_404_problem(api):
    response = await api.get("/api/v1/no-such-thing")
    assert_problem(response, 404, "route.not_found")


async def test_wrong_method_is_405_problem_with_allow(api):
    response = await api.delete(LOGIN)
    assert_problem(response, 405, "route.method_not_allowed")
    assert "POST" in response.headers["allow"]


# --- security headers, proxies ------------------------------------------------------------


def assert_base_security_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_every_response_carries_security_headers_and_strict_csp(api):
    responses = [
        await api.get("/healthz"),
        await api.get("/openapi.json"),
        await api.get("/api/v1/nowhere"),
        await api.post(LOGIN, json={"username": unique(), "password": "wrong-password-1"}),
        await api.get("/api/v1/users/me"),
    ]
    for response in responses:
        assert_base_security_headers(response)
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "strict-transport-security" not in response.headers  # plain HTTP


async def test_docs_page_is_html_without_csp(api):
    response = await api.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger" in response.text.lower()
    assert "content-security-policy" not in response.headers
    assert_base_security_headers(response)


async def test_hsts_only_when_a_trusted_proxy_says_https(api_with):
    forwarded = {"X-Forwarded-Proto": "https"}
    async with api_with(server={"trusted_proxies": ["127.0.0.1"]}) as trusted:
        response = await trusted.get("/healthz", headers=forwarded)
        hsts = response.headers["strict-transport-security"]
        assert "max-age=63072000" in hsts
        assert "includesubdomains" in hsts.lower()
        plain = await trusted.get("/healthz")
        assert "strict-transport-security" not in plain.headers
    async with api_with() as untrusted:
        response = await untrusted.get("/healthz", headers=forwarded)
        assert response.status_code == 200
        assert "strict-transport-security" not in response.headers


async def _recorded_login_ip(api: Any, *, forwarded_for: str) -> str:
    admin = await signed_in(api, role="admin")
    user = await register(api)
    response = await api.post(
        LOGIN,
        json={"username": user["username"], "password": PASSWORD},
        headers={"X-Forwarded-For": forwarded_for},
    )
    assert response.status_code == 200, response.text
    audit = await api.get(
        "/api/v1/audit/logins",
        params={"user_id": user["id"], "outcome": "success"},
        headers=admin.headers,
    )
    assert audit.status_code == 200, audit.text
    items = audit.json()["items"]
    assert len(items) == 1
    ip: str = items[0]["ip"]
    return ip


async def test_forwarded_for_is_honoured_only_from_a_trusted_proxy(api_with):
    async with api_with(server={"trusted_proxies": ["127.0.0.1"]}) as trusted:
        assert await _recorded_login_ip(trusted, forwarded_for="203.0.113.7") == "203.0.113.7"
    async with api_with() as untrusted:
        assert await _recorded_login_ip(untrusted, forwarded_for="203.0.113.8") == "127.0.0.1"


# --- request id ---------------------------------------------------------------------------


async def test_sane_client_request_id_is_echoed(api):
    request_id = f"client-{uuid.uuid4().hex}:retry.1"
    response = await api.get("/api/v1/nowhere", headers={"X-Request-ID": request_id})
    assert response.headers["x-request-id"] == request_id
    assert response.json()["request_id"] == request_id


async def test_insane_client_request_id_is_replaced(api):
    for bad in ("x" * 129, "has spaces in it", "<script>alert(1)</script>", "semi;colon"):
        response = await api.get("/api/v1/nowhere", headers={"X-Request-ID": bad})
        generated = response.headers["x-request-id"]
        assert generated != bad
        assert 1 <= len(generated) <= 128
        assert generated.replace("-", "").isalnum()
        assert response.json()["request_id"] == generated


async def test_generated_request_ids_differ_per_request(api):
    first = await api.get("/healthz")
    second = await api.get("/healthz")
    assert first.headers["x-request-id"]
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


# --- CORS ---------------------------------------------------------------------------------


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization",
    }


async def test_no_cors_headers_by_default(api):
    response = await api.get("/healthz", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = await api.options(LOGIN, headers=preflight_headers("https://evil.example"))
    assert "access-control-allow-origin" not in preflight.headers


async def test_cors_allows_only_configured_origins(api_with):
    async with api_with(server={"cors_origins": ["https://shop.example"]}) as api:
        preflight = await api.options(LOGIN, headers=preflight_headers("https://shop.example"))
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed
        assert "content-type" in allowed

        simple = await api.get("/healthz", headers={"Origin": "https://shop.example"})
        assert simple.headers["access-control-allow-origin"] == "https://shop.example"
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()

        other = await api.options(LOGIN, headers=preflight_headers("https://evil.example"))
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"
        stranger = await api.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers


# --- operations ---------------------------------------------------------------------------


async def test_healthz_is_ok(api):
    response = await api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_checks(api):
    response = await api.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == "ok"


async def test_readyz_is_503_when_the_database_is_unreachable(api_with):
    async with api_with(
        database={"url": "mysql+asyncmy://root@127.0.0.1:1/none", "pool_timeout_seconds": 2}
    ) as api:
        assert (await api.get("/healthz")).status_code == 200
        response = await api.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] == "unavailable"
        assert body["checks"]["cache"] == "ok"
        assert "127.0.0.1:1" not in response.text  # no connection details leak


async def test_database_outage_is_503_problem_not_500(api_with):
    async with api_with(
        database={"url": "mysql+asyncmy://root@127.0.0.1:1/none", "pool_timeout_seconds": 2}
    ) as api:
        response = await api.post(
            "/api/v1/auth/register",
            json={"username": "outage1", "email": "o@example.com", "password": "Long-Pass-123x"},
        )
        assert response.status_code == 503
        assert response.json()["code"] == "database.unavailable"
        assert response.headers["retry-after"] == "5"
        assert "127.0.0.1:1" not in response.text


async def test_metrics_are_prometheus_text_counting_requests(api):
    await api.get("/healthz")
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE tessera_http_requests_total counter" in text
    assert 'tessera_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "tessera_http_request_duration_seconds_bucket" in text


async def test_metrics_do_not_grow_a_label_per_unknown_path(api):
    probe = f"/api/v1/probe-{uuid.uuid4().hex}"
    assert (await api.get(probe)).status_code == 404
    text = (await api.get("/metrics")).text
    assert probe not in text
    assert 'route="<unmatched>",status="404"' in text


async def test_openapi_lists_routes_and_documents_problem_responses(api):
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert "Problem" in spec["components"]["schemas"]
    login = spec["paths"]["/api/v1/auth/login"]["post"]
    unauthorized = login["responses"]["401"]
    schema = unauthorized["content"][PROBLEM_MEDIA_TYPE]["schema"]
    assert schema == {"$ref": "#/components/schemas/Problem"}


async def test_openapi_documents_no_error_shape_other_than_problem(api):
    spec = (await api.get("/openapi.json")).json()
    wrong = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation.get("responses", {}).items():
                if not status.startswith(("4", "5")):
                    continue
                content = answer.get("content", {})
                schema = content.get(PROBLEM_MEDIA_TYPE, {}).get("schema")
                if schema != {"$ref": "#/components/schemas/Problem"}:
                    wrong.append(f"{method.upper()} {path} {status}")
    assert wrong == []
    assert "HTTPValidationError" not in spec["components"]["schemas"]


# --- the last-resort 500 ------------------------------------------------------------------


class _Boom(RuntimeError):
    pass


async def test_unexpected_exception_is_generic_500_problem(backend, tmp_path: Path):
    settings = make_settings(backend, tmp_path)
    app = create_app(settings)
    secret_text = "db-password=hunter2 at /srv/secret/place"

    async def explode() -> None:
        raise _Boom(secret_text)

    app.add_api_route("/api/v1/test-explode", explode, methods=["GET"])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get(
                "/api/v1/test-explode", headers={"X-Request-ID": "trace-500-abc"}
            )
            body = assert_problem(response, 500, "internal_error")
            assert body["request_id"] == "trace-500-abc"
            assert secret_text not in response.text
            assert "_Boom" not in response.text
            assert "Traceback" not in response.text
            assert response.headers["x-content-type-options"] == "nosniff"
            # The app keeps serving afterwards.
            assert (await client.get("/healthz")).status_code == 200


# --- bearer tokens on a protected endpoint ------------------------------------------------

ME = "/api/v1/users/me"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(user_id: int, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": str(user_id),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 600,
        "iss": "tessera",
        "aud": "tessera-api",
        "typ": "access",
        "sid": uuid.uuid4().hex,
        "roles": ["customer"],
    }
    values.update(overrides)
    return values


def _bad_token(kind: str, secret: str, user_id: int, refresh: str) -> str:
    now = int(time.time())
    if kind == "expired":
        return jwt.encode(_claims(user_id, iat=now - 900, exp=now - 5), secret, "HS256")
    if kind == "tampered":
        head, body, signature = jwt.encode(_claims(user_id), secret, "HS256").split(".")
        return f"{head}.{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    if kind == "alg_none":
        header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        return f"{header}.{_b64url(json.dumps(_claims(user_id)).encode())}."
    if kind == "hs512":
        return jwt.encode(_claims(user_id), secret + "-" * 64, "HS512")
    if kind == "audience":
        return jwt.encode(_claims(user_id, aud="other-api"), secret, "HS256")
    if kind == "refresh_string":
        return refresh
    if kind == "refresh_typed":
        return jwt.encode(_claims(user_id, typ="refresh"), secret, "HS256")
    assert kind == "garbage"
    return "not-a-token-at-all"


BAD_TOKENS = {
    "expired": "auth.token_expired",
    "tampered": "auth.invalid_signature",
    "alg_none": "auth.algorithm_not_allowed",
    "hs512": "auth.algorithm_not_allowed",
    "audience": "auth.invalid_token",
    "refresh_string": "auth.wrong_token_type",
    "refresh_typed": "auth.wrong_token_type",
    "garbage": "auth.malformed_token",
}


async def test_missing_bearer_token_is_401_with_challenge(api):
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        response = await api.get(ME, headers=headers)
        assert_problem(response, 401, "auth.missing_token")
        assert response.headers["www-authenticate"] == "Bearer"


async def test_each_bad_bearer_token_has_its_own_401_code(api):
    user = await signed_in(api)
    secret = api.settings.jwt_signing_secret
    # A real session: a token naming one the database does not know is refused too.
    session_id = jwt.decode(user.access, options={"verify_signature": False})["sid"]
    valid = jwt.encode(_claims(user.id, sid=session_id), secret, "HS256")
    control = await api.get(ME, headers=bearer(valid))
    assert control.status_code == 200, control.text  # the hand-made tokens are otherwise right
    for kind, code in BAD_TOKENS.items():
        token = _bad_token(kind, secret, user.id, user.refresh)
        response = await api.get(ME, headers=bearer(token))
        assert response.status_code == 401, (kind, response.text)
        assert_problem(response, 401, code)
        assert response.headers["www-authenticate"] == "Bearer"
