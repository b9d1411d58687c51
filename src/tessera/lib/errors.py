"""Domain errors and their one translation to RFC 9457 `application/problem+json`.

Services raise the classes below; `install_error_handlers` is the only place that turns them
(and FastAPI's validation errors, unknown routes and unexpected exceptions) into HTTP answers.

Which status, one rule for every block (the README's "API contract" shows it to clients):

- 400 `BadRequest`: the request cannot be read (malformed JSON or multipart, an upload cut
  short). Never for input that was read: that is 422.
- 401 `Unauthorized`: no valid credentials, or a wrong proof of identity while signing in
  (password, second factor or SMS code at `/auth/login*`, a spent refresh token).
- 403 `Forbidden` / 404 `NotFound`: authorization; a resource the caller may not see is 404.
- 409 `Conflict`: the request is fine but the state of a resource refuses it (taken, wrong
  order state, out of stock, MFA already on).
- 422 `ValidationFailed`: the input was read and is refused. `request.validation_failed` is
  reserved for input that breaks the OpenAPI document's schema (so every constraint a model
  checks must be in the schema, which the contract tests verify); a documented rule the
  schema cannot express has a code of its own and names the field in `errors` (a common
  password, a phone number outside its numbering plan, the wrong current password of an
  account action, a used link token). Validators raise such rules with
  `tessera.lib.types.rule_error`, which this module answers with the rule's code.

The document built by `install_openapi` lists every status an operation can answer: what a
controller declares, plus what parsing and middleware add to any operation with a body,
parameters or a token (`_implied_statuses`), all with the `Problem` schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import exc as sqlalchemy_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from tessera.lib.apidoc import add_links

log = structlog.get_logger("tessera.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://tessera.dev/problems/"


class DomainError(Exception):
    """Base of every error a service may raise; `code` is stable, `detail` is for humans."""

    status: int = 400
    code: str = "request.invalid"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.title
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(self.detail)


class BadRequest(DomainError):
    status, code, title = 400, "request.invalid", "Bad request"


class Unauthorized(DomainError):
    status, code, title = 401, "auth.unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status, code, title = 403, "auth.forbidden", "Forbidden"


class NotFound(DomainError):
    status, code, title = 404, "resource.not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "resource.conflict", "Conflict"


class Gone(DomainError):
    status, code, title = 410, "resource.gone", "Gone"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "request.too_large", "Payload too large"


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "request.unsupported_media_type", "Unsupported media type"


class RangeNotSatisfiable(DomainError):
    status, code, title = 416, "request.range_not_satisfiable", "Range not satisfiable"

    def __init__(self, detail: str | None = None, *, size: int, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"Content-Range": f"bytes */{size}"})


class ValidationFailed(DomainError):
    status, code, title = 422, "request.validation_failed", "Validation failed"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail, code=code, extra={"errors": list(errors or [])})


class TooManyRequests(DomainError):
    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(
        self, detail: str | None = None, *, retry_after_seconds: int, code: str | None = None
    ) -> None:
        retry_after_seconds = max(1, int(retry_after_seconds))
        super().__init__(detail, code=code, headers={"Retry-After": str(retry_after_seconds)})
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailable(DomainError):
    status, code, title = 503, "service.unavailable", "Service unavailable"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        # Every 503 tells clients when to come back (RFC 9110 section 10.2.3).
        super().__init__(detail, code=code, headers={"Retry-After": "5", **(headers or {})})


class InsufficientStorage(DomainError):
    status, code, title = 507, "storage.full", "Insufficient storage"


class ProblemError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """The body of every error response (RFC 9457)."""

    type: str = Field(examples=[TYPE_BASE + "auth.invalid_credentials"])
    title: str
    status: int
    detail: str
    code: str = Field(examples=["auth.invalid_credentials"])
    request_id: str | None = None
    errors: list[ProblemError] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problem+json answers of an endpoint."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }


def _request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def problem_body(
    *, status: int, code: str, title: str, detail: str, request_id: str | None
) -> dict[str, Any]:
    return {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
    }


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body = problem_body(
        status=status, code=code, title=title, detail=detail, request_id=_request_id(request)
    )
    # Extension members never replace the standard ones (a `status` extra once overwrote the
    # HTTP status with an order's state, breaking the Problem schema).
    body.update({key: value for key, value in (extra or {}).items() if key not in body})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


_HTTP_CODES = {
    400: "request.invalid",
    401: "auth.unauthorized",
    403: "auth.forbidden",
    404: "route.not_found",
    405: "route.method_not_allowed",
    406: "request.not_acceptable",
    413: "request.too_large",
    415: "request.unsupported_media_type",
}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for error in exc.errors():
        kind = str(error.get("type", "value_error"))
        value = error.get("input")
        if kind == "int_type" and isinstance(value, float) and value.is_integer():
            # JSON Schema counts 1.0 as an integer; Tessera wants 1 (tessera.lib.types):
            # a rule beyond the document, with its own code.
            kind = "rule:request.integer_required"
        errors.append(
            {
                "loc": [part if isinstance(part, int) else str(part) for part in error["loc"]],
                "msg": str(error.get("msg", "")),
                "type": kind,
            }
        )
    return errors


def internal_error_body(request_id: str | None) -> dict[str, Any]:
    """The generic 500 problem; the cause is logged with the request id, never returned."""
    return problem_body(
        status=500,
        code="internal_error",
        title="Internal Server Error",
        detail="An unexpected error occurred; quote the request id when reporting it.",
        request_id=request_id,
    )


def _is_json_or_form(content_type: str) -> bool:
    return (
        content_type == "application/json"
        or (content_type.startswith("application/") and content_type.endswith("+json"))
        or content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
    )


_BOUND_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
# The id ceiling, 2^63-1, as the float FastAPI's schema model turns it into (2^63).
_FLOAT_MAX_ID = float(2**63 - 1)


def _exact_bounds(node: Any) -> None:
    """FastAPI's OpenAPI model holds numeric bounds as floats (999.0, and 2^63-1 rounded up
    to 2^63): write whole numbers back as integers, the id ceiling exactly."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _BOUND_KEYWORDS and isinstance(value, float) and value.is_integer():
                node[key] = 2**63 - 1 if value == _FLOAT_MAX_ID else int(value)
            else:
                _exact_bounds(value)
    elif isinstance(node, list):
        for item in node:
            _exact_bounds(item)


