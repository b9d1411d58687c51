"""Reading an uploaded xlsx for an import: the package is checked before any XML is parsed.

`open_workbook(file, limits)` refuses, with a `WorkbookRejected` that names the problem:
- anything that is not an Office Open XML spreadsheet (`not_xlsx`; a legacy `.xls` or an
  encrypted workbook, both OLE2 files, get their own hint);
- macro-enabled workbooks (`macro_enabled`: a VBA project or a macro-enabled content type);
- zip bombs (`too_large`): the sizes declared in the zip directory are summed and each entry's
  compression ratio is capped *before* decompressing; while reading, the bytes actually
  inflated are counted again, so a directory that lies does not help;
- duplicate entry names, encrypted entries, and XML with a DOCTYPE (entity expansion).

`Workbook.rows()` then streams the first sheet row by row with a pull parser (memory does not
grow with the sheet; shared strings are held, bounded by the uncompressed-size cap). Cells
come back typed: text, `Decimal` numbers (exactly the digits in the file), booleans, and
datetimes for cells whose number format is a date. Formulas are never evaluated: a formula
cell is reported as such (with its cached value), and the caller decides.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Literal
from xml.etree.ElementTree import Element, XMLPullParser

RejectionCode = Literal[
    "not_xlsx", "macro_enabled", "encrypted", "too_large", "too_many_rows",
    "too_many_columns", "malformed",
]  # fmt: skip

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
SHEET_MAIN_TYPES = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
)
_READ_CHUNK = 64 * 1024
ParseEvent = Literal["start", "end"]
ReadEngine = Literal["calamine", "stream"]


class WorkbookRejected(Exception):
    def __init__(self, code: RejectionCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ReadLimits:
    max_uncompressed_bytes: int = 100 * 1024 * 1024
    max_compression_ratio: float = 100.0
    # Ratios of small parts mean nothing (a few KiB of repeated XML compress very well).
    ratio_floor_bytes: int = 1024 * 1024
    max_entries: int = 1000
    max_rows: int = 100_000
    max_columns: int = 100


CellValue = str | Decimal | bool | datetime | None


@dataclass(slots=True)
class SheetRow:
    """One row that has at least one value. `values[i]` is column i (0 = A)."""

    number: int
    values: list[CellValue]
    # Column indexes of cells that hold a formula (their value is the cached result).
    formulas: set[int] = field(default_factory=set)
    # Column indexes of error cells (`#DIV/0!` and the like; the value is the error text).
    errors: set[int] = field(default_factory=set)


def column_index(reference: str) -> int:
    """'C7' -> 2 (0-based), from the letters of a cell reference."""
    index = 0
    for char in reference:
        if "A" <= char <= "Z":
            index = index * 26 + (ord(char) - 64)
        elif "a" <= char <= "z":
            index = index * 26 + (ord(char) - 96)
        else:
            break
    return index - 1


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text)


# Built-in number formats that show dates or times (including the East Asian ones).
_DATE_FORMAT_IDS = frozenset(
    [*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59), *range(71, 82)]
)
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
EXCEL_EPOCH = datetime(1899, 12, 30)


def _is_date_format(code: str) -> bool:
    stripped = _FORMAT_NOISE.sub("", code).lower()
    return any(letter in stripped for letter in "ymdhs") and "general" not in stripped


class Workbook:
    """An opened, checked workbook; read its first sheet with `rows()`."""

    def __init__(
        self, archive: zipfile.ZipFile, limits: ReadLimits, source: IO[bytes] | None = None
    ) -> None:
        self._zip = archive
        self._limits = limits
        self._source = source
        self._inflated = 0
        names = {info.filename for info in archive.infolist()}
        self._sheet_path = self._first_sheet_path(names)
        self._shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            self._shared = self._read_shared_strings("xl/sharedStrings.xml")
        self._date_styles: set[int] = set()
        self._tags = _Tags("")
        if "xl/styles.xml" in names:
            self._date_styles = self._read_date_styles("xl/styles.xml")

    # Parts --------------------------------------------------------------------------------

    def _chunks(self, name: str) -> Iterator[bytes]:
        """The inflated bytes of one part, counted against the cap as they come."""
        try:
            with self._zip.open(name) as part:
                first = True
                while chunk := part.read(_READ_CHUNK):
                    self._inflated += len(chunk)
                    if self._inflated > self._limits.max_uncompressed_bytes:
                        raise WorkbookRejected(
                            "too_large",
                            "The workbook inflates to more than "
                            f"{self._limits.max_uncompressed_bytes} bytes.",
                        )
                    if first and (b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk):
                        raise WorkbookRejected(
                            "malformed", f"{name} declares a DOCTYPE, which xlsx never does."
                        )
                    first = False
                    yield chunk
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise WorkbookRejected("malformed", f"{name} cannot be read: {exc}") from exc

    def _events(
        self, name: str, events: tuple[ParseEvent, ...] = ("end",)
    ) -> Iterator[tuple[str, Element]]:
        parser: XMLPullParser[Element] = XMLPullParser(events)
        try:
            for chunk in self._chunks(name):
                parser.feed(chunk)
                yield from _pairs(parser)
            parser.close()
            yield from _pairs(parser)
        except SyntaxError as exc:  # xml.etree.ElementTree.ParseError
            raise WorkbookRejected("malformed", f"{name} is not well-formed XML: {exc}") from exc

    def _first_sheet_path(self, names: set[str]) -> str:
        relation_id = None
        for _, element in self._events("xl/workbook.xml"):
            if _local(element.tag) == "sheet":
                relation_id = next(
                    (value for key, value in element.attrib.items() if _local(key) == "id"),
                    None,
                )
                break
        if relation_id is None:
            raise WorkbookRejected("malformed", "The workbook has no sheet.")
        target = None
        if "xl/_rels/workbook.xml.rels" in names:
            for _, element in self._events("xl/_rels/workbook.xml.rels"):
                if _local(element.tag) == "Relationship" and element.get("Id") == relation_id:
                    target = element.get("Target")
                    break
        if not target:
            raise WorkbookRejected("malformed", "The workbook's first sheet cannot be found.")
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        # Collapse "xl/../x" style paths the way a zip reader would name them.
        parts: list[str] = []
        for part in path.split("/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part and part != ".":
                parts.append(part)
        path = "/".join(parts)
        if path not in names:
            raise WorkbookRejected("malformed", f"The first sheet ({path}) is missing.")
        return path

    def _read_shared_strings(self, name: str) -> list[str]:
        strings: list[str] = []
        root: Element | None = None
        for event, element in self._events(name, ("start", "end")):
            tag = _local(element.tag)
            if event == "start":
                if root is None:
                    root = element
                continue
            if tag == "si":
                text = "".join(
                    node.text or ""
                    for node in element.iter()
                    if _local(node.tag) == "t" and not _inside_phonetic(element, node)
                )
                strings.append(_unescape(text))
                if root is not None:
                    root.clear()  # strings already read must not pile up in the tree
        return strings

    def _read_date_styles(self, name: str) -> set[int]:
        custom: dict[int, str] = {}
        date_styles: set[int] = set()
        in_cell_xfs = False
        index = 0
        for event, element in self._events(name, ("start", "end")):
            tag = _local(element.tag)
            if tag == "numFmt" and event == "end":
                try:
                    custom[int(element.get("numFmtId", "0"))] = element.get("formatCode", "")
                except ValueError:
                    continue
            elif tag == "cellXfs":
                in_cell_xfs = event == "start"
            elif tag == "xf" and in_cell_xfs and event == "end":
                try:
                    format_id = int(element.get("numFmtId", "0"))
                except ValueError:
                    format_id = 0
                code = custom.get(format_id)
                if format_id in _DATE_FORMAT_IDS or (code is not None and _is_date_format(code)):
                    date_styles.add(index)
                index += 1
        return date_styles

    # Rows ---------------------------------------------------------------------------------

    def rows(self, *, engine: ReadEngine = "calamine") -> Iterator[SheetRow]:
        """The first sheet's non-empty rows, in order, within the row and column limits.

        `calamine` (default): python-calamine reads the values (Rust, ~25x faster), after a
        streaming scan of the sheet XML has found the formula and error cells (and counted the
        inflated bytes again); numbers come back exact as far as a double is (Excel stores
        doubles). `stream`: the pure-Python pull parser, constant memory, exact digits.
        """
        if engine == "calamine" and self._source is not None:
            return self._calamine_rows()
        return self._stream_rows()

    def _stream_rows(self) -> Iterator[SheetRow]:
        limits = self._limits
        count = 0
        sheet_data: Element | None = None
        next_number = 1
        namespace: str | None = None
        row_tag = sheet_data_tag = ""
        # The hot loop of an import: tags are compared whole (namespace included) rather
        # than split per element, and events are read straight from the parser.
        parser: XMLPullParser[Element] = XMLPullParser(events=("start", "end"))
        try:
            for chunk in self._chunks(self._sheet_path):
                parser.feed(chunk)
                for event, element in _pairs(parser):
                    if event == "start":
                        if namespace is None:
                            tag = element.tag
                            namespace = tag[: tag.index("}") + 1] if tag[:1] == "{" else ""
                            row_tag, sheet_data_tag = namespace + "row", namespace + "sheetData"
                            self._tags = _Tags(namespace)
                        elif element.tag == sheet_data_tag:
                            sheet_data = element
                        continue
                    if element.tag != row_tag:
                        continue
                    try:
                        number = int(element.get("r") or next_number)
                    except ValueError:
                        number = next_number
                    next_number = number + 1
                    row = self._row(element, number)
                    if sheet_data is not None:
                        sheet_data.clear()  # rows already read must not pile up in the tree
                    if row is None:
                        continue
                    count += 1
                    if count > limits.max_rows:
                        raise WorkbookRejected(
                            "too_many_rows", f"The sheet has more than {limits.max_rows} rows."
                        )
                    yield row
            parser.close()
        except SyntaxError as exc:  # xml.etree.ElementTree.ParseError
            raise WorkbookRejected("malformed", f"The sheet is not well-formed XML: {exc}") from exc

    def _marked_cells(self) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
        """(row -> columns holding a formula, row -> columns holding an error value), from a
        scan of the raw sheet XML (a `<f>` is a cell's first child; errors are `t="e"`)."""
        formulas: dict[int, set[int]] = {}
        errors: dict[int, set[int]] = {}
        tail = b""
        for chunk in self._chunks(self._sheet_path):
            data = tail + chunk
            # A cell cut by the chunk boundary is scanned again with the next chunk.
            cut = data.rfind(b"<", max(0, len(data) - 4096))
            cut = len(data) if cut < 0 else cut
            for match in _CELL_START.finditer(data, 0, cut):
                attributes, after = match.group(1), match.end()
                reference = _REFERENCE.search(attributes)
                if reference is None:
                    continue
                row = int(reference.group(2))
                column = column_index(reference.group(1).decode())
                if _FORMULA_NEXT.match(data, after):
                    formulas.setdefault(row, set()).add(column)
                if _ERROR_TYPE.search(attributes):
                    errors.setdefault(row, set()).add(column)
            tail = data[cut:]
        return formulas, errors

    def _calamine_rows(self) -> Iterator[SheetRow]:
        import python_calamine

        limits = self._limits
        formulas, errors = self._marked_cells()
        assert self._source is not None
        self._source.seek(0)
        try:
            book = python_calamine.CalamineWorkbook.from_filelike(self._source)
            sheet = book.get_sheet_by_index(0)
        except Exception as exc:  # its own error types: the sheet is broken
            raise WorkbookRejected("malformed", f"The sheet cannot be read: {exc}") from exc
        first_column = sheet.start[1] if sheet.start else 0
        last_column = sheet.end[1] if sheet.end else 0
        if last_column >= limits.max_columns:
            raise WorkbookRejected(
                "too_many_columns",
                f"The sheet has a value in column {last_column + 1}; at most "
                f"{limits.max_columns} columns are read.",
            )
        count = 0
        # iter_rows counts rows from the sheet's first row and columns from its first used one.
        for index, cells in enumerate(sheet.iter_rows()):
            number = index + 1
            values: list[CellValue] = [None] * first_column
            values.extend(_calamine_value(cell) for cell in cells)
            marked = formulas.get(number, set())
            if not marked and all(value is None for value in values):
                continue
            count += 1
            if count > limits.max_rows:
                raise WorkbookRejected(
                    "too_many_rows", f"The sheet has more than {limits.max_rows} rows."
                )
            while values and values[-1] is None and len(values) - 1 not in marked:
                values.pop()
            yield SheetRow(
                number=number,
                values=values,
                formulas=set(marked),
                errors=set(errors.get(number, set())),
            )

    def _row(self, element: Element, number: int) -> SheetRow | None:
        values: dict[int, CellValue] = {}
        formulas: set[int] = set()
        errors: set[int] = set()
        position = 0
        cell_tag = self._tags.c
        max_columns = self._limits.max_columns
        for cell in element:
            if cell.tag != cell_tag:
                continue
            reference = cell.get("r")
            column = column_index(reference) if reference else position
            position = column + 1
            if column < 0:
                continue
            value, has_formula, is_error = self._cell(cell)
            if value is None and not has_formula:
                continue
            if column >= max_columns:
                raise WorkbookRejected(
                    "too_many_columns",
                    f"Row {number} has a value in column {column + 1}; at most "
                    f"{max_columns} columns are read.",
                )
            values[column] = value
            if has_formula:
                formulas.add(column)
            if is_error:
                errors.add(column)
        if not values:
            return None
        width = max(values) + 1
        return SheetRow(
            number=number,
            values=[values.get(i) for i in range(width)],
            formulas=formulas,
            errors=errors,
        )

    def _cell(self, cell: Element) -> tuple[CellValue, bool, bool]:
        tags = self._tags
        kind = cell.get("t", "n")
        raw: str | None = None
        has_formula = False
        inline: list[str] | None = None
        for child in cell:
            tag = child.tag
            if tag == tags.v:
                raw = child.text or ""
            elif tag == tags.f:
                has_formula = True
            elif tag == tags.inline:
                inline = [
                    node.text or ""
                    for node in child.iter(tags.t)
                    if not _inside_phonetic(child, node)
                ]
        if kind == "inlineStr":
            return _unescape("".join(inline or ())), has_formula, False
        if raw is None:
            return None, has_formula, False
        if kind == "n":
            return self._number(cell, raw), has_formula, False
        if kind == "s":
            try:
                return self._shared[int(raw)], has_formula, False
            except (ValueError, IndexError):
                raise WorkbookRejected(
                    "malformed", f"Cell {cell.get('r')} points at a missing shared string."
                ) from None
        if kind == "str":
            return _unescape(raw), has_formula, False
        if kind == "b":
            return raw.strip() == "1", has_formula, False
        if kind == "e":
            return raw, has_formula, True
        if kind == "d":
            try:
                return datetime.fromisoformat(raw.strip()), has_formula, False
            except ValueError:
                return raw, has_formula, False
        return self._number(cell, raw), has_formula, False

    def _number(self, cell: Element, raw: str) -> CellValue:
        if not raw.strip():
            return None  # a formula without a saved result
        try:
            number = Decimal(raw)
        except InvalidOperation:
            try:
                number = Decimal(raw.strip())
            except InvalidOperation:
                return raw
        if not number.is_finite():
            return raw
        style_text = cell.get("s")
        if style_text is not None and self._date_styles:
            try:
                style = int(style_text)
            except ValueError:
                style = 0
            if style in self._date_styles and 0 <= number < 2_958_466:  # to 9999-12-31
                moment = EXCEL_EPOCH + timedelta(days=float(number))
                # Excel keeps milliseconds at best; round away the float noise.
                return _round_to_millisecond(moment)
        return number

    def close(self) -> None:
        self._zip.close()


@dataclass(frozen=True, slots=True)
class _Tags:
    """Element names of the sheet, with its namespace (transitional or strict OOXML)."""

    namespace: str

    @property
    def c(self) -> str:
        return self.namespace + "c"

    @property
    def v(self) -> str:
        return self.namespace + "v"

    @property
    def f(self) -> str:
        return self.namespace + "f"

    @property
    def inline(self) -> str:
        return self.namespace + "is"

    @property
    def t(self) -> str:
        return self.namespace + "t"


def _pairs(parser: XMLPullParser[Element]) -> Iterator[tuple[str, Element]]:
    # With only start/end events asked for, every event is (name, element).
    return parser.read_events()  # type: ignore[return-value]


_CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\b([^>]*)>")
_REFERENCE = re.compile(rb'\br="([A-Za-z]{1,3})([0-9]{1,7})"')
_FORMULA_NEXT = re.compile(rb"\s*<(?:[A-Za-z_][\w.-]*:)?f\b")
_ERROR_TYPE = re.compile(rb'\bt="e"')


def _calamine_value(value: object) -> CellValue:
    if value is None or value == "":
        return None
    if isinstance(value, bool | str | datetime):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        # repr is the shortest text that reads back as the same double: what Excel shows.
        return Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return str(value)  # times of day and durations: text


def _round_to_millisecond(moment: datetime) -> datetime:
    micro = round(moment.microsecond / 1000) * 1000
    if micro >= 1_000_000:
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment.replace(microsecond=micro)


def _inside_phonetic(root: Element, node: Element) -> bool:
    """Phonetic runs (`rPh`, furigana) are annotations, not part of the text."""
    for phonetic in root:
        if _local(phonetic.tag) == "rPh" and any(n is node for n in phonetic.iter()):
            return True
    return False


def open_workbook(file: IO[bytes], limits: ReadLimits | None = None) -> Workbook:
    """Check the package (see module doc) and open its first sheet for reading."""
    limits = limits or ReadLimits()
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    if head.startswith(OLE2_MAGIC):
        raise WorkbookRejected(
            "not_xlsx",
            "This is an OLE2 file: a legacy .xls workbook or an encrypted one. Save it as an "
            "unprotected .xlsx workbook.",
        )
    if not head.startswith(ZIP_MAGIC):
        raise WorkbookRejected("not_xlsx", "The file is not an xlsx workbook.")
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise WorkbookRejected("not_xlsx", f"The file is not a readable zip: {exc}") from exc
    try:
        _check_package(archive, limits)
        return Workbook(archive, limits, file)
    except BaseException:
        archive.close()
        raise


def _check_package(archive: zipfile.ZipFile, limits: ReadLimits) -> None:
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise WorkbookRejected(
            "too_large", f"The workbook has more than {limits.max_entries} parts."
        )
    names = [entry.filename for entry in entries]
    if len(set(names)) != len(names):
        raise WorkbookRejected("malformed", "The workbook has two parts with the same name.")
    declared = 0
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise WorkbookRejected("encrypted", "The workbook is encrypted.")
        declared += entry.file_size
        if (
            entry.file_size > limits.ratio_floor_bytes
            and entry.file_size > entry.compress_size * limits.max_compression_ratio
        ):
            raise WorkbookRejected(
                "too_large",
                f"{entry.filename} inflates more than {limits.max_compression_ratio:g} times "
                "(a zip bomb?).",
            )
    if declared > limits.max_uncompressed_bytes:
        raise WorkbookRejected(
            "too_large",
            f"The workbook inflates to {declared} bytes; at most "
            f"{limits.max_uncompressed_bytes} are read.",
        )
    lowered = {name.lower() for name in names}
    if any(name.endswith("vbaproject.bin") for name in lowered):
        raise WorkbookRejected("macro_enabled", "Macro-enabled workbooks are not accepted.")
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise WorkbookRejected("not_xlsx", "The file is a zip, but not an xlsx workbook.")
    with archive.open("[Content_Types].xml") as part:
        content_types = part.read(min(archive.getinfo("[Content_Types].xml").file_size, 1 << 20))
    if b"macroEnabled" in content_types:
        raise WorkbookRejected("macro_enabled", "Macro-enabled workbooks are not accepted.")
    if not any(kind.encode() in content_types for kind in SHEET_MAIN_TYPES):
        raise WorkbookRejected("not_xlsx", "The file is an Office document, but not a workbook.")
