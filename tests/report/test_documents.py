"""Order PDFs: the invoice (owner or staff) with Chinese names and totals, kept as an order
document and rendered again when the order changes; the packing slip for staff only."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.helpers import SignedIn, drain, signed_in
from tests.report.conftest import make_product, place


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def _order(api, staff: SignedIn, customer: SignedIn) -> dict:
    tea = await make_product(api, staff, name="西湖龙井 明前特级", price="88.00")
    cup = await make_product(api, staff, name="景德镇青花瓷杯", price="45.50")
    return await place(
        api, customer, (tea["id"], 2), (cup["id"], 1), shipping_address="上海市浦东新区"
    )


async def test_invoice_has_the_chinese_names_and_totals(api, staff: SignedIn, customer: SignedIn):
    order = await _order(api, staff, customer)
    response = await api.get(f"/api/v1/orders/{order['id']}/invoice.pdf", headers=customer.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = text_of(response.content)
    for expected in ("发票", order["order_no"], "西湖龙井 明前特级", "景德镇青花瓷杯", "176.00",
                     "221.50", "上海市浦东新区", "待付款"):  # fmt: skip
        assert expected in text, expected
    # Kept as an order document, listed with the order's documents.
    documents = await api.get(f"/api/v1/orders/{order['id']}/documents", headers=customer.headers)
    names = [item["name"] for item in documents.json()["items"]]
    assert names == [f"invoice-{order['order_no']}.pdf"]


async def test_invoice_is_rendered_again_when_the_order_changes(
    api, staff: SignedIn, customer: SignedIn
):
    order = await _order(api, staff, customer)
    url = f"/api/v1/orders/{order['id']}/invoice.pdf"
    first = await api.get(url, headers=customer.headers)
    again = await api.get(url, headers=customer.headers)
    assert again.content == first.content  # served from storage while current
    paid = await api.post(
        f"/api/v1/orders/{order['id']}/pay", json={"method": "sandbox"}, headers=customer.headers
    )
    assert paid.status_code == 200, paid.text
    await drain(api)  # order.paid -> report.order_documents re-renders it
    documents = await api.get(f"/api/v1/orders/{order['id']}/documents", headers=customer.headers)
    assert len(documents.json()["items"]) == 1  # the old one was replaced
    assert "已付款" in text_of((await api.get(url, headers=customer.headers)).content)


async def test_who_may_see_order_pdfs(api, staff: SignedIn, customer: SignedIn):
    order = await _order(api, staff, customer)
    stranger = await signed_in(api)
    invoice = f"/api/v1/orders/{order['id']}/invoice.pdf"
    slip = f"/api/v1/orders/{order['id']}/packing-slip.pdf"
    assert (await api.get(invoice, headers=stranger.headers)).status_code == 404
    assert (await api.get(invoice, headers=staff.headers)).status_code == 200
    assert (await api.get(slip, headers=customer.headers)).status_code == 403
    assert (await api.get(slip, headers=stranger.headers)).status_code == 404
    response = await api.get(slip, headers=staff.headers)
    assert response.status_code == 200
    text = text_of(response.content)
    assert "装箱单" in text
    assert "景德镇青花瓷杯" in text
    assert "88.00" not in text
    assert (
        await api.get("/api/v1/orders/999999/invoice.pdf", headers=staff.headers)
    ).status_code == 404


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils is not installed")
async def test_invoice_page_renders(api, staff: SignedIn, customer: SignedIn, tmp_path: Path):
    order = await _order(api, staff, customer)
    pdf = await api.get(f"/api/v1/orders/{order['id']}/invoice.pdf", headers=customer.headers)
    source = tmp_path / "invoice.pdf"
    source.write_bytes(pdf.content)

    def render() -> bytes:
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "40",
                "-f",
                "1",
                "-l",
                "1",
                str(source),
                str(tmp_path / "p"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return next(tmp_path.glob("p*.png")).read_bytes()

    assert (await asyncio.to_thread(render)).startswith(b"\x89PNG")


async def test_order_paid_mail_carries_the_invoice(notify_api, smtp_sink):
    async with notify_api() as api:
        staff = await signed_in(api, role="staff")
        customer = await signed_in(api)
        order = await _order(api, staff, customer)
        paid = await api.post(
            f"/api/v1/orders/{order['id']}/pay",
            json={"method": "sandbox"},
            headers=customer.headers,
        )
        assert paid.status_code == 200, paid.text
        for _ in range(3):  # order.paid -> notification queued -> mail sent
            await drain(api)
        [attachment] = [
            part for mail in smtp_sink.to(customer.email) for part in mail.iter_attachments()
        ]
        assert attachment.get_filename() == f"invoice-{order['order_no']}.pdf"
        assert attachment.get_content_type() == "application/pdf"
        text = text_of(attachment.get_content())
        assert "景德镇青花瓷杯" in text
        assert "已付款" in text
