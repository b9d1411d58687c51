"""The catalogue: staff manage products; everyone reads the active ones, cached and fresh."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from tests.helpers import unique
from tests.order.conftest import make_product


async def test_staff_creates_product_with_decimal_price(api, staff):
    product = await make_product(api, staff, price="12.5", currency="USD", description="x")
    assert product["price"] == "12.50"
    assert product["currency"] == "USD"
    assert product["status"] == "active"
    assert set(product) == {
        "id",
        "sku",
        "name",
        "description",
        "price",
        "currency",
        "stock",
        "status",
        "created_at",
        "updated_at",
    }
    default = await make_product(api, staff)
    assert default["currency"] == "CNY"
    fetched = await api.get(f"/api/v1/products/{product['id']}")
    assert fetched.json() == product


async def test_customer_cannot_create_product(api, customer):
    response = await api.post(
        "/api/v1/products",
        json={"sku": unique("S"), "name": "n", "price": "1.00", "stock": 1},
        headers=customer.headers,
    )
    assert response.status_code == 403
    assert (await api.post("/api/v1/products", json={})).status_code == 401


async def test_duplicate_sku_is_409(api, staff):
    product = await make_product(api, staff)
    response = await api.post(
        "/api/v1/products",
        json={"sku": product["sku"], "name": "again", "price": "1.00", "stock": 1},
        headers=staff.headers,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "product.sku_taken"


@pytest.mark.parametrize(
    "fields",
    [
        {"price": "0"},
        {"price": "-1.00"},
        {"price": "1.234"},
        {"price": 12.5},
        {"price": "abc"},
        {"stock": -1},
        {"currency": "usd"},
        {"status": "deleted"},
        {"sku": "../etc"},
        {"name": ""},
    ],
)
async def test_invalid_product_is_422(api, staff, fields):
    body = {"sku": unique("S"), "name": "n", "price": "1.00", "stock": 1, **fields}
    response = await api.post("/api/v1/products", json=body, headers=staff.headers)
    assert response.status_code == 422, fields


async def test_update_is_visible_at_once_despite_cache(api, staff):
    product = await make_product(api, staff)
    assert (await api.get(f"/api/v1/products/{product['id']}")).json()["price"] == "12.50"
    response = await api.patch(
        f"/api/v1/products/{product['id']}", json={"price": "9.99"}, headers=staff.headers
    )
    assert response.status_code == 200
    assert response.json()["price"] == "9.99"
    assert (await api.get(f"/api/v1/products/{product['id']}")).json()["price"] == "9.99"
    bad = await api.patch(
        f"/api/v1/products/{product['id']}", json={"price": None}, headers=staff.headers
    )
    assert bad.status_code == 422


async def test_soft_deleted_product_leaves_catalogue(api, staff):
    product = await make_product(api, staff)
    await api.get(f"/api/v1/products/{product['id']}")
    response = await api.delete(f"/api/v1/products/{product['id']}", headers=staff.headers)
    assert response.status_code == 204
    assert (await api.get(f"/api/v1/products/{product['id']}")).status_code == 404
    listed = (await api.get("/api/v1/products", params={"q": product["sku"]})).json()
    assert listed["total"] == 0
    again = await api.delete(f"/api/v1/products/{product['id']}", headers=staff.headers)
    assert again.status_code == 404


async def test_list_filters_sorts_and_hides_inactive_from_shoppers(api, staff):
    tag = unique("cat")
    cheap = await make_product(api, staff, name=f"{tag} cheap", price="1.00")
    mid = await make_product(api, staff, name=f"{tag} mid", price="5.00")
    dear = await make_product(api, staff, name=f"{tag} dear", price="50.00")
    hidden = await make_product(api, staff, name=f"{tag} hidden", price="3.00", status="inactive")

    page = (await api.get("/api/v1/products", params={"q": tag, "sort": "price"})).json()
    assert [p["id"] for p in page["items"]] == [cheap["id"], mid["id"], dear["id"]]
    desc = (await api.get("/api/v1/products", params={"q": tag, "sort": "-price"})).json()
    assert [p["id"] for p in desc["items"]] == [dear["id"], mid["id"], cheap["id"]]
    ranged = (
        await api.get("/api/v1/products", params={"q": tag, "min_price": "2", "max_price": "10"})
    ).json()
    assert [p["id"] for p in ranged["items"]] == [mid["id"]]
    paged = (
        await api.get("/api/v1/products", params={"q": tag, "sort": "price", "size": 2, "page": 2})
    ).json()
    assert paged["total"] == 3
    assert [p["id"] for p in paged["items"]] == [dear["id"]]

    shopper_inactive = (
        await api.get("/api/v1/products", params={"q": tag, "status": "inactive"})
    ).json()
    assert shopper_inactive["total"] == 0
    staff_inactive = (
        await api.get(
            "/api/v1/products", params={"q": tag, "status": "inactive"}, headers=staff.headers
        )
    ).json()
    assert [p["id"] for p in staff_inactive["items"]] == [hidden["id"]]


@pytest.mark.parametrize(
    "params",
    [{"sort": "secret"}, {"min_price": "-1"}, {"min_price": "5", "max_price": "1"}, {"size": 0}],
)
async def test_bad_list_parameters_are_422(api, params):
    response = await api.get("/api/v1/products", params=params)
    assert response.status_code == 422, params


async def test_concurrent_cache_misses_read_the_database_once(api, staff):
    product = await make_product(api, staff)
    await api.runtime.cache.delete(api.runtime.cache.key("order", "product", product["id"]))
    reads: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM product" in statement:
            reads.append(statement)

    engine = api.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        responses = await asyncio.gather(
            *(api.get(f"/api/v1/products/{product['id']}") for _ in range(20))
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert {response.status_code for response in responses} == {200}
    assert len(reads) == 1
