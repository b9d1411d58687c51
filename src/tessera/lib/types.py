"""Strict, bounded input types shared by every block's DTOs and controllers.

Ids are 1 ... 2^63-1 everywhere (a signed BIGINT; SQLite cannot even bind a larger integer),
so an out-of-range id is a 404/422, never a driver overflow. Integers in JSON bodies are
JSON integers: not `"1"`, not `true`, not `1.0`. Money is a decimal string of ASCII digits
with at most two decimal places (`"12.50"`): not a JSON number (a binary float: 12.10 may
arrive as 12.0999...), not `" 12.50"`, not full-width digits, not `"1e3"`, `NaN` or
`Infinity`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

MAX_ID = 2**63 - 1
# DECIMAL(12, 2): the largest amount any money column holds.
MAX_MONEY = Decimal("9999999999.99")

Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
"""An id in a JSON body."""

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
"""An id in the URL path (`/orders/{order_id}`): out of range is 422, like any bad id."""

QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
"""An optional id filter in the query string (`?user_id=`)."""


StrictInt = Annotated[int, Field(strict=True)]
"""A JSON integer; bound it where used: `Annotated[StrictInt, Field(ge=1, le=999)]`."""


MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
# The same, above zero and without leading zeros: the document states it exactly, so a
# generated client or a property-based tester never sends a price the server refuses.
POSITIVE_MONEY_PATTERN = r"^([1-9][0-9]{0,9}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
_MONEY_RE = re.compile(MONEY_PATTERN)
_POSITIVE_MONEY_RE = re.compile(POSITIVE_MONEY_PATTERN)


def _money_parser(pattern: re.Pattern[str]) -> Callable[[object], Decimal]:
    def parse(value: object) -> Decimal:
        if isinstance(value, Decimal):  # from Python callers (services, tests), already exact
            value = format(value, "f")
        if not isinstance(value, str):
            raise ValueError('money must be a decimal string such as "12.50"')
        if not pattern.fullmatch(value):
            raise ValueError(
                'money must be ASCII digits with at most two decimals, such as "12.50" '
                f"(at most {MAX_MONEY})"
            )
        return Decimal(value)

    return parse


parse_money = _money_parser(_MONEY_RE)
"""A non-negative amount with at most two decimals, from a decimal string."""


MoneyIn = Annotated[
    Decimal,
    BeforeValidator(_money_parser(_POSITIVE_MONEY_RE)),
    Field(gt=0, le=MAX_MONEY),
    WithJsonSchema({"type": "string", "pattern": POSITIVE_MONEY_PATTERN, "examples": ["12.50"]}),
]
"""A positive amount, e.g. a price."""

MoneyFilter = Annotated[
    Decimal,
    BeforeValidator(parse_money),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["10.00"]}),
]
"""A non-negative amount to filter by (`?min_price=10`)."""

MoneyOut = Annotated[
    Decimal, PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json")
]
"""Always two decimals on the wire, whatever the database driver hands back."""


RULE_ERROR_PREFIX = "rule:"


def rule_error(code: str, message: str) -> PydanticCustomError:
    """A refusal by a rule the OpenAPI document cannot express (JSON Schema has no word for
    "a deliverable address"): raised in a validator, it answers 422 with `code` rather than
    `request.validation_failed`, which is kept for input that breaks the document."""
    return PydanticCustomError(RULE_ERROR_PREFIX + code, message)


def _email(value: str) -> str:
    try:
        # No DNS here: deliverability is the mail's business, syntax and reserved names ours.
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise rule_error("request.invalid_email", f"not a usable email address: {exc}") from exc


Email = Annotated[
    str,
    Field(min_length=3, max_length=254, json_schema_extra={"format": "email"}),
    AfterValidator(_email),
]
"""An email address: `format: email` in the document; a syntactically valid address the
mail library refuses (a reserved domain such as `.test`) is 422 `request.invalid_email`."""


def non_nullable(*names: str) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` for a PATCH body whose fields may be left out but never be null
    (the model refuses null): the document must not offer null either."""

    def edit(schema: dict[str, Any]) -> None:
        for name in names:
            field = schema["properties"][name]
            variants = field.pop("anyOf", None)
            field.pop("default", None)
            if variants is None:
                continue
            kept = [variant for variant in variants if variant.get("type") != "null"]
            if len(kept) == 1:
                field.update(kept[0])
            else:
                field["anyOf"] = kept

    return edit
