"""Pure logic of the product import: reading the header, checking each row, and the problems
found, by row and column. No I/O here: the service feeds rows in and gets verdicts out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from tessera.lib.office.reader import CellValue, SheetRow
from tessera.lib.office.xlsx import column_letter


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    help: str
    aliases: tuple[str, ...] = ()


# The template's columns, in order. Headers are matched case-insensitively, Chinese aliases too.
FIELDS: tuple[Field, ...] = (
    Field(
        "sku", True, "Unique code: letters, digits, . _ - (at most 64). 唯一编码", ("编码", "货号")
    ),
    Field("name", True, "Product name, at most 200 characters. 商品名称", ("名称", "商品名称")),
    Field("description", False, "Optional, at most 10,000 characters. 描述", ("描述",)),
    Field("price", True, "Price greater than 0, at most 2 decimals, e.g. 12.50. 价格", ("价格",)),
    Field(
        "currency", False, "3-letter code such as CNY; empty: the shop's default. 币种", ("币种",)
    ),
    Field("stock", True, "Whole number from 0 to 10,000,000. 库存", ("库存",)),
    Field("status", False, "active or inactive; empty: active. 状态", ("状态",)),
)
FIELD_NAMES = tuple(field_.name for field_ in FIELDS)
STATUSES = ("active", "inactive")
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
MAX_PRICE = Decimal("9999999999.99")
MAX_STOCK = 10_000_000


@dataclass(frozen=True, slots=True)
class Problem:
    row: int | None
    column: str | None  # the field name (header) it concerns
    cell: str | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ProductRow:
    row: int
    sku: str
    name: str
    description: str
    price: Decimal
    currency: str | None
    stock: int
    status: str


@dataclass
class Header:
    row: int
    # field name -> 0-based column index in the sheet
    columns: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _label(value: CellValue) -> str:
    return "" if value is None else str(value).strip()


def read_header(row: SheetRow) -> Header:
    """Map the header row's cells to fields; unknown, duplicate and missing columns are
    problems of the whole sheet."""
    header = Header(row=row.number)
    aliases = {name: field_.name for field_ in FIELDS for name in (field_.name, *field_.aliases)}
    for index, value in enumerate(row.values):
        label = _label(value)
        if not label:
            continue
        name = aliases.get(label.lower()) or aliases.get(label)
        cell = f"{column_letter(index)}{row.number}"
        if name is None:
            header.problems.append(
                Problem(
                    row.number,
                    label,
                    cell,
                    "unknown_column",
                    f"Unknown column {label!r}; the columns are {', '.join(FIELD_NAMES)}.",
                )
            )
        elif name in header.columns:
            header.problems.append(
                Problem(row.number, name, cell, "duplicate_column", f"Column {name} appears twice.")
            )
        else:
            header.columns[name] = index
    for field_ in FIELDS:
        if field_.required and field_.name not in header.columns:
            header.problems.append(
                Problem(
                    row.number,
                    field_.name,
                    None,
                    "missing_column",
                    f"The required column {field_.name} is missing.",
                )
            )
    return header


def _text(value: CellValue) -> str | None:
    """Text of a cell; whole numbers (an SKU typed as 1001) read as their digits."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else format(value, "f")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    text = str(value).strip()
    return text or None


def check_row(
    row: SheetRow, header: Header, *, default_currency: str
) -> ProductRow | list[Problem]:
    """A valid product, or every problem of the row (one per cell at most)."""
    problems: list[Problem] = []

    def cell_of(name: str) -> tuple[CellValue, str, int | None]:
        index = header.columns.get(name)
        if index is None:
            return None, "", None
        value = row.values[index] if index < len(row.values) else None
        return value, f"{column_letter(index)}{row.number}", index

    def problem(name: str, cell: str, code: str, message: str) -> None:
        problems.append(Problem(row.number, name, cell or None, code, message))

    values: dict[str, tuple[CellValue, str]] = {}
    for field_ in FIELDS:
        value, cell, index = cell_of(field_.name)
        if index is not None and index in row.formulas:
            problem(
                field_.name,
                cell,
                "formula",
                "The cell holds a formula; formulas are not evaluated. Paste the value.",
            )
            continue
        if index is not None and index in row.errors:
            problem(field_.name, cell, "cell_error", f"The cell shows the error {value}.")
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            if field_.required:
                problem(field_.name, cell, "required", f"{field_.name} is required.")
            continue
        values[field_.name] = (value, cell)

    def take(name: str) -> tuple[CellValue, str] | None:
        found = values.get(name)
        return found if isinstance(found, tuple) else None

    sku = name = None
    if (found := take("sku")) is not None:
        sku = _text(found[0])
        if sku is None or len(sku) > 64 or not SKU_PATTERN.match(sku):
            problem(
                "sku",
                found[1],
                "invalid",
                "Use letters, digits, '.', '_' or '-' (at most 64), starting with a letter "
                "or digit.",
            )
            sku = None
    if (found := take("name")) is not None:
        name = _text(found[0])
        if name is None or len(name) > 200:
            problem("name", found[1], "too_long", "At most 200 characters.")
            name = None
    description = ""
    if (found := take("description")) is not None:
        description = _text(found[0]) or ""
        if len(description) > 10_000:
            problem("description", found[1], "too_long", "At most 10,000 characters.")
    price: Decimal | None = None
    if (found := take("price")) is not None:
        raw, cell = found
        try:
            price = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
            if isinstance(raw, bool) or not price.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problem("price", cell, "type", f"{raw!r} is not a number.")
            price = None
        else:
            if price <= 0:
                problem("price", cell, "range", "The price must be greater than 0.")
                price = None
            elif price > MAX_PRICE:
                problem("price", cell, "range", f"The price must be at most {MAX_PRICE}.")
                price = None
            elif price != price.quantize(Decimal("0.01")):
                problem("price", cell, "precision", "At most 2 decimals (cents).")
                price = None
    stock: int | None = None
    if (found := take("stock")) is not None:
        raw, cell = found
        try:
            number = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
            if isinstance(raw, bool) or not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problem("stock", cell, "type", f"{raw!r} is not a whole number.")
        else:
            if number != number.to_integral_value():
                problem("stock", cell, "type", "Stock must be a whole number.")
            elif not 0 <= number <= MAX_STOCK:
                problem("stock", cell, "range", f"Stock must be from 0 to {MAX_STOCK}.")
            else:
                stock = int(number)
    currency: str | None = None
    if (found := take("currency")) is not None:
        currency = (_text(found[0]) or "").upper()
        if not CURRENCY_PATTERN.match(currency):
            problem("currency", found[1], "invalid", "Use a 3-letter code such as CNY.")
            currency = None
    status = "active"
    if (found := take("status")) is not None:
        status = (_text(found[0]) or "").lower()
        if status not in STATUSES:
            problem("status", found[1], "invalid", "Use active or inactive.")
    if problems:
        return problems
    assert sku is not None
    assert name is not None
    assert price is not None
    assert stock is not None
    return ProductRow(
        row=row.number,
        sku=sku,
        name=name,
        description=description,
        price=price,
        currency=currency or default_currency,
        stock=stock,
        status=status,
    )
