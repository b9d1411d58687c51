"""What a spreadsheet column holds, and how a cell from user data is kept from becoming a formula.

`Column` describes one column of an export (header, kind, width); every writer (xlsx engines,
CSV) reads the same description, so an export is defined once. `looks_like_formula` and
`neutralise_csv` are the one rule for formula (CSV) injection: text that starts with `=`, `+`,
`-`, `@`, a tab or a carriage return is what spreadsheet programs treat as a formula or a DDE
call. In xlsx such text is written as a string cell with Excel's quote-prefix style (it stays
text even when edited); in CSV, which has no types, it gets a leading apostrophe.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Literal

# int: whole numbers; money: decimals shown with 2 places; number: any decimal; datetime/date:
# real Excel dates; text: user data (formula-neutralised); bool; auto: by the value's type.
Kind = Literal["int", "money", "number", "datetime", "date", "text", "bool", "auto"]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Excel counts days from 1899-12-30 (so that its 1900 leap-year bug lines up after March 1900).
EXCEL_EPOCH = datetime(1899, 12, 30)
EXCEL_EPOCH_ORDINAL = EXCEL_EPOCH.toordinal()


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: Kind = "text"
    # Width in Excel's character units; None picks one from the kind and the header.
    width: float | None = None

    @property
    def display_width(self) -> float:
        if self.width is not None:
            return self.width
        by_kind = {"int": 10.0, "money": 14.0, "number": 14.0, "datetime": 20.0, "date": 12.0}
        return max(by_kind.get(self.kind, 16.0), text_width(self.header) + 3.0)


def text_width(text: str) -> float:
    """Columns a text needs: East Asian wide characters take two."""
    return float(sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text))


def looks_like_formula(text: str) -> bool:
    """True for text a spreadsheet program would run as a formula if it were typed in."""
    return text.startswith(FORMULA_TRIGGERS)


def neutralise_csv(text: str) -> str:
    """Text safe to put in a CSV cell: a leading apostrophe defuses a formula (OWASP's advice)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def excel_serial(value: datetime | date, zone: tzinfo = UTC) -> float:
    """Days since Excel's epoch; aware datetimes are first converted to `zone`, shown as is."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(zone)
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        fraction = (seconds + value.microsecond / 1_000_000) / 86400
        return value.toordinal() - EXCEL_EPOCH_ORDINAL + fraction
    return float(value.toordinal() - EXCEL_EPOCH_ORDINAL)


def number_text(value: int | float | Decimal) -> str:
    """A number as SpreadsheetML and CSV write it (no exponent for ordinary decimals)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return repr(value) if isinstance(value, float) else str(int(value))
