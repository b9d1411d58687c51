"""Streaming xlsx writers behind one small interface, `SheetWriter`.

`open_xlsx(target, columns, engine=...)` returns a writer that takes rows in batches and writes
a workbook to `target`, a binary file object that only needs `write` (it may be a pipe):

- `tessera` (default): a focused SpreadsheetML writer. Rows are turned into sheet XML as they
  come and deflated straight into the zip stream, so memory stays flat whatever the row count
  and the first bytes leave before the last row is read. It writes exactly what an export
  needs: typed cells (numbers, money with two decimals, real Excel dates, booleans, inline
  strings), a bold frozen header, an auto-filter over the data, column widths, a highlight
  style for annotated imports, and a new sheet when Excel's 1,048,576-row limit is reached.
- `xlsxwriter`: XlsxWriter in `constant_memory` mode, the fallback (same features, slower).

Text never becomes a formula: cells are typed by the column, not guessed from the string, and
text that looks like a formula carries Excel's quote-prefix style so it stays text when edited.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import IO, Any, Literal, Protocol
from xml.sax.saxutils import escape as xml_escape

from tessera.lib.office.cells import (
    FORMULA_TRIGGERS,
    Column,
    excel_serial,
    number_text,
)

Engine = Literal["tessera", "xlsxwriter"]
ENGINES: tuple[Engine, ...] = ("tessera", "xlsxwriter")

# Excel's sheet size: 1,048,576 rows (one is the header) and 16,384 columns.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
MONEY_FORMAT = "#,##0.00"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
ERROR_FILL = "FFFFC7CE"  # Excel's "bad" light red


class SheetWriter(Protocol):
    """Rows go in (any number of `write_rows` calls), a workbook comes out at `close`."""

    rows_written: int

    def write_rows(self, rows: Iterable[Sequence[object]]) -> None: ...

    def write_row(self, values: Sequence[object], *, highlight: Collection[int] = ()) -> None:
        """One row; the cells at the `highlight` column indexes are filled light red."""
        ...

    def close(self) -> None: ...

    def abort(self) -> None:
        """Stop without finishing the file (what was written is incomplete); frees resources."""
        ...


def open_xlsx(
    target: IO[bytes],
    columns: Sequence[Column],
    *,
    engine: Engine = "tessera",
    sheet_name: str = "Sheet1",
    zone: tzinfo = UTC,
    max_rows_per_sheet: int = EXCEL_MAX_ROWS - 1,
    compress_level: int = 1,
) -> SheetWriter:
    """A writer of one table (continued on further sheets past `max_rows_per_sheet`).

    Aware datetimes are shown in `zone` (Excel dates carry no time zone).
    """
    if not columns or len(columns) > EXCEL_MAX_COLUMNS:
        raise ValueError(f"a sheet needs 1 to {EXCEL_MAX_COLUMNS} columns")
    sheet_name = safe_sheet_name(sheet_name)
    if engine == "tessera":
        return StreamingXlsxWriter(
            target,
            columns,
            sheet_name=sheet_name,
            zone=zone,
            max_rows_per_sheet=max_rows_per_sheet,
            compress_level=compress_level,
        )
    if engine == "xlsxwriter":
        return XlsxwriterSheet(
            target,
            columns,
            sheet_name=sheet_name,
            zone=zone,
            max_rows_per_sheet=max_rows_per_sheet,
        )
    raise ValueError(f"unknown xlsx engine {engine!r}; known: {', '.join(ENGINES)}")


_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def safe_sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of `[]:*?/\\`, not blank."""
    cleaned = _SHEET_NAME_FORBIDDEN.sub("_", name).strip("' ")[:31]
    return cleaned or "Sheet1"


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# --- text in SpreadsheetML --------------------------------------------------------------------

