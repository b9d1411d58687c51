from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.export_products_xlsx_api_v1_products_export_xlsx_get_status_type_0 import (
    ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0,
)
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    q: None | str | Unset = UNSET,
    min_price: None | str | Unset = UNSET,
    max_price: None | str | Unset = UNSET,
    status: ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0
    | None
    | Unset = UNSET,
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
    elif isinstance(status, ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/products/export.xlsx",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | Problem | None:
    if response.status_code == 200:
        response_200 = cast(Any, None)
        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | Problem]:
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
    status: ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0
    | None
    | Unset = UNSET,
) -> Response[Any | Problem]:
    """Export Products Xlsx

     The catalogue as xlsx (`product:manage`), filtered like `GET /products`.

    Args:
        q (None | str | Unset):
        min_price (None | str | Unset):
        max_price (None | str | Unset):
        status (ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0 | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        q=q,
        min_price=min_price,
        max_price=max_price,
        status=status,
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
    status: ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0
    | None
    | Unset = UNSET,
) -> Any | Problem | None:
    """Export Products Xlsx

     The catalogue as xlsx (`product:manage`), filtered like `GET /products`.

    Args:
        q (None | str | Unset):
        min_price (None | str | Unset):
        max_price (None | str | Unset):
        status (ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0 | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        client=client,
        q=q,
        min_price=min_price,
        max_price=max_price,
        status=status,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    min_price: None | str | Unset = UNSET,
    max_price: None | str | Unset = UNSET,
    status: ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0
    | None
    | Unset = UNSET,
) -> Response[Any | Problem]:
    """Export Products Xlsx

     The catalogue as xlsx (`product:manage`), filtered like `GET /products`.

    Args:
        q (None | str | Unset):
        min_price (None | str | Unset):
        max_price (None | str | Unset):
        status (ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0 | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        q=q,
        min_price=min_price,
        max_price=max_price,
        status=status,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    q: None | str | Unset = UNSET,
    min_price: None | str | Unset = UNSET,
    max_price: None | str | Unset = UNSET,
    status: ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0
    | None
    | Unset = UNSET,
) -> Any | Problem | None:
    """Export Products Xlsx

     The catalogue as xlsx (`product:manage`), filtered like `GET /products`.

    Args:
        q (None | str | Unset):
        min_price (None | str | Unset):
        max_price (None | str | Unset):
        status (ExportProductsXlsxApiV1ProductsExportXlsxGetStatusType0 | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            q=q,
            min_price=min_price,
            max_price=max_price,
            status=status,
        )
    ).parsed
