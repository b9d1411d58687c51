"""The xlsx engines and the CSV writer, read back with openpyxl and the csv module: typed
cells, number formats, dates as dates, frozen header, auto-filter, formula-looking text kept
as text, Chinese text, a new sheet past the row limit, and constant memory in the stream."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import openpyxl
import pytest

from tessera.lib.office import Column, TableStream, open_csv, open_xlsx
from tessera.lib.office.cells import excel_serial, looks_like_formula, neutralise_csv
from tessera.lib.office.xlsx import column_letter, safe_sheet_name, xml_text

COLUMNS = [
    Column("id", "int"),
    Column("名称 Name", "text"),
    Column("total", "money"),
    Column("created_at", "datetime"),
    Column("day", "date"),
    Column("paid", "bool"),
    Column("note", "auto"),
]
DANGEROUS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def _rows() -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = [
        (1, "绿茶 Green tea", Decimal("12.50"), datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
         date(2026, 1, 2), True, 3.5),
        (2, "  padded  ", Decimal("-0.10"), None, None, False, "plain"),
        (3, "a<b>&c\x01_x0041_", Decimal("1234567.89"), datetime(2026, 1, 1, 23, 59, 59,
         tzinfo=UTC), date(2026, 12, 31), None, None),
    ]  # fmt: skip
    for i, text in enumerate(DANGEROUS, start=4):
        rows.append((i, text, Decimal("1.00"), None, None, None, text))
    return rows


def _write(engine: str, rows: list[tuple[object, ...]], **options: object) -> bytes:
    buffer = io.BytesIO()
    writer = open_xlsx(buffer, COLUMNS, engine=engine, **options)  # type: ignore[arg-type]
    writer.write_rows(rows)
    writer.close()
    return buffer.getvalue()


@pytest.mark.parametrize("engine", ["tessera", "xlsxwriter"])
def test_xlsx_cells_read_back_typed_and_formatted(engine: str):
    book = openpyxl.load_workbook(io.BytesIO(_write(engine, _rows())))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:G{len(_rows()) + 1}"
    assert [cell.value for cell in sheet[1]] == [column.header for column in COLUMNS]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.column_dimensions["D"].width >= 19  # a datetime fits

    first = sheet[2]
    assert first[0].value == 1
    assert first[0].data_type == "n"
    assert first[1].value == "绿茶 Green tea"
    assert first[2].value == 12.5
    assert first[2].number_format == "#,##0.00"
    assert first[3].value == datetime(2026, 11, 26, 8, 0)
    assert first[3].is_date
    assert first[3].number_format == "yyyy-mm-dd hh:mm:ss"
    assert first[4].value == datetime(2026, 1, 2)
    assert first[4].number_format == "yyyy-mm-dd"
    assert first[5].value is True
    assert first[6].value == 3.5

    second = sheet[3]
    assert second[1].value == "  padded  "  # white space kept
    assert second[2].value == -0.1
    assert second[3].value is None
    assert second[5].value is False

    third = sheet[4]
    assert third[1].value.startswith("a<b>&c")
    assert third[2].value == 1234567.89

    for row, text in zip(sheet.iter_rows(min_row=5), DANGEROUS, strict=True):
        for cell in (row[1], row[6]):
            # As Excel shows it: OOXML `_xHHHH_` escapes decoded (openpyxl leaves them).
            shown = re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), cell.value)
            assert shown.replace("\r", "\n") == text.replace("\r", "\n")
            assert cell.data_type == "s"  # text, never a formula
            assert cell.quotePrefix  # stays text when edited in Excel


@pytest.mark.parametrize("engine", ["tessera", "xlsxwriter"])
def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(engine: str):
    rows = [(i, f"n{i}", Decimal(i), None, None, None, None) for i in range(1, 8)]
    book = openpyxl.load_workbook(io.BytesIO(_write(engine, rows, max_rows_per_sheet=3)))
    assert book.sheetnames == ["Sheet1", "Sheet1 (2)", "Sheet1 (3)"]
    ids = [
        cell.value for sheet in book for cell in sheet["A"][1:]
    ]  # every sheet repeats the header
    assert ids == list(range(1, 8))
    assert book["Sheet1 (3)"].auto_filter.ref == "A1:G2"


@pytest.mark.parametrize("engine", ["tessera", "xlsxwriter"])
def test_empty_export_is_a_workbook_with_its_header(engine: str):
    book = openpyxl.load_workbook(io.BytesIO(_write(engine, [])))
    assert [cell.value for cell in book.active[1]] == [column.header for column in COLUMNS]
    assert book.active.max_row == 1


def test_highlighted_cells_are_filled():
    buffer = io.BytesIO()
    writer = open_xlsx(buffer, COLUMNS)
    writer.write_row((1, "bad", Decimal("1"), None, None, None, "why"), highlight={1})
    writer.close()
    row = openpyxl.load_workbook(buffer).active[2]
    assert row[1].fill.fgColor.rgb == "FFFFC7CE"
    assert row[0].fill.fill_type is None


def test_zone_shifts_aware_datetimes():
    shanghai = timezone(timedelta(hours=8))
    buffer = io.BytesIO()
    writer = open_xlsx(buffer, COLUMNS, zone=shanghai)
    writer.write_rows([(1, "x", None, datetime(2026, 1, 1, 20, 0, tzinfo=UTC), None, None, None)])
    writer.close()
    assert openpyxl.load_workbook(buffer).active["D2"].value == datetime(2026, 1, 2, 4, 0)


def test_csv_is_excel_friendly_and_neutralises_formulas():
    buffer = io.BytesIO()
    writer = open_csv(buffer, COLUMNS)
    writer.write_rows(_rows())
    writer.close()
    raw = buffer.getvalue()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads Chinese correctly
    assert b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == [column.header for column in COLUMNS]
    assert rows[1] == ["1", "绿茶 Green tea", "12.50", "2026-11-26 08:00:00", "2026-01-02",
                       "TRUE", "3.5"]  # fmt: skip
    assert rows[2][2] == "-0.10"  # a negative amount stays a number
    for row, text in zip(rows[4:], DANGEROUS, strict=True):
        assert row[1] == "'" + text
        assert row[6] == "'" + text


def test_formula_rules():
    for text in DANGEROUS:
        assert looks_like_formula(text)
        assert neutralise_csv(text) == "'" + text
    for text in ["plain", "1+1", "", "中文=", " =x"]:
        assert not looks_like_formula(text)
        assert neutralise_csv(text) == text


def test_small_helpers():
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert safe_sheet_name("a/b:c*d?[e]" + "x" * 40) == ("a_b_c_d__e_" + "x" * 40)[:31]
    assert safe_sheet_name("''") == "Sheet1"
    assert excel_serial(date(1900, 3, 1)) == 61.0
    assert excel_serial(datetime(2026, 1, 1, 12, tzinfo=UTC)) == 46023.5
    assert xml_text("a_x0041_\x07") == "a_x005F_x0041__x0007_"


async def test_table_stream_writes_in_a_thread_with_bounded_buffers():
    produced = 0

    async def batches():
        nonlocal produced
        for start in range(0, 20_000, 1000):
            produced += 1000
            yield [(i, f"名 {i}", Decimal(i), None, None, None, None)
                   for i in range(start, start + 1000)]  # fmt: skip

    stream = TableStream(
        batches(), lambda target: open_xlsx(target, COLUMNS), chunk_bytes=16 * 1024
    )
    chunks: list[bytes] = []
    async for chunk in stream:
        # The producer never runs far ahead of the consumer: backpressure works.
        assert produced - stream.rows_written <= 4000
        chunks.append(chunk)
        await asyncio.sleep(0)
    assert len(chunks) > 2  # bytes left before the last row was read
    book = openpyxl.load_workbook(io.BytesIO(b"".join(chunks)), read_only=True)
    assert sum(1 for _ in book.active.iter_rows(values_only=True)) == 20_001
    assert stream.rows_written == 20_000


async def test_table_stream_surfaces_errors_of_the_row_source():
    async def batches():
        yield [(1, "x", None, None, None, None, None)]
        raise RuntimeError("database went away")

    stream = TableStream(batches(), lambda target: open_xlsx(target, COLUMNS))
    with pytest.raises(RuntimeError, match="database went away"):
        async for _ in stream:
            pass


async def test_table_stream_stops_the_writer_when_the_consumer_leaves():
    async def batches():
        for _ in range(10_000):
            yield [(1, "x" * 100, None, None, None, None, None)] * 500

    stream = TableStream(batches(), lambda target: open_xlsx(target, COLUMNS), chunk_bytes=1024)
    iterator = stream.__aiter__()
    await iterator.__anext__()
    await iterator.aclose()  # joins the writer thread; would hang if it did not stop
    assert stream.rows_written < 10_000 * 500