# Characters XML 1.0 cannot carry, CR (XML parsers turn it into LF), markup, and text that
# looks like Excel's own `_xHHHH_` escape (it would be decoded on reading).
_NEEDS_ESCAPE = re.compile("[&<>\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _escape_control(match: re.Match[str]) -> str:
    return f"_x{ord(match.group()):04X}_"


def xml_text(text: str) -> str:
    """`text` ready for a `<t>` element, with OOXML's `_xHHHH_` escapes where XML cannot go."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    text = re.sub(r"_(x[0-9A-Fa-f]{4}_)", r"_x005F_\1", text)
    text = xml_escape(text)
    text = _CONTROL.sub(_escape_control, text)
    # Lone surrogates cannot be encoded at all; a replacement character keeps the position.
    return re.sub("[\ud800-\udfff]", "\ufffd", text)


def _text_cell(ref: str, text: str, style: str) -> str:
    body = xml_text(text)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{body}</t></is></c>'


# --- the streaming SpreadsheetML writer -------------------------------------------------------

# Number formats of the cell styles (cellXfs) below; 164+ are custom formats.
_CUSTOM_FORMATS = {164: DATETIME_FORMAT, 165: DATE_FORMAT}
# name -> (numFmtId, quotePrefix); each also exists highlighted (index + 1).
_BASE_STYLES: tuple[tuple[str, int, bool], ...] = (
    ("general", 0, False),
    ("int", 1, False),
    ("money", 4, False),
    ("datetime", 164, False),
    ("date", 165, False),
    ("text_quoted", 49, True),
)
_STYLE_INDEX = {name: 2 + 2 * position for position, (name, _, _) in enumerate(_BASE_STYLES)}
HEADER_STYLE = 1


def _style_attr(name: str, highlighted: bool) -> str:
    index = _STYLE_INDEX[name] + (1 if highlighted else 0)
    return f' s="{index}"'


def _styles_xml() -> str:
    formats = "".join(
        f'<numFmt numFmtId="{number}" formatCode="{xml_escape(code)}"/>'
        for number, code in _CUSTOM_FORMATS.items()
    )
    xfs = [
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" '
        'applyFill="1" applyBorder="1"/>',
    ]
    for _, number_format, quoted in _BASE_STYLES:
        quote = ' quotePrefix="1"' if quoted else ""
        for fill in (0, 3):
            apply_fill = ' applyFill="1"' if fill else ""
            xfs.append(
                f'<xf numFmtId="{number_format}" fontId="0" fillId="{fill}" borderId="0" '
                f'xfId="0" applyNumberFormat="1"{apply_fill}{quote}/>'
            )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<numFmts count="{len(_CUSTOM_FORMATS)}">{formats}</numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="4"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="FFD9E1F2"/>'
        '<bgColor indexed="64"/></patternFill></fill>'
        f'<fill><patternFill patternType="solid"><fgColor rgb="{ERROR_FILL}"/>'
        '<bgColor indexed="64"/></patternFill></fill></fills>'
        '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
        '<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom>'
        "<diagonal/></border></borders>"
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


CellEncoder = Callable[[str, Any], str]


def _encoder(column: Column, zone: tzinfo, highlighted: bool) -> CellEncoder:
    """A function (cell reference, value) -> the cell's XML ('' for None)."""
    general = _style_attr("general", highlighted)
    quoted = _style_attr("text_quoted", highlighted)
    styles = {name: _style_attr(name, highlighted) for name in _STYLE_INDEX}
    # Without a highlight, General needs no style attribute at all.
    plain = "" if not highlighted else general

    def text(ref: str, value: Any) -> str:
        if value is None:
            return ""
        value = str(value)
        if value.startswith(FORMULA_TRIGGERS):
            return _text_cell(ref, value, quoted)
        return _text_cell(ref, value, plain)

    def number_of(style: str) -> CellEncoder:
        def number(ref: str, value: Any) -> str:
            if value is None:
                return ""
            if isinstance(value, str):
                return text(ref, value)
            return f'<c r="{ref}"{style}><v>{number_text(value)}</v></c>'

        return number

    def moment_of(style: str) -> CellEncoder:
        def moment(ref: str, value: Any) -> str:
            if value is None:
                return ""
            if not isinstance(value, date):
                return text(ref, value)
            return f'<c r="{ref}"{style}><v>{excel_serial(value, zone)!r}</v></c>'

        return moment

    def boolean(ref: str, value: Any) -> str:
        if value is None:
            return ""
        return f'<c r="{ref}"{plain} t="b"><v>{1 if value else 0}</v></c>'

    number_general = number_of(plain)
    datetime_cell = moment_of(styles["datetime"])
    date_cell = moment_of(styles["date"])

    def auto(ref: str, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return boolean(ref, value)
        if isinstance(value, int | float | Decimal):
            return number_general(ref, value)
        if isinstance(value, datetime):
            return datetime_cell(ref, value)
        if isinstance(value, date):
            return date_cell(ref, value)
        return text(ref, value)

    encoders: dict[str, CellEncoder] = {
        "int": number_of(styles["int"]),
        "money": number_of(styles["money"]),
        "number": number_general,
        "datetime": datetime_cell,
        "date": date_cell,
        "text": text,
        "bool": boolean,
        "auto": auto,
    }
    return encoders[column.kind]


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_FLUSH_ROWS = 1000


RowEncoder = Callable[[Sequence[Sequence[object]], int, list[str]], int]


def _compile_row_encoder(
    columns: Sequence[Column], encoders: Sequence[CellEncoder], zone: tzinfo
) -> RowEncoder:
    """A function that appends the XML of many rows to a list, specialised to `columns`.

    Writing is the hot loop of a million-row export: a function call per cell costs more than
    the rest of the work, so the common cases (an int, a plain string, a UTC datetime) are
    inlined into one generated loop and only the rest goes through the per-cell `encoders`.
    Returns the number of the last row written.
    """
    lines = [
        "def encode_rows(rows, row_number, out):",
        "    append = out.append",
        "    for row in rows:",
        "        if len(row) != WIDTH:",
        "            row = fit(row)",
        "        row_number += 1",
        "        r = str(row_number)",
    ]
    names: dict[str, object] = {
        "WIDTH": len(columns),
        "fit": lambda row: (list(row) + [None] * len(columns))[: len(columns)],
        "Decimal": Decimal,
        "datetime": datetime,
        "UTC": UTC,
        "slow_text": _SLOW_TEXT.search,
    }
    cells = []
    for i, (column, letter) in enumerate(
        zip(columns, (column_letter(i) for i in range(len(columns))), strict=True)
    ):
        names[f"enc{i}"] = encoders[i]
        style = {"int": _style_attr("int", False), "money": _style_attr("money", False)}.get(
            column.kind, ""
        )
        fallback = f'enc{i}("{letter}" + r, v)'
        if column.kind in ("int", "money", "number"):
            fast = f"f'<c r=\"{letter}{{r}}\"{style}><v>{{v}}</v></c>'"
            condition = "type(v) is int or type(v) is Decimal"
        elif column.kind == "text":
            fast = f'f\'<c r="{letter}{{r}}" t="inlineStr"><is><t>{{v}}</t></is></c>\''
            condition = "type(v) is str and slow_text(v) is None"
        elif column.kind == "datetime" and zone is UTC:
            dt_style = _style_attr("datetime", False)
            fast = (
                f'f\'<c r="{letter}{{r}}"{dt_style}><v>'
                "{v.timestamp() / 86400 + 25569.0!r}</v></c>'"
            )
            condition = "type(v) is datetime and v.tzinfo is UTC"
        else:
            fast, condition = fallback, "True"
        lines.append(f"        v = row[{i}]")
        lines.append(f"        c{i} = '' if v is None else ({fast} if {condition} else {fallback})")
        cells.append(f"{{c{i}}}")
    lines.append(f"        append(f'<row r=\"{{r}}\">{''.join(cells)}</row>')")
    lines.append("    return row_number")
    exec("\n".join(lines), names)  # noqa: S102  (our own code, built from column kinds only)
    encode_rows: RowEncoder = names["encode_rows"]  # type: ignore[assignment]
    return encode_rows


# A string that cannot go into the fast path as is: escapes needed, a formula trigger first,
# or white space at either end (which needs xml:space="preserve").
_SLOW_TEXT = re.compile(
    "^[=+\\-@\\s]|\\s$|[&<>\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_"
)


class StreamingXlsxWriter:
    """The `tessera` engine: sheet XML deflated into the zip as rows arrive (see module doc)."""

    def __init__(
        self,
        target: IO[bytes],
        columns: Sequence[Column],
        *,
        sheet_name: str,
        zone: tzinfo,
        max_rows_per_sheet: int,
        compress_level: int,
    ) -> None:
        self.columns = list(columns)
        self.rows_written = 0
        self._zone = zone
        self._base_name = sheet_name
        self._max_rows = max(1, min(max_rows_per_sheet, EXCEL_MAX_ROWS - 1))
        self._zip = zipfile.ZipFile(
            target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compress_level
        )
        self._letters = [column_letter(i) for i in range(len(self.columns))]
        self._last_letter = self._letters[-1]
        self._encoders = [_encoder(column, zone, False) for column in self.columns]
        self._encode_rows = _compile_row_encoder(self.columns, self._encoders, zone)
        self._highlighted = [_encoder(column, zone, True) for column in self.columns]
        self._sheets: list[tuple[str, int]] = []  # (name, data rows)
        self._entry: IO[bytes] | None = None
        self._row = 0  # the current sheet's last written row number (1 = header)
        self._pending: list[str] = []
        self._pending_size = 0
        self._closed = False

    # Rows ---------------------------------------------------------------------------------

    def write_rows(self, rows: Iterable[Sequence[object]]) -> None:
        if not isinstance(rows, list):
            rows = list(rows)
        start = 0
        while start < len(rows):
            if self._entry is None or self._row > self._max_rows:
                self._next_sheet()
            room = self._max_rows + 1 - self._row
            chunk = rows[start : start + room] if start or room < len(rows) else rows
            self._row = self._encode_rows(chunk, self._row, self._pending)
            self.rows_written += len(chunk)
            start += len(chunk)
            self._pending_size += len(chunk)
            if self._pending_size >= _FLUSH_ROWS:
                self._flush()

    def write_row(self, values: Sequence[object], *, highlight: Collection[int] = ()) -> None:
        if not highlight:
            self.write_rows([values])
            return
        if self._entry is None or self._row > self._max_rows:
            self._next_sheet()
        self._row += 1
        number = str(self._row)
        cells = "".join(
            (self._highlighted[i] if i in highlight else self._encoders[i])(
                self._letters[i] + number, value
            )
            for i, value in enumerate(values[: len(self.columns)])
        )
        self._pending.append(f'<row r="{number}">{cells}</row>')
        self._pending_size += 1
        self.rows_written += 1

    def _flush(self) -> None:
        if self._pending and self._entry is not None:
            self._entry.write("".join(self._pending).encode("utf-8", "surrogatepass"))
        self._pending.clear()
        self._pending_size = 0

    # Sheets -------------------------------------------------------------------------------

    def _next_sheet(self) -> None:
        if self._entry is not None:
            self._finish_sheet()
        index = len(self._sheets) + 1
        name = self._base_name if index == 1 else safe_sheet_name(f"{self._base_name} ({index})")
        self._sheets.append((name, 0))
        self._entry = self._zip.open(f"xl/worksheets/sheet{index}.xml", "w")
        widths = "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{column.display_width:.1f}" customWidth="1"/>'
            for i, column in enumerate(self.columns)
        )
        selected = ' tabSelected="1"' if index == 1 else ""
        header = "".join(
            _text_cell(f"{letter}1", column.header, f' s="{HEADER_STYLE}"')
            for letter, column in zip(self._letters, self.columns, strict=True)
        )
        self._entry.write(
            (
                f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
                f'<sheetViews><sheetView workbookViewId="0"{selected}>'
                '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                "</sheetView></sheetViews>"
                '<sheetFormatPr defaultRowHeight="15"/>'
                f"<cols>{widths}</cols><sheetData>"
                f'<row r="1">{header}</row>'
            ).encode()
        )
        self._row = 1

    def _finish_sheet(self) -> None:
        assert self._entry is not None
        self._flush()
        self._entry.write(
            f'</sheetData><autoFilter ref="A1:{self._last_letter}{self._row}"/>'
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/></worksheet>'.encode()
        )
        self._entry.close()
        self._entry = None
        name, _ = self._sheets[-1]
        self._sheets[-1] = (name, self._row - 1)

    # The rest of the package --------------------------------------------------------------

    def abort(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pending.clear()
        with contextlib.suppress(Exception):
            if self._entry is not None:
                self._entry.close()
        with contextlib.suppress(Exception):
            self._zip.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._entry is None:
            self._next_sheet()  # an empty export is still a workbook with its header
        self._finish_sheet()
        count = len(self._sheets)
        sheets = "".join(
            f'<sheet name="{xml_escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
            for i, (name, _) in enumerate(self._sheets, 1)
        )
        filters = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"'{xml_escape(name.replace(chr(39), chr(39) * 2))}'!$A$1:${self._last_letter}"
            f"${rows + 1}</definedName>"
            for i, (name, rows) in enumerate(self._sheets)
        )
        sheet_rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, count + 1)
        )
        sheet_types = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, count + 1)
        )
        parts = {
            "xl/workbook.xml": (
                f'{_XML_HEAD}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
                '<bookViews><workbookView activeTab="0"/></bookViews>'
                f"<sheets>{sheets}</sheets><definedNames>{filters}</definedNames></workbook>"
            ),
            "xl/_rels/workbook.xml.rels": (
                f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">{sheet_rels}'
                f'<Relationship Id="rId{count + 1}" Type="{_REL_NS}/styles" '
                'Target="styles.xml"/></Relationships>'
            ),
            "xl/styles.xml": _styles_xml(),
            "docProps/core.xml": _core_xml(),
            "_rels/.rels": (
                f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">'
                f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" '
                'Target="xl/workbook.xml"/>'
                '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
                'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
                "</Relationships>"
            ),
            "[Content_Types].xml": (
                f"{_XML_HEAD}<Types "
                'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/'
                'vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                f"{sheet_types}"
                '<Override PartName="/xl/styles.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                '<Override PartName="/docProps/core.xml" ContentType="application/'
                'vnd.openxmlformats-package.core-properties+xml"/>'
                "</Types>"
            ),
        }
        for name, body in parts.items():
            self._zip.writestr(name, body.encode())
        self._zip.close()


