"""OPTIONS and unsupported methods answer per RFC 9110, on fixed and parameterised paths."""

from __future__ import annotations

import pytest

from tests.conftest import Api


async def test_options_lists_every_method_of_the_path_without_a_token(api: Api):
    response = await api.options("/api/v1/products")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, OPTIONS, POST"
    item = await api.options("/api/v1/products/7")
    assert item.status_code == 204
    assert item.headers["allow"] == "DELETE, GET, OPTIONS, PATCH"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/v1/products", "GET, OPTIONS, POST"),
        # A fixed path's missing method must not fall through to /products/{product_id}.
        ("GET", "/api/v1/products/import", "OPTIONS, POST"),
        ("PATCH", "/api/v1/products/import-template.xlsx", "GET, OPTIONS"),
        ("PUT", "/api/v1/orders/5", "GET, OPTIONS"),
    ],
)
async def test_an_unsupported_method_is_405_with_allow(api: Api, method, path, allow):
    response = await api.request(method, path)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "route.method_not_allowed"
