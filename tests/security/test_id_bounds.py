"""Issue 9 item 9, generically over the OpenAPI document: every id in a path, a query or a
JSON body is declared as 1 .. 2^63-1, and out-of-range ids answer 4xx (never 500) on both
databases, whoever asks."""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any

import pytest

from tests.conftest import Api
from tests.helpers import signed_in

MAX_ID = 2**63 - 1
OUT_OF_RANGE = [2**63, 2**64 + 5, 0, -1]
_ID_NAME = re.compile(r"^(id|.+_id)$")
_METHODS = ("get", "post", "put", "patch", "delete")


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def integer_variants(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The integer schemas a (possibly optional/nullable) schema allows."""
    schema = resolve(document, schema)
    if schema.get("type") == "integer":
        return [schema]
    found: list[dict[str, Any]] = []
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found.extend(integer_variants(document, option))
    return found


def body_id_fields(
    document: dict[str, Any], schema: dict[str, Any], path: tuple[Any, ...] = ()
) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(location, integer schema) of every id-named integer field in a body schema."""
    schema = resolve(document, schema)
    found: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for name, prop in schema.get("properties", {}).items():
        if _ID_NAME.match(name):
            found.extend(((*path, name), variant) for variant in integer_variants(document, prop))
        found.extend(body_id_fields(document, prop, (*path, name)))
    if schema.get("type") == "array" and "items" in schema:
        found.extend(body_id_fields(document, schema["items"], (*path, 0)))
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found.extend(body_id_fields(document, option, path))
    return found


def example(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A small instance of `schema` (required fields only): enough to reach the id check."""
    schema = resolve(document, schema)
    # An object with a `oneOf` of required-field rules (RoomCreateIn) is still an object.
    alternatives = (
        [] if "properties" in schema else schema.get("anyOf", []) + schema.get("oneOf", [])
    )
    for option in alternatives:
        if resolve(document, option).get("type") != "null":
            return example(document, option)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {
            name: example(document, prop)
            for name, prop in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":
        return [example(document, schema.get("items", {}))] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    return "x" * max(1, schema.get("minLength", 1))


def place(body: Any, location: tuple[Any, ...], value: int) -> Any:
    """A copy of `body` with `value` at `location` (keys and list indexes)."""
    body = copy.deepcopy(body)
    target = body
    for step, following in itertools.pairwise(location):
        if isinstance(step, int):
            while len(target) <= step:
                target.append({})
        elif not isinstance(target.get(step), dict | list):
            target[step] = [] if isinstance(following, int) else {}
        target = target[step]
    target[location[-1]] = value
    return body


def operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method in _METHODS:
            if method in item:
                yield path, method, item[method]


async def test_every_id_is_declared_in_range(api: Api):
    document = (await api.get("/openapi.json")).json()
    unbounded = []
    for path, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if not _ID_NAME.match(parameter["name"]):
                continue
            for variant in integer_variants(document, parameter.get("schema", {})):
                if variant.get("minimum", 0) < 1 or variant.get("maximum") != MAX_ID:
                    unbounded.append(f"{method.upper()} {path} {parameter['name']}")
        content = operation.get("requestBody", {}).get("content", {})
        for media in content.values():
            for location, variant in body_id_fields(document, media.get("schema", {})):
                if variant.get("minimum", 0) < 1 or variant.get("maximum") != MAX_ID:
                    unbounded.append(f"{method.upper()} {path} body {'.'.join(map(str, location))}")
    assert unbounded == []


@pytest.mark.parametrize("value", OUT_OF_RANGE)
async def test_out_of_range_ids_are_4xx_never_500(api: Api, value: int):
    document = (await api.get("/openapi.json")).json()
    callers = {"anonymous": {}, "admin": (await signed_in(api, role="admin")).headers}
    failures = []
    for path, method, operation in operations(document):
        parameters = operation.get("parameters", [])
        path_ids = [p["name"] for p in parameters if p["in"] == "path"]
        query_ids = [
            p["name"]
            for p in parameters
            if p["in"] == "query"
            and _ID_NAME.match(p["name"])
            and integer_variants(document, p["schema"])
        ]
        content = operation.get("requestBody", {}).get("content", {})
        json_schema = content.get("application/json", {}).get("schema")
        requests: list[tuple[str, dict[str, Any], Any]] = []
        for name in path_ids:
            url = path
            for other in path_ids:
                url = url.replace("{" + other + "}", str(value if other == name else 1))
            body = example(document, json_schema) if json_schema else None
            requests.append((url, {}, body))
        base = path
        for other in path_ids:
            base = base.replace("{" + other + "}", "1")
        for name in query_ids:
            requests.append((base, {name: str(value)}, None))
        if json_schema:
            for location, _ in body_id_fields(document, json_schema):
                requests.append((base, {}, place(example(document, json_schema), location, value)))
        for url, query, body in requests:
            for who, headers in callers.items():
                response = await api.request(
                    method.upper(), "/" + url.lstrip("/"), params=query, json=body, headers=headers
                )
                if response.status_code >= 500:
                    failures.append(
                        f"{who} {method.upper()} {url} {query} {body}: {response.status_code}"
                    )
    assert failures == []
