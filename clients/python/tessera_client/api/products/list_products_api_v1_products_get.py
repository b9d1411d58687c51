from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.list_products_api_v1_products_get_sort import (
    ListProductsApiV1ProductsGetSort,
)
from ...models.list_products_api_v1_products_get_status_type_0 import (
    ListProductsApiV1ProductsGetStatusType0,
)
from ...models.page_product_out import PageProductOut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    q: None | str | Unset = UNSET,
    min_price: None | str | Unset = UNSET,
    max_price: None | str | Unset = UNSET,
    status: ListProductsApiV1ProductsGetStatusType0 | None | Unset = UNSET,
    sort: ListProductsApiV1ProductsGetSort
    | Unset = ListProductsApiV1ProductsGetSort.VALUE_3,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_q: None | str | Unset
    if isinstance(q, Unset):
        json_q = UNSET
    else:
        json_q = q
    params["q"] = json_q

    json_min_price: None | str | Unset
    if isinstance(min_price, Unset):
        json_min_price = UNSET
    else:
        json_min_price = min_price
    params["min_price"] = json_min_price

    json_max_price: None | str | Unset
    if isinstance(max_price, Unset):
        json_max_price = UNSET
    else:
        json_max_price = max_price
    params["max_price"] = json_max_price

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, ListProductsApiV1ProductsGetStatusType0):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    json_sort: str | Unset = UNSET
    if not isinstance(sort, Unset):
        json_sort = sort.value

    params["sort"] = json_sort

    params["page"] = page

    params["size"] = size

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/products",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageProductOut | Problem | None:
    if response.status_code == 200:
        response_200 = PageProductOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[PageProductOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    min_price: None | str | Unset = UNSET,
    max_price: None | str | Unset = UNSET,
    status: ListProductsApiV1ProductsGetStatusType0 | None | Unset = UNSET,
    sort: ListProductsApiV1ProductsGetSort
    | Unset = ListProductsApiV1ProductsGetSort.VALUE_3,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> Response[PageProductOut | Problem]:
    """List Products

     The catalogue (public). Staff with `product:manage` also see inactive products.

    Args:
        q (None | str | Unset):
        min_price (None | str | Unset):
        max_price (None | str | Unset):
        status (ListProductsApiV1ProductsGetStatusType0 | None | Unset):
        sort (ListProductsApiV1ProductsGetSort | Unset):  Default:
            ListProductsApiV1ProductsGetSort.VALUE_3.
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageProductOut | Problem]
    """

    kwargs = _get_kwargs(
        q=q,
        min_price=min_price,
        max_price=max_price,
        status=status,
        sort=sort,
        page=page,
        size=size,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    min_price: None | str | Unset = UNSET,
    max_price: None | str | Unset = UNSET,
    status: ListProductsApiV1ProductsGetStatusType0 | None | Unset = UNSET,
    sort: ListProductsApiV1ProductsGetSort
    | Unset = ListProductsApiV1ProductsGetSort.VALUE_3,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> PageProductOut | Problem | None:
    """List Products

     The catalogue (public). Staff with `product:manage` also see inactive products.

    Args:
        q (None | str | Unset):
        min_price (None | str | Unset):
        max_price (None | str | Unset):
        status (ListProductsApiV1ProductsGetStatusType0 | None | Unset):
        sort (ListProductsApiV1ProductsGetSort | Unset):  Default:
            ListProductsApiV1ProductsGetSort.VALUE_3.
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageProductOut | Problem
    """

    return sync_detailed(
        client=client,
        q=q,
        min_price=min_price,
        max_price=max_price,
        status=status,
        sort=sort,
        page=page,
        size=size,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    min_price: None | str | Unset = UNSET,
    max_price: None | str | Unset = UNSET,
    status: ListProductsApiV1ProductsGetStatusType0 | None | Unset = UNSET,
    sort: ListProductsApiV1ProductsGetSort
    | Unset = ListProductsApiV1ProductsGetSort.VALUE_3,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> Response[PageProductOut | Problem]:
    """List Products

     The catalogue (public). Staff with `product:manage` also see inactive products.

    Args:
        q (None | str | Unset):
        min_price (None | str | Unset):
        max_price (None | str | Unset):
        status (ListProductsApiV1ProductsGetStatusType0 | None | Unset):
        sort (ListProductsApiV1ProductsGetSort | Unset):  Default:
            ListProductsApiV1ProductsGetSort.VALUE_3.
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageProductOut | Problem]
    """

    kwargs = _get_kwargs(
        q=q,
        min_price=min_price,
        max_price=max_price,
        status=status,
        sort=sort,
        page=page,
        size=size,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    min_price: None | str | Unset = UNSET,
    max_price: None | str | Unset = UNSET,
    status: ListProductsApiV1ProductsGetStatusType0 | None | Unset = UNSET,
    sort: ListProductsApiV1ProductsGetSort
    | Unset = ListProductsApiV1ProductsGetSort.VALUE_3,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> PageProductOut | Problem | None:
    """List Products

     The catalogue (public). Staff with `product:manage` also see inactive products.

    Args:
        q (None | str | Unset):
        min_price (None | str | Unset):
        max_price (None | str | Unset):
        status (ListProductsApiV1ProductsGetStatusType0 | None | Unset):
        sort (ListProductsApiV1ProductsGetSort | Unset):  Default:
            ListProductsApiV1ProductsGetSort.VALUE_3.
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageProductOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            q=q,
            min_price=min_price,
            max_price=max_price,
            status=status,
            sort=sort,
            page=page,
            size=size,
        )
    ).parsed
