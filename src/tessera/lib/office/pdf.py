"""Invoices and packing slips as PDF (reportlab), with Chinese text in a font shipped here.

`render_document(document)` turns an `OrderDocument` (plain data: seller, buyer, lines, money
as `Decimal`) into PDF bytes. It is CPU work: call it from a thread, never on the event loop.

The font is WenQuanYi Micro Hei (`fonts/wqy-microhei.ttc`, Apache-2.0; licence and copyright
beside it), registered once per process and embedded as a subset, so no system font is needed
and a document carries only the glyphs it uses. Text extraction works (the subset carries a
ToUnicode map). The order number is printed as text and as a QR code.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

FONT_DIR = Path(__file__).parent / "fonts"
FONT_FILE = FONT_DIR / "wqy-microhei.ttc"
FONT_NAME = "WenQuanYiMicroHei"
CENT = Decimal("0.01")

DocumentKind = Literal["invoice", "packing_slip"]


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    lines: tuple[str, ...] = ()  # address, tax number, contact


@dataclass(frozen=True, slots=True)
class DocumentLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True, slots=True)
class OrderDocument:
    kind: DocumentKind
    order_no: str
    issued_at: datetime
    seller: Party
    buyer: Party
    lines: Sequence[DocumentLine]
    currency: str
    total: Decimal  # tax included, as the buyer paid it
    tax_rate: Decimal = Decimal("0")
    status: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def tax(self) -> Decimal:
        """The tax contained in the (tax-inclusive) total, rounded to the cent."""
        if self.tax_rate <= 0:
            return Decimal("0.00")
        net = (self.total / (1 + self.tax_rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        return (self.total - net).quantize(CENT)

    @property
    def subtotal(self) -> Decimal:
        return (self.total - self.tax).quantize(CENT)


_font_lock = threading.Lock()
_font_ready = False


def register_font() -> str:
    """Register the shipped CJK font with reportlab once per process; returns its name."""
    global _font_ready
    if _font_ready:
        return FONT_NAME
    with _font_lock:
        if not _font_ready:
            from reportlab.pdfbase import pdfmetrics
            from reportlab.pdfbase.ttfonts import TTFont

            pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_FILE), subfontIndex=0))
            _font_ready = True
    return FONT_NAME


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


_TITLES = {"invoice": "发票 Invoice", "packing_slip": "装箱单 Packing slip"}


def render_document(document: OrderDocument, *, zone: tzinfo = UTC) -> bytes:
    """The PDF bytes of an invoice or a packing slip (A4, continued over pages as needed)."""
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_font()
    invoice = document.kind == "invoice"
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=10)
    title = ParagraphStyle("title", parent=base, fontSize=18, leading=22)
    heading = ParagraphStyle("heading", parent=base, fontSize=10, leading=13)
    right = ParagraphStyle("right", parent=base, alignment=2)

    def para(text: str, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(escape(text), style)

    def cell(text: str, width: float, style: ParagraphStyle = base) -> Any:
        # A Paragraph (which wraps) only when the text needs it: most item names fit on
        # one line, and plain strings are several times cheaper to lay out.
        if stringWidth(text, font, style.fontSize) <= width - 7:
            return text
        return para(text, style)

    issued = document.issued_at
    if issued.tzinfo is not None:
        issued = issued.astimezone(zone)

    qr = QrCodeWidget(document.order_no, barLevel="M")
    left, bottom, right_edge, top = qr.getBounds()
    size = 28 * mm
    drawing = Drawing(size, size, transform=[size / (right_edge - left), 0, 0,
                                             size / (top - bottom), 0, 0])  # fmt: skip
    drawing.add(qr)

    meta = [
        para(_TITLES[document.kind], title),
        para(f"订单号 Order no.: {document.order_no}", heading),
        para(f"日期 Date: {issued:%Y-%m-%d %H:%M}", base),
    ]
    if document.status:
        meta.append(para(f"状态 Status: {document.status}", base))
    header = Table([[meta, drawing]], colWidths=[130 * mm, 40 * mm])
    header.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT")])
    )

    def party_block(label: str, party: Party) -> list[Paragraph]:
        return [para(label, heading), para(party.name, base)] + [
            para(line, small) for line in party.lines
        ]

    parties = Table(
        [
            [
                party_block("销售方 Seller", document.seller),
                party_block("购买方 Buyer", document.buyer),
            ]
        ],
        colWidths=[85 * mm, 85 * mm],
    )
    parties.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (0, 0), 0.5, colors.grey),
                ("BOX", (1, 0), (1, 0), 0.5, colors.grey),
            ]
        )
    )

    if invoice:
        head = ["#", "编号 SKU", "商品 Item", "数量 Qty", "单价 Unit price", "金额 Amount"]
        widths = [8 * mm, 30 * mm, 62 * mm, 18 * mm, 26 * mm, 26 * mm]
        rows: list[list[Any]] = [[para(text, small) for text in head]]
        for number, line in enumerate(document.lines, 1):
            rows.append(
                [
                    str(number),
                    cell(line.sku, widths[1], small),
                    cell(line.name, widths[2]),
                    str(line.quantity),
                    _money(line.unit_price),
                    _money(line.line_total),
                ]
            )
    else:
        head = ["#", "编号 SKU", "商品 Item", "数量 Qty", "已拣 Picked"]
        widths = [8 * mm, 34 * mm, 90 * mm, 18 * mm, 20 * mm]
        rows = [[para(text, small) for text in head]]
        for number, line in enumerate(document.lines, 1):
            rows.append(
                [
                    str(number),
                    cell(line.sku, widths[1], small),
                    cell(line.name, widths[2]),
                    str(line.quantity),
                    "",
                ]
            )
    items = Table(rows, colWidths=widths, repeatRows=1)
    items.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("FONTSIZE", (1, 1), (1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#D9E1F2")),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
                ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )

    story: list[Any] = [header, Spacer(1, 4 * mm), parties, Spacer(1, 6 * mm), items]
    if invoice:
        rate = f"{(document.tax_rate * 100).normalize():f}%"
        totals = Table(
            [
                [para("小计 Subtotal", right), _money(document.subtotal)],
                [para(f"税额 Tax ({rate})", right), _money(document.tax)],
                [para(f"合计 Total ({document.currency})", right), _money(document.total)],
            ],
            colWidths=[144 * mm, 26 * mm],
        )
        totals.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                    ("LINEABOVE", (0, 2), (-1, 2), 0.75, colors.black),
                    ("FONTSIZE", (0, 2), (-1, 2), 11),
                ]
            )
        )
        story += [Spacer(1, 2 * mm), totals]
    else:
        count = sum(line.quantity for line in document.lines)
        story += [Spacer(1, 3 * mm), para(f"件数合计 Items in total: {count}", heading)]
    for note in document.notes:
        story += [Spacer(1, 2 * mm), para(note, small)]

    output = io.BytesIO()
    pdf = SimpleDocTemplate(
        output,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{_TITLES[document.kind]} {document.order_no}",
        author=document.seller.name,
        creator="Tessera",
        invariant=1,  # the same document renders to the same bytes
    )

    def page_number(canvas: Any, doc: Any) -> None:
        canvas.setFont(font, 8)
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"{document.order_no} · {doc.page}")

    pdf.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return output.getvalue()
