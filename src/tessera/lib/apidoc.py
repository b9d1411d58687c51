"""The committed OpenAPI document, what counts as a breaking change to it, and the links
between its operations.

`clients/openapi.json` is the contract clients are generated from. `tessera openapi --write`
refreshes it from the live application; `breaking_changes(committed, live)` lists what would
break a client built from the committed copy, and the refresh refuses to write while there is
any, unless told `--accept-breaking` (the change is then deliberate and reviewed in the diff;
the versioning policy in the README says when that is allowed).

Breaking, for a client generated from the old document:
- an operation (method + path) is gone;
- a documented response status is gone;
- a field of a response body is gone (clients read it);
- a request got tighter: a new required parameter or body field, a lower `maxLength` /
  `maximum` / `maxItems`, a higher `minLength` / `minimum` / `minItems`, a changed `pattern`,
  an enum value gone, a field no longer nullable.

Adding operations, statuses, optional request fields, response fields or enum values in
responses is not breaking (clients must ignore unknown fields).
"""

from __future__ import annotations

import json
import re
from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems")
_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems")
_MAX_DEPTH = 12


def dumps(document: dict[str, Any]) -> str:
    """The committed form: stable key order as FastAPI builds it, two-space indent."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _resolve(document: dict[str, Any], schema: Any) -> dict[str, Any]:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < _MAX_DEPTH:
        node: Any = document
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node
        seen += 1
    return schema if isinstance(schema, dict) else {}


def _variants(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a schema (`anyOf: [X, null]` is X, nullable)."""
    schema = _resolve(document, schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if not options:
        return [schema]
    return [
        _resolve(document, option)
        for option in options
        if _resolve(document, option).get("type") != "null"
    ]


def _nullable(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(document, schema)
    options = schema.get("anyOf") or schema.get("oneOf") or []
    return schema.get("type") == "null" or any(
        _resolve(document, option).get("type") == "null" for option in options
    )


def _properties(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for variant in _variants(document, schema):
        properties.update(variant.get("properties", {}))
        for part in variant.get("allOf", []):
            properties.update(_resolve(document, part).get("properties", {}))
    return properties


def _required(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    required: set[str] = set()
    for variant in _variants(document, schema):
        required.update(variant.get("required", []))
    return required


def _response_fields(
    old_doc: dict[str, Any],
    old: dict[str, Any],
    new_doc: dict[str, Any],
    new: dict[str, Any],
    where: str,
    depth: int = 0,
) -> list[str]:
    if depth > _MAX_DEPTH:
        return []
    found: list[str] = []
    old_props, new_props = _properties(old_doc, old), _properties(new_doc, new)
    for name, old_field in old_props.items():
        if name not in new_props:
            found.append(f"{where}: response field `{name}` removed")
            continue
        found += _response_fields(
            old_doc, old_field, new_doc, new_props[name], f"{where}.{name}", depth + 1
        )
    old_items = _resolve(old_doc, old).get("items")
    new_items = _resolve(new_doc, new).get("items")
    if isinstance(old_items, dict) and isinstance(new_items, dict):
        found += _response_fields(old_doc, old_items, new_doc, new_items, f"{where}[]", depth + 1)
    return found


def _tightened(
    old_doc: dict[str, Any],
    old: dict[str, Any],
    new_doc: dict[str, Any],
    new: dict[str, Any],
    where: str,
    depth: int = 0,
) -> list[str]:
    """How a request schema accepts less than it did."""
    if depth > _MAX_DEPTH:
        return []
    found: list[str] = []
    if _nullable(old_doc, old) and not _nullable(new_doc, new):
        found.append(f"{where}: no longer nullable")
    old_variants, new_variants = _variants(old_doc, old), _variants(new_doc, new)
    if len(old_variants) == 1 and len(new_variants) == 1:
        before, after = old_variants[0], new_variants[0]
        for key in _UPPER_BOUNDS:
            if key in after and (key not in before or after[key] < before[key]):
                found.append(f"{where}: {key} lowered to {after[key]}")
        for key in _LOWER_BOUNDS:
            if key in after and (key not in before or after[key] > before[key]):
                found.append(f"{where}: {key} raised to {after[key]}")
        if "pattern" in after and after.get("pattern") != before.get("pattern"):
            found.append(f"{where}: pattern changed to {after['pattern']!r}")
        if "enum" in after:
            lost = [value for value in before.get("enum", []) if value not in after["enum"]]
            if lost or "enum" not in before:
                found.append(f"{where}: enum no longer accepts {lost or 'any value'}")
        if before.get("type") and after.get("type") and before["type"] != after["type"]:
            found.append(f"{where}: type changed from {before['type']} to {after['type']}")
    newly_required = _required(new_doc, new) - _required(old_doc, old)
    found += [f"{where}: `{name}` now required" for name in sorted(newly_required)]
    old_props, new_props = _properties(old_doc, old), _properties(new_doc, new)
    for name, new_field in new_props.items():
        if name in old_props:
            found += _tightened(
                old_doc, old_props[name], new_doc, new_field, f"{where}.{name}", depth + 1
            )
    old_items = _resolve(old_doc, old).get("items")
    new_items = _resolve(new_doc, new).get("items")
    if isinstance(old_items, dict) and isinstance(new_items, dict):
        found += _tightened(old_doc, old_items, new_doc, new_items, f"{where}[]", depth + 1)
    return found


def _json_schema(body: dict[str, Any] | None) -> dict[str, Any] | None:
    content = (body or {}).get("content", {})
    for media_type, entry in content.items():
        if "json" in media_type or media_type.startswith("multipart/"):
            schema = entry.get("schema")
            return schema if isinstance(schema, dict) else None
    return None


def breaking_changes(old_doc: dict[str, Any], new_doc: dict[str, Any]) -> list[str]:
    """What a client generated from `old_doc` would trip over against `new_doc`."""
    found: list[str] = []
    new_paths = new_doc.get("paths", {})
    for path, old_item in old_doc.get("paths", {}).items():
        for method in METHODS:
            if method not in old_item:
                continue
            label = f"{method.upper()} {path}"
            new_op = new_paths.get(path, {}).get(method)
            if new_op is None:
                found.append(f"{label}: operation removed")
                continue
            old_op = old_item[method]
            old_responses = old_op.get("responses", {})
            new_responses = new_op.get("responses", {})
            for status, old_response in old_responses.items():
                if status not in new_responses:
                    found.append(f"{label}: status {status} removed")
                    continue
                old_schema = _json_schema(old_response)
                new_schema = _json_schema(new_responses[status])
                if old_schema is not None and new_schema is not None and status.startswith("2"):
                    found += _response_fields(
                        old_doc, old_schema, new_doc, new_schema, f"{label} {status}"
                    )
            found += _parameter_changes(old_doc, old_op, new_doc, new_op, label)
            old_body, new_body = old_op.get("requestBody"), new_op.get("requestBody")
            if new_body is not None and new_body.get("required") and old_body is None:
                found.append(f"{label}: request body now required")
            old_schema, new_schema = _json_schema(old_body), _json_schema(new_body)
            if old_schema is not None and new_schema is not None:
                found += _tightened(old_doc, old_schema, new_doc, new_schema, f"{label} body")
    return found


def _parameter_changes(
    old_doc: dict[str, Any],
    old_op: dict[str, Any],
    new_doc: dict[str, Any],
    new_op: dict[str, Any],
    label: str,
) -> list[str]:
    found: list[str] = []
    old_params = {(p["in"], p["name"]): p for p in old_op.get("parameters", [])}
    for key, param in {(p["in"], p["name"]): p for p in new_op.get("parameters", [])}.items():
        where = f"{label} {key[0]} parameter `{key[1]}`"
        before = old_params.get(key)
        if before is None:
            if param.get("required"):
                found.append(f"{where}: new and required")
            continue
        if param.get("required") and not before.get("required"):
            found.append(f"{where}: now required")
        found += _tightened(
            old_doc, before.get("schema", {}), new_doc, param.get("schema", {}), where
        )
    return found


_PARAMETER = re.compile(r"\{([^}]+)\}")


def _json_ref(response: dict[str, Any]) -> str | None:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    return ref if isinstance(ref, str) else None


def _item_operations(document: dict[str, Any], prefix: str) -> list[tuple[str, str, str, str]]:
    """(path, method, operationId, parameter) of the operations under `prefix/{parameter}`."""
    found = []
    for path, item in document.get("paths", {}).items():
        rest = path.removeprefix(prefix + "/")
        if rest == path or not rest.startswith("{"):
            continue
        parameter = rest[1 : rest.index("}")]
        for method, operation in item.items():
            if method in METHODS and "operationId" in operation:
                found.append((path, method, operation["operationId"], parameter))
    return found


def add_links(document: dict[str, Any]) -> None:
    """OpenAPI `links` that say which operations use the ids others hand out, derived from
    the paths (no route declares them): clients and stateful testers walk order -> pay ->
    ship -> documents -> file with them.

    - An operation that creates a resource (`POST /orders` answering 201 with an `id`) links
      to every operation under `/orders/{order_id}`, and so does every other operation that
      answers the same schema (`GET /orders/{order_id}`, `POST .../documents` answering a file
      links to `/files/{file_id}`).
    - A state-changing operation under `/orders/{order_id}/...` links to the other
      operations under that id, with the id of its own request.
    """
    paths: dict[str, Any] = document.get("paths", {})
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    # schema ref -> {path of the creating operation: operations under its ids}
    targets_of: dict[str, dict[str, list[tuple[str, str, str, str]]]] = {}
    shared: set[str] = set()
    for path, item in paths.items():
        if "{" in path:
            continue
        for method, operation in item.items():
            if method != "post":
                continue
            for status, response in operation.get("responses", {}).items():
                ref = _json_ref(response)
                if status.startswith("2") and ref is not None:
                    schema = schemas.get(ref.rsplit("/", 1)[-1], {})
                    targets = _item_operations(document, path)
                    if "id" in schema.get("properties", {}) and targets:
                        targets_of.setdefault(ref, {})[path] = targets
                    else:
                        # Another collection hands out the same schema (an import job
                        # answers like an export job): the schema says nothing of where
                        # the id leads, so only its creators link.
                        shared.add(ref)
    for path, item in paths.items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            own_id = operation.get("operationId")
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                links: dict[str, Any] = {}
                ref = _json_ref(response) or ""
                creators = targets_of.get(ref, {})
                if len(creators) > 1 or ref in shared:
                    creators = {path: creators[path]} if path in creators else {}
                targets = [target for found in creators.values() for target in found]
                for _, _, target_id, parameter in targets:
                    if target_id != own_id:
                        links[target_id] = {
                            "operationId": target_id,
                            "parameters": {parameter: "$response.body#/id"},
                        }
                if method != "get":
                    for parameter in _PARAMETER.findall(path)[:1]:
                        prefix = path[: path.index("{" + parameter + "}") - 1]
                        for _, _, target_id, target_parameter in _item_operations(document, prefix):
                            if target_parameter == parameter and target_id != own_id:
                                links.setdefault(
                                    target_id,
                                    {
                                        "operationId": target_id,
                                        "parameters": {parameter: f"$request.path.{parameter}"},
                                    },
                                )
                if links:
                    # Links a route declares itself win over derived ones of the same name.
                    response["links"] = {**links, **response.get("links", {})}
