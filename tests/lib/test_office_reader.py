"""The import reader: typed values, formulas reported (never evaluated), and every way a
package is refused before its XML is parsed."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest

from tessera.lib.office import Column, ReadLimits, WorkbookRejected, open_workbook, open_xlsx


def _openpyxl_book(*rows: list[object]) -> io.BytesIO:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def _rebuilt(source: io.BytesIO, **replace: bytes) -> io.BytesIO:
    """A copy of the package with some parts replaced or added."""
    output = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename not in replace:
                new.writestr(info, old.read(info))
        for name, data in replace.items():
            new.writestr(name, data)
    output.seek(0)
    return output


ENGINES = pytest.mark.parametrize("engine", ["calamine", "stream"])


@ENGINES
def test_values_come_back_typed(engine: str):
    source = _openpyxl_book(
        ["sku", "name", "price", "stock", "when", "flag"],
        ["A-1", "绿茶", 12.5, 3, datetime(2026, 1, 2, 3, 4, 5), True],
        [],
        ["A-2", "  spaced ", "0.10", None, None, False],
    )
    rows = list(open_workbook(source).rows(engine=engine))  # type: ignore[arg-type]
    assert [row.number for row in rows] == [1, 2, 4]  # the empty row is skipped
    assert rows[1].values == ["A-1", "绿茶", Decimal("12.5"), Decimal("3"),
                              datetime(2026, 1, 2, 3, 4, 5), True]  # fmt: skip
    assert rows[2].values[:3] == ["A-2", "  spaced ", "0.10"]


@ENGINES
def test_formulas_are_reported_not_evaluated(engine: str):
    source = _openpyxl_book(["a", "b"], ["=1+1", 2], ["x", "=SUM(B2:B2)"])
    rows = list(open_workbook(source).rows(engine=engine))  # type: ignore[arg-type]
    assert rows[1].formulas == {0}
    assert rows[2].formulas == {1}
    assert rows[1].values[0] in ("", None)  # openpyxl saves no cached value


@ENGINES
def test_a_sheet_that_starts_further_in(engine: str):
    book = openpyxl.Workbook()
    book.active["C3"] = "x"
    book.active["D3"] = 1.5
    book.active["D5"] = "=1+1"
    book.active["E6"] = 7
    buffer = io.BytesIO()
    book.save(buffer)
    rows = list(open_workbook(buffer).rows(engine=engine))  # type: ignore[arg-type]
    assert [(row.number, row.values) for row in rows] == [
        (3, [None, None, "x", Decimal("1.5")]),
        (5, [None, None, None, None]),
        (6, [None, None, None, None, Decimal(7)]),
    ]
    assert rows[1].formulas == {3}


@ENGINES
def test_reads_our_own_writer_and_inline_strings(engine: str):
    buffer = io.BytesIO()
    writer = open_xlsx(buffer, [Column("id", "int"), Column("text", "text")])
    writer.write_rows([(1, "=not a formula"), (2, "中文 <&>")])
    writer.close()
    buffer.seek(0)
    rows = list(open_workbook(buffer).rows(engine=engine))  # type: ignore[arg-type]
    assert rows[1].values == [Decimal(1), "=not a formula"]
    assert not rows[1].formulas
    assert rows[2].values == [Decimal(2), "中文 <&>"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"sku,name\nA,B\n", "not_xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "not_xlsx"),  # .xls or encrypted
        (b"PK\x03\x04garbage", "not_xlsx"),
    ],
)
def test_not_a_workbook(data: bytes, code: str):
    with pytest.raises(WorkbookRejected) as caught:
        open_workbook(io.BytesIO(data))
    assert caught.value.code == code


def test_a_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(WorkbookRejected) as caught:
        open_workbook(buffer)
    assert caught.value.code == "not_xlsx"


def test_macros_are_refused():
    source = _openpyxl_book(["a"])
    with pytest.raises(WorkbookRejected) as caught:
        open_workbook(_rebuilt(source, **{"xl/vbaProject.bin": b"\0" * 10}))
    assert caught.value.code == "macro_enabled"
    types = zipfile.ZipFile(_openpyxl_book(["a"])).read("[Content_Types].xml")
    macro_types = types.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml")
    with pytest.raises(WorkbookRejected) as caught:
        open_workbook(_rebuilt(_openpyxl_book(["a"]), **{"[Content_Types].xml": macro_types}))
    assert caught.value.code == "macro_enabled"


def test_zip_bombs_are_refused_before_parsing():
    # 50 MiB of zeros deflate to ~50 KiB: a ratio of ~1000.
    bomb = _rebuilt(_openpyxl_book(["a"]), **{"xl/media/bomb.bin": b"\0" * (50 * 1024 * 1024)})
    with pytest.raises(WorkbookRejected) as caught:
        open_workbook(bomb)
    assert caught.value.code == "too_large"
    assert "inflates more than" in caught.value.detail
    # The sum of declared sizes is capped too, whatever the ratio.
    with pytest.raises(WorkbookRejected) as caught:
        open_workbook(_openpyxl_book(["a"] * 10), ReadLimits(max_uncompressed_bytes=1000))
    assert caught.value.code == "too_large"


def test_inflated_bytes_are_counted_while_reading():
    source = _openpyxl_book(*[[f"row {i}", i] for i in range(2000)])
    limits = ReadLimits(max_uncompressed_bytes=10**9)
    workbook = open_workbook(source, limits)
    object.__setattr__(limits, "max_uncompressed_bytes", 60_000)  # as if the directory lied
    with pytest.raises(WorkbookRejected) as caught:
        list(workbook.rows())
    assert caught.value.code == "too_large"


def test_doctype_is_refused():
    sheet = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData/></worksheet>"
    )
    source = _rebuilt(_openpyxl_book(["a"]), **{"xl/worksheets/sheet1.xml": sheet})
    with pytest.raises(WorkbookRejected) as caught:
        list(open_workbook(source).rows())
    assert caught.value.code == "malformed"


@ENGINES
def test_row_and_column_limits(engine: str):
    source = _openpyxl_book(*[[i] for i in range(11)])
    with pytest.raises(WorkbookRejected) as caught:
        list(open_workbook(source, ReadLimits(max_rows=10)).rows(engine=engine))  # type: ignore[arg-type]
    assert caught.value.code == "too_many_rows"
    wide = _openpyxl_book(list(range(30)))
    with pytest.raises(WorkbookRejected) as caught:
        list(open_workbook(wide, ReadLimits(max_columns=20)).rows(engine=engine))  # type: ignore[arg-type]
    assert caught.value.code == "too_many_columns"


def test_encrypted_entries_are_refused():
    source = _openpyxl_book(["a"])
    raw = bytearray(source.getvalue())
    # Set the "encrypted" flag of every central directory entry.
    position = raw.find(b"PK\x01\x02")
    while position != -1:
        raw[position + 8] |= 0x01
        position = raw.find(b"PK\x01\x02", position + 4)
    with pytest.raises(WorkbookRejected) as caught:
        open_workbook(io.BytesIO(bytes(raw)))
    assert caught.value.code == "encrypted"
