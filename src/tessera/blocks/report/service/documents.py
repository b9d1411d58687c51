"""Invoices and packing slips of orders, as PDF.

An invoice is rendered (in a thread) the first time it is asked for or when the order
changes (`order.*` events, handler `report.order_documents`), and kept as an order document
of the file block, so it is listed with the order's documents and downloaded like them. The
stored PDF is served while it still shows the order's current status; otherwise it is
rendered again and the old file deleted. Packing slips are for staff (`order:manage`) and are
rendered on demand, never stored where the buyer would see them. The order-paid mail carries
the invoice (`invoice_attachments`, a `lib.mail` attachment source).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any

from tessera.blocks.file import service as file_service
from tessera.blocks.order import service as order_service
from tessera.blocks.order.model.dto import OrderOut
from tessera.blocks.report import dao
from tessera.blocks.report.model.do import OrderDocumentDO
from tessera.blocks.report.service.common import ORDER_MANAGE, PDF_TYPE, log
from tessera.blocks.user import service as user_service
from tessera.lib.db import utcnow
from tessera.lib.errors import Forbidden, NotFound
from tessera.lib.mail import Attachment
from tessera.lib.office.pdf import DocumentKind, DocumentLine, OrderDocument, Party, render_document
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal

STATUS_LABELS = {
    "pending_payment": "待付款 Awaiting payment",
    "paid": "已付款 Paid",
    "shipped": "已发货 Shipped",
    "completed": "已完成 Completed",
    "cancelled": "已取消 Cancelled",
    "refunded": "已退款 Refunded",
}


async def _document(runtime: Runtime, order: OrderOut, kind: DocumentKind) -> OrderDocument:
    settings = runtime.settings.report
    try:
        user = await user_service.get_user(runtime=runtime, user_id=order.user_id)
        buyer_name = user.display_name or user.username
        contact = [user.email] + ([user.phone] if user.phone else [])
    except NotFound:
        buyer_name, contact = f"#{order.user_id}", []
    address = [line.strip() for line in (order.shipping_address or "").splitlines() if line.strip()]
    notes = []
    if order.carrier and order.tracking_no:
        notes.append(f"承运 Carrier: {order.carrier} · 运单号 Tracking no.: {order.tracking_no}")
    if order.note:
        notes.append(f"备注 Note: {order.note}")
    return OrderDocument(
        kind=kind,
        order_no=order.order_no,
        issued_at=order.updated_at if kind == "invoice" else utcnow(),
        seller=Party(settings.seller_name, tuple(settings.seller_lines)),
        buyer=Party(buyer_name, tuple(address + contact)),
        lines=[
            DocumentLine(
                sku=item.sku,
                name=item.name,
                quantity=item.quantity,
                unit_price=Decimal(item.unit_price),
                line_total=Decimal(item.line_total),
            )
            for item in order.items
        ],
        currency=order.currency,
        total=Decimal(order.total),
        tax_rate=settings.invoice_tax_rate,
        status=STATUS_LABELS.get(order.status, order.status),
        notes=tuple(notes),
    )


async def render_order_pdf(runtime: Runtime, order: OrderOut, kind: DocumentKind) -> bytes:
    document = await _document(runtime, order, kind)
    return await asyncio.to_thread(render_document, document, zone=runtime.settings.report.zone)


async def _read(runtime: Runtime, file_id: str) -> bytes | None:
    try:
        download = await file_service.open_generated_file(runtime=runtime, file_id=file_id)
    except NotFound:
        return None
    try:
        return b"".join([chunk async for chunk in download.body])
    finally:
        await download.body.aclose()


def _current(stored: OrderDocumentDO | None, order: OrderOut) -> bool:
    return (
        stored is not None
        and stored.order_status == order.status
        and stored.order_updated_at == order.updated_at
    )


async def invoice_pdf(runtime: Runtime, order: OrderOut) -> bytes:
    """The order's invoice: the stored one if it is current, else a fresh one (stored)."""
    async with runtime.db.read() as session:
        stored = await dao.get_document(session, order.id, "invoice")
    if stored is not None and _current(stored, order):
        cached = await _read(runtime, stored.file_id)
        if cached is not None:
            return cached
    pdf = await render_order_pdf(runtime, order, "invoice")
    await _store_invoice(runtime, order, pdf)
    return pdf


async def _store_invoice(runtime: Runtime, order: OrderOut, pdf: bytes) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield pdf

    stored_file = await file_service.store_generated_file(
        runtime=runtime,
        owner_id=order.user_id,
        chunks=chunks(),
        name=f"invoice-{order.order_no}.pdf",
        content_type=PDF_TYPE,
        purpose="order_document",
        order_id=order.id,
    )
    old_file: str | None = None
    async with runtime.db.transaction() as uow:
        row = await dao.get_document(uow.session, order.id, "invoice")
        if row is None:
            await dao.add_document(
                uow.session,
                OrderDocumentDO(
                    order_id=order.id,
                    kind="invoice",
                    file_id=stored_file.id,
                    order_status=order.status,
                    order_updated_at=order.updated_at,
                    created_at=utcnow(),
                ),
            )
        else:
            old_file = row.file_id
            row.file_id = stored_file.id
            row.order_status = order.status
            row.order_updated_at = order.updated_at
            row.created_at = utcnow()
    if old_file is not None and old_file != stored_file.id:
        await file_service.delete_generated_file(runtime=runtime, file_id=old_file)
    log.info("invoice_stored", order_id=order.id, file_id=stored_file.id, status=order.status)


async def order_document_pdf(
    *, runtime: Runtime, principal: Principal, order_id: int, kind: DocumentKind
) -> tuple[str, bytes]:
    """(file name, PDF) of an order's invoice (whoever may see the order) or packing slip
    (staff with `order:manage`)."""
    order = await order_service.get_order_for_viewer(
        runtime=runtime, principal=principal, order_id=order_id
    )
    if kind == "packing_slip":
        if not principal.has(ORDER_MANAGE):
            raise Forbidden(f"Missing permission {ORDER_MANAGE}.", code="auth.permission_denied")
        return f"packing-slip-{order.order_no}.pdf", await render_order_pdf(
            runtime, order, "packing_slip"
        )
    return f"invoice-{order.order_no}.pdf", await invoice_pdf(runtime, order)


async def refresh_invoice(*, runtime: Runtime, order_id: int, create: bool) -> None:
    """Outbox handler of `order.*`: keep a stored invoice in step with its order. `create`
    (order.paid) stores one if there is none yet; other changes only refresh an existing one,
    so placing an order costs no PDF."""
    if not create:
        async with runtime.db.read() as session:
            if await dao.get_document(session, order_id, "invoice") is None:
                return
    order = await order_service.get_order(runtime=runtime, order_id=order_id)
    if order is None:
        return
    await invoice_pdf(runtime, order)


async def invoice_attachments(
    runtime: Runtime, template: str, params: Mapping[str, Any]
) -> list[Attachment]:
    """Mail attachment source (`lib.mail`): the invoice of a paid order's mail."""
    order_id = params.get("order_id")
    if template != "order_paid" or not isinstance(order_id, int):
        return []
    order = await order_service.get_order(runtime=runtime, order_id=order_id)
    if order is None:
        return []
    pdf = await invoice_pdf(runtime, order)
    return [Attachment(f"invoice-{order.order_no}.pdf", pdf, PDF_TYPE)]
