"""The generated Python client (clients/python/tessera_client) talks to the real app: its
models parse what the server answers, problems included."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import Api
from tests.helpers import PASSWORD, signed_in, unique

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))

from tessera_client import AuthenticatedClient, Client
from tessera_client.api.auth import login_api_v1_auth_login_post as login
from tessera_client.api.auth import register_api_v1_auth_register_post as register
from tessera_client.api.products import (
    create_product_api_v1_products_post as create_product,
)
from tessera_client.api.products import (
    list_products_api_v1_products_get as list_products,
)
from tessera_client.models import (
    LoginIn,
    PageProductOut,
    Problem,
    ProductCreateIn,
    ProductOut,
    RegisterIn,
    TokenPairOut,
    UserOut,
)


def _args(api: Api) -> dict[str, object]:
    assert isinstance(api._transport, httpx.ASGITransport)
    return {"transport": api._transport}


@pytest.mark.backend_only("sqlite")
async def test_the_generated_client_signs_in_creates_and_lists(api: Api):
    anonymous = Client("http://testserver", httpx_args=_args(api))
    name = unique()
    created = await register.asyncio(
        client=anonymous,
        body=RegisterIn(username=name, email=f"{name}@example.com", password=PASSWORD),
    )
    assert isinstance(created, UserOut)
    assert created.username == name

    refused = await login.asyncio(client=anonymous, body=LoginIn(name, "wrong-password-1"))
    assert isinstance(refused, Problem)
    assert refused.code == "auth.invalid_credentials"

    staff = await signed_in(api, role="staff")
    as_staff = AuthenticatedClient("http://testserver", token=staff.access, httpx_args=_args(api))
    product = await create_product.asyncio(
        client=as_staff,
        body=ProductCreateIn(sku=unique("S"), name="Tea", price="12.50", stock=3),
    )
    assert isinstance(product, ProductOut)
    assert product.price == "12.50"

    tokens = await login.asyncio(client=anonymous, body=LoginIn(name, PASSWORD))
    assert isinstance(tokens, TokenPairOut)
    shopper = AuthenticatedClient(
        "http://testserver", token=tokens.access_token, httpx_args=_args(api)
    )
    page = await list_products.asyncio(client=shopper, q="Tea", size=100)
    assert isinstance(page, PageProductOut)
    assert product.id in [item.id for item in page.items]
