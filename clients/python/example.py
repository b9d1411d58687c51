"""Sign in and list the catalogue with the generated client (clients/python/tessera_client).

    PYTHONPATH=clients/python python clients/python/example.py http://127.0.0.1:8000 alice 'pass'
"""

from __future__ import annotations

import sys

from tessera_client import AuthenticatedClient, Client
from tessera_client.api.auth import login_api_v1_auth_login_post as login
from tessera_client.api.products import list_products_api_v1_products_get as list_products
from tessera_client.models import LoginIn, TokenPairOut


def main(base_url: str, username: str, password: str) -> int:
    signed_in = login.sync(client=Client(base_url), body=LoginIn(username, password))
    if not isinstance(signed_in, TokenPairOut):
        print(f"sign-in refused: {signed_in}", file=sys.stderr)
        return 1
    client = AuthenticatedClient(base_url, token=signed_in.access_token)
    page = list_products.sync(client=client, size=5)
    if page is None or not hasattr(page, "items"):
        print(f"listing refused: {page}", file=sys.stderr)
        return 1
    for product in page.items:
        print(product.sku, product.name, product.price, product.currency)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:4]))
