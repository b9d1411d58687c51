"""POST/GET /api/v1/orders/{id}/documents on every storage backend: the order's owner and
staff may attach and read documents; anyone else gets the order's 404. Serving the file block
alone brings in the order block it needs for them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Api, Backend, make_settings, open_api
from tests.file.conftest import StorageCase
from tests.file.helpers import pdf_bytes, upload
from tests.helpers import SignedIn, signed_in, unique


async def _order_of(api: Api, customer: SignedIn) -> int:
    admin = await signed_in(api, role="admin")
    product = await api.post(
        "/api/v1/products",
        json={"sku": unique("sku"), "name": "Widget", "price": "9.90", "stock": 10},
        headers=admin.headers,
    )
    assert product.status_code == 201, product.text
    order = await api.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product.json()["id"], "quantity": 1}]},
        headers=customer.headers,
    )
    assert order.status_code == 201, order.text
    return int(order.json()["id"])


async def test_order_documents_follow_the_orders_rules(
    files_api: Api, storage_case: StorageCase
) -> None:
    owner = await signed_in(files_api)
    staff = await signed_in(files_api, role="staff")
    stranger = await signed_in(files_api)
    order_id = await _order_of(files_api, owner)
    path = f"/api/v1/orders/{order_id}/documents"

    mine = await upload(files_api, owner.headers, pdf_bytes(1200, 1), path=path, filename="po.pdf")
    assert mine.status_code == 201, mine.text
    assert mine.json()["purpose"] == "order_document"
    assert mine.json()["order_id"] == order_id
    invoice = pdf_bytes(900, 2)
    theirs = await upload(files_api, staff.headers, invoice, path=path, filename="invoice.pdf")
    assert theirs.status_code == 201

    for reader in (owner, staff):
        listed = await files_api.get(path, headers=reader.headers)
        assert listed.status_code == 200
        assert {item["name"] for item in listed.json()["items"]} == {"po.pdf", "invoice.pdf"}
    # The owner reads the document staff attached to their order.
    content = await files_api.get(theirs.json()["download_url"], headers=owner.headers)
    assert content.status_code == 200
    assert content.content == invoice

    for response in (
        await files_api.get(path, headers=stranger.headers),
        await upload(files_api, stranger.headers, pdf_bytes(100), path=path),
        await files_api.get(theirs.json()["download_url"], headers=stranger.headers),
    ):
        assert response.status_code == 404
    assert await storage_case.count() == 2


async def test_documents_of_a_missing_order(files_api: Api, storage_case: StorageCase) -> None:
    user = await signed_in(files_api)
    response = await upload(
        files_api, user.headers, pdf_bytes(100), path="/api/v1/orders/999999999/documents"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "order.not_found"
    assert await storage_case.count() == 0


async def test_file_block_alone_brings_the_order_block_along(
    backend: Backend, tmp_path: Path
) -> None:
    settings = make_settings(backend, tmp_path, storage={"local_root": tmp_path / "files"})
    async with open_api(settings, blocks=["file"]) as api:
        owner = await signed_in(api)
        order_id = await _order_of(api, owner)
        path = f"/api/v1/orders/{order_id}/documents"
        stored = await upload(api, owner.headers, pdf_bytes(300), path=path)
        assert stored.status_code == 201, stored.text
        listed = await api.get(path, headers=owner.headers)
        assert [item["id"] for item in listed.json()["items"]] == [stored.json()["id"]]