def _core_xml() -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{_XML_HEAD}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>Tessera</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        "</cp:coreProperties>"
    )


# --- the XlsxWriter fallback ------------------------------------------------------------------


class XlsxwriterSheet:
    """The `xlsxwriter` engine: XlsxWriter with `constant_memory` (rows go to a temp file,
    the zip is written to `target` at close)."""

    def __init__(
        self,
        target: IO[bytes],
        columns: Sequence[Column],
        *,
        sheet_name: str,
        zone: tzinfo,
        max_rows_per_sheet: int,
    ) -> None:
        import xlsxwriter

        self.columns = list(columns)
        self.rows_written = 0
        self._zone = zone
        self._base_name = sheet_name
        self._max_rows = max(1, min(max_rows_per_sheet, EXCEL_MAX_ROWS - 1))
        self._book = xlsxwriter.Workbook(
            target,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        book = self._book
        self._header_format = book.add_format({"bold": True, "bg_color": "#D9E1F2", "bottom": 1})
        self._formats: dict[tuple[str, bool], Any] = {}
        for name, properties in (
            ("general", {}),
            ("int", {"num_format": "0"}),
            ("money", {"num_format": MONEY_FORMAT}),
            ("datetime", {"num_format": DATETIME_FORMAT}),
            ("date", {"num_format": DATE_FORMAT}),
            ("text_quoted", {"num_format": "@", "quote_prefix": True}),
        ):
            for highlighted in (False, True):
                extra = {"bg_color": "#" + ERROR_FILL[2:]} if highlighted else {}
                self._formats[(name, highlighted)] = (
                    book.add_format({**properties, **extra}) if properties or extra else None
                )
        self._sheet: Any = None
        self._sheets = 0
        self._row = 0

    def _next_sheet(self) -> None:
        self._finish_sheet()
        self._sheets += 1
        name = (
            self._base_name
            if self._sheets == 1
            else safe_sheet_name(f"{self._base_name} ({self._sheets})")
        )
        sheet = self._book.add_worksheet(name)
        sheet.freeze_panes(1, 0)
        for i, column in enumerate(self.columns):
            sheet.set_column(i, i, column.display_width)
            sheet.write_string(0, i, column.header, self._header_format)
        self._sheet = sheet
        self._row = 0

    def _finish_sheet(self) -> None:
        if self._sheet is not None:
            self._sheet.autofilter(0, 0, self._row, len(self.columns) - 1)

    def _write_cell(self, column: int, kind: str, value: object, highlighted: bool) -> None:
        sheet, row, formats = self._sheet, self._row, self._formats
        if value is None:
            if highlighted:
                sheet.write_blank(row, column, None, formats[("general", True)])
            return
        if kind == "auto":
            if isinstance(value, bool):
                kind = "bool"
            elif isinstance(value, int | float | Decimal):
                kind = "number"
            elif isinstance(value, datetime):
                kind = "datetime"
            elif isinstance(value, date):
                kind = "date"
            else:
                kind = "text"
        if kind == "bool":
            sheet.write_boolean(row, column, bool(value), formats[("general", highlighted)])
        elif kind in ("int", "money", "number") and isinstance(value, int | float | Decimal):
            style = {"int": "int", "money": "money"}.get(kind, "general")
            sheet.write_number(row, column, float(value), formats[(style, highlighted)])
        elif kind in ("datetime", "date") and isinstance(value, date):
            serial = excel_serial(value, self._zone)
            sheet.write_number(row, column, serial, formats[(kind, highlighted)])
        else:
            text = str(value)
            style = "text_quoted" if text.startswith(FORMULA_TRIGGERS) else "general"
            sheet.write_string(row, column, text, formats[(style, highlighted)])

    def write_rows(self, rows: Iterable[Sequence[object]]) -> None:
        kinds = [column.kind for column in self.columns]
        for row in rows:
            self._advance()
            for i, (kind, value) in enumerate(zip(kinds, row, strict=False)):
                self._write_cell(i, kind, value, False)

    def write_row(self, values: Sequence[object], *, highlight: Collection[int] = ()) -> None:
        self._advance()
        for i, (column, value) in enumerate(zip(self.columns, values, strict=False)):
            self._write_cell(i, column.kind, value, i in highlight)

    def _advance(self) -> None:
        if self._sheet is None or self._row >= self._max_rows:
            self._next_sheet()
        self._row += 1
        self.rows_written += 1

    def close(self) -> None:
        if self._sheet is None:
            self._next_sheet()
        self._finish_sheet()
        self._book.close()

    def abort(self) -> None:
        # Nothing reaches `target` before close(); just keep the destructor quiet.
        self._book.fileclosed = True
