"""Invoices and packing slips: the Chinese names and the totals are in the PDF's text, the
order number is in a QR code, and the first page renders (with poppler's pdftoppm, if the
machine has it: `.ci/run` installs it)."""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from tessera.lib.office.pdf import FONT_DIR, DocumentLine, OrderDocument, Party, render_document

LINES = [
    DocumentLine("TEA-1", "西湖龙井 West Lake Longjing", 2, Decimal("88.00"), Decimal("176.00")),
    DocumentLine("CUP-7", "景德镇青花瓷杯", 1, Decimal("45.50"), Decimal("45.50")),
]
DOCUMENT = OrderDocument(
    kind="invoice",
    order_no="T202611260000042",
    issued_at=datetime(2026, 11, 26, 8, 30, tzinfo=UTC),
    seller=Party("某某商城有限公司", ("上海市浦东新区世纪大道 1 号", "税号 91310000000000000X")),
    buyer=Party("张三", ("北京市海淀区中关村大街 27 号",)),
    lines=LINES,
    currency="CNY",
    total=Decimal("221.50"),
    tax_rate=Decimal("0.13"),
)


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_invoice_text_has_chinese_names_and_totals():
    pdf = render_document(DOCUMENT)
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    for expected in ["发票", "T202611260000042", "西湖龙井", "景德镇青花瓷杯", "某某商城有限公司",
                     "张三", "176.00", "45.50", "221.50", "合计"]:  # fmt: skip
        assert expected in text, expected
    # 221.50 includes 13% tax: net 196.02, tax 25.48.
    assert DOCUMENT.subtotal == Decimal("196.02")
    assert DOCUMENT.tax == Decimal("25.48")
    assert "196.02" in text
    assert "25.48" in text


def test_packing_slip_has_no_prices():
    pdf = render_document(dataclasses.replace(DOCUMENT, kind="packing_slip"))
    text = _text(pdf)
    assert "装箱单" in text
    assert "景德镇青花瓷杯" in text
    assert "88.00" not in text
    assert "221.50" not in text


def test_long_orders_continue_on_more_pages():
    many = [LINES[0]] * 120
    pdf = render_document(dataclasses.replace(DOCUMENT, lines=many, total=Decimal("21120.00")))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    assert "编号 SKU" in reader.pages[-1].extract_text()  # the header repeats


def test_the_font_ships_with_its_licence():
    assert (FONT_DIR / "wqy-microhei.ttc").stat().st_size > 1_000_000
    assert "Apache License" in (FONT_DIR / "LICENSE-Apache-2.0").read_text()
    assert "WenQuanYi" in (FONT_DIR / "COPYRIGHT-wqy-microhei").read_text()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
def test_first_page_renders_to_png(tmp_path: Path):
    source = tmp_path / "invoice.pdf"
    source.write_bytes(render_document(DOCUMENT))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(source), str(tmp_path / "p")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    page = next(tmp_path.glob("p*.png")).read_bytes()
    assert page.startswith(b"\x89PNG")
    from PIL import Image

    image = Image.open(io.BytesIO(page)).convert("L")
    # Something is drawn: the page is not blank white (text, lines, the QR code).
    assert image.getextrema()[0] < 64