# Answers that middleware and request parsing give any operation of a kind, whatever its
# controller declares: documented here once so that no operation can forget one.
_IMPLIED_WITH_BODY = {
    400: "The body cannot be read: malformed JSON or multipart (`request.malformed_*`)",
    413: "The body is larger than the limit (`request.too_large`)",
    415: "The body is not of a media type the operation takes",
    422: "The input breaks the documented schema or a documented rule",
}
_IMPLIED_WITH_PARAMETERS = {422: _IMPLIED_WITH_BODY[422]}
_IMPLIED_WITH_SECURITY = {401: "Missing, invalid or expired access token (`auth.*`)"}


def _implied_statuses(operation: dict[str, Any]) -> dict[int, str]:
    implied: dict[int, str] = {}
    if operation.get("security"):
        implied.update(_IMPLIED_WITH_SECURITY)
    if operation.get("parameters"):
        implied.update(_IMPLIED_WITH_PARAMETERS)
    if operation.get("requestBody"):
        implied.update(_IMPLIED_WITH_BODY)
    return implied


def install_openapi(app: FastAPI) -> None:
    """Document every error response as problem+json (FastAPI would say application/json and
    add its own `HTTPValidationError` shape, which this API never sends)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for definition_name, definition in components["Problem"].pop("$defs", {}).items():
            components.setdefault(definition_name, definition)
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict):
                    continue
                responses = operation.setdefault("responses", {})
                for implied, description in _implied_statuses(operation).items():
                    responses.setdefault(str(implied), {"description": description})
                for status_code, response in responses.items():
                    if str(status_code)[:1] in ("4", "5"):
                        response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        _exact_bounds(schema)
        add_links(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_response(
            request,
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            headers=exc.headers,
            extra=exc.extra,
        )

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        if any(error["type"] == "json_invalid" for error in errors):
            return problem_response(
                request,
                status=400,
                code="request.malformed_json",
                title="Malformed JSON",
                detail="The request body is not valid JSON.",
            )
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        whole_body_rejected = any(error["loc"] == ["body"] for error in errors)
        if whole_body_rejected and content_type and not _is_json_or_form(content_type):
            return problem_response(
                request,
                status=415,
                code="request.unsupported_media_type",
                title="Unsupported Media Type",
                detail="Send the body as application/json.",
            )
        rule_codes = {str(error["type"]) for error in errors}
        for error in errors:
            error["type"] = str(error["type"]).removeprefix("rule:")
        if len(rule_codes) == 1 and (rule := rule_codes.pop()).startswith("rule:"):
            # Refused by a documented rule beyond the schema (tessera.lib.types.rule_error).
            return problem_response(
                request,
                status=422,
                code=rule.removeprefix("rule:"),
                title="Validation failed",
                detail=str(errors[0]["msg"]),
                extra={"errors": errors},
            )
        return problem_response(
            request,
            status=422,
            code="request.validation_failed",
            title="Validation failed",
            detail="One or more fields are invalid.",
            extra={"errors": errors},
        )

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        status = exc.status_code
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else phrase
        if status == 404 and detail == "Not Found":
            detail = "No such route."
        return problem_response(
            request,
            status=status,
            code=_HTTP_CODES.get(status, f"http.{status}"),
            title=phrase,
            detail=detail,
            headers=exc.headers,
        )

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)

    async def on_backend_down(request: Request, exc: Exception) -> JSONResponse:
        # An outage of the database or cache is not the client's fault, nor a bug: 503 with
        # a hint to retry, and the cause in the log (never in the answer).
        component = "cache" if isinstance(exc, RedisError) else "database"
        log.error(f"{component}_unavailable", error=repr(exc)[:500], path=request.url.path)
        return problem_response(
            request,
            status=503,
            code=f"{component}.unavailable",
            title="Service Unavailable",
            detail=f"The {component} is unreachable; try again shortly.",
            headers={"Retry-After": "5"},
        )

    async def on_overflow(request: Request, exc: Exception) -> JSONResponse:
        # Last line of defence for integers the database cannot bind (SQLite refuses
        # anything beyond 64 bits before running the query). Ids are bounded where they are
        # declared (tessera.lib.types); reaching this means a field was not.
        log.warning("integer_out_of_range", error=str(exc)[:200], path=request.url.path)
        return problem_response(
            request,
            status=422,
            code="request.value_out_of_range",
            title="Validation failed",
            detail="A number in the request is out of range.",
        )

    app.add_exception_handler(OverflowError, on_overflow)

    for backend_error in (
        sqlalchemy_exc.OperationalError,
        sqlalchemy_exc.InterfaceError,
        sqlalchemy_exc.TimeoutError,
        RedisConnectionError,
        RedisTimeoutError,
    ):
        app.add_exception_handler(backend_error, on_backend_down)
    install_openapi(app)
