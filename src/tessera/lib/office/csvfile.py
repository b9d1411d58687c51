"""A streaming CSV writer with the same interface as the xlsx writers (`SheetWriter`).

RFC 4180 (CRLF, quotes doubled), UTF-8 with a byte-order mark so that Excel opens Chinese
text correctly, dates as `YYYY-MM-DD HH:MM:SS` in the export's time zone, money with two
decimals. Text cells from user data that a spreadsheet would run as a formula get a leading
apostrophe (`cells.neutralise_csv`); numeric columns are never touched, so `-5.00` stays a
number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import IO, Any

from tessera.lib.office.cells import Column, neutralise_csv, number_text

BOM = "\ufeff"


def _formatter(column: Column, zone: tzinfo) -> Callable[[Any], str]:
    def text(value: Any) -> str:
        return neutralise_csv(str(value))

    def number(value: Any) -> str:
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return number_text(value)
        return text(value)

    def money(value: Any) -> str:
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            return format(value, ".2f")
        return text(value)

    def moment(value: Any) -> str:
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(zone)
            if column.kind == "date":
                return str(value.date().isoformat())
            return str(value.strftime("%Y-%m-%d %H:%M:%S"))
        if isinstance(value, date):
            return value.isoformat()
        return text(value)

    def boolean(value: Any) -> str:
        return "TRUE" if value else "FALSE"

    def auto(value: Any) -> str:
        if isinstance(value, bool):
            return boolean(value)
        if isinstance(value, int | float | Decimal):
            return number(value)
        if isinstance(value, date):
            return moment(value)
        return text(value)

    by_kind: dict[str, Callable[[Any], str]] = {
        "int": number,
        "number": number,
        "money": money,
        "datetime": moment,
        "date": moment,
        "text": text,
        "bool": boolean,
        "auto": auto,
    }
    return by_kind[column.kind]


class CsvSheet:
    """CSV rows encoded in batches and written to `target` (a binary stream)."""

    def __init__(self, target: IO[bytes], columns: Sequence[Column], *, zone: tzinfo = UTC) -> None:
        self.columns = list(columns)
        self.rows_written = 0
        self._target = target
        self._formatters = [_formatter(column, zone) for column in self.columns]
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\r\n")
        self._buffer.write(BOM)
        self._csv.writerow([neutralise_csv(column.header) for column in self.columns])
        self._flush()

    def _flush(self) -> None:
        self._target.write(self._buffer.getvalue().encode("utf-8", "replace"))
        self._buffer.seek(0)
        self._buffer.truncate()

    def write_rows(self, rows: Iterable[Sequence[object]]) -> None:
        formatters = self._formatters
        width = len(formatters)
        lines = []
        for row in rows:
            lines.append(
                [
                    "" if value is None else format_value(value)
                    for format_value, value in zip(formatters, row[:width], strict=False)
                ]
            )
        self._csv.writerows(lines)
        self.rows_written += len(lines)
        self._flush()

    def write_row(self, values: Sequence[object], *, highlight: Collection[int] = ()) -> None:
        """CSV has no colours: `highlight` is accepted and ignored."""
        self.write_rows([values])

    def close(self) -> None:
        self._flush()

    def abort(self) -> None:
        self._buffer = io.StringIO()


def open_csv(target: IO[bytes], columns: Sequence[Column], *, zone: tzinfo = UTC) -> CsvSheet:
    return CsvSheet(target, columns, zone=zone)
