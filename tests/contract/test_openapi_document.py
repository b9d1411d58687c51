"""The committed OpenAPI document (clients/openapi.json) is the live one, and a change that
would break its clients is caught (tessera.lib.apidoc)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tessera.cli import COMMITTED_OPENAPI, openapi_document
from tessera.lib.apidoc import breaking_changes, dumps

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def live() -> dict[str, Any]:
    return openapi_document()


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / COMMITTED_OPENAPI).read_text(encoding="utf-8"))
    return loaded


def test_no_change_breaks_the_clients_of_the_committed_document(live, committed):
    breaks = breaking_changes(committed, live)
    assert not breaks, (
        "The live document breaks clients of clients/openapi.json:\n"
        + "\n".join(breaks)
        + "\nIf intended, follow the versioning policy (README) and run "
        "`make openapi ACCEPT_BREAKING=1`."
    )


def test_the_committed_document_is_the_live_one(live, committed):
    # Additions too: the generated clients are built from the committed copy.
    assert dumps(live) == dumps(committed), "run `make openapi` and commit the result"


def _op(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][path][method]
    return operation


def test_removed_operation_status_and_response_field_are_breaking(committed):
    changed = copy.deepcopy(committed)
    del changed["paths"]["/api/v1/users/me"]["patch"]
    del _op(changed, "post", "/api/v1/orders")["responses"]["409"]
    changed["components"]["schemas"]["UserOut"]["properties"].pop("email")
    breaks = breaking_changes(committed, changed)
    assert "PATCH /api/v1/users/me: operation removed" in breaks
    assert "POST /api/v1/orders: status 409 removed" in breaks
    assert "GET /api/v1/users/me 200: response field `email` removed" in breaks


def test_tighter_requests_are_breaking(committed):
    changed = copy.deepcopy(committed)
    register = changed["components"]["schemas"]["RegisterIn"]
    register["properties"]["username"]["maxLength"] = 10
    register["required"].append("phone")
    size = next(
        p
        for p in _op(changed, "get", "/api/v1/users/{user_id}/avatar")["parameters"]
        if p["name"] == "size"
    )
    size["schema"]["enum"] = [256]
    breaks = breaking_changes(committed, changed)
    assert "POST /api/v1/auth/register body.username: maxLength lowered to 10" in breaks
    assert "POST /api/v1/auth/register body: `phone` now required" in breaks
    assert any("query parameter `size`: enum no longer accepts [64]" in b for b in breaks)


def test_additions_are_not_breaking(committed):
    changed = copy.deepcopy(committed)
    changed["components"]["schemas"]["UserOut"]["properties"]["nickname"] = {"type": "string"}
    _op(changed, "post", "/api/v1/orders")["responses"]["418"] = {"description": "teapot"}
    changed["paths"]["/api/v1/new"] = {"get": {"responses": {"200": {"description": "ok"}}}}
    register = changed["components"]["schemas"]["RegisterIn"]
    register["properties"]["username"]["maxLength"] += 10
    assert breaking_changes(committed, changed) == []
