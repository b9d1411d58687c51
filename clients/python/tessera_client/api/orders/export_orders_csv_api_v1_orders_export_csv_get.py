from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.export_orders_csv_api_v1_orders_export_csv_get_status_type_0 import (
    ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0,
)
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    status: ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0 | None | Unset = UNSET,
    user_id: int | None | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    json_user_id: int | None | Unset
    if isinstance(user_id, Unset):
        json_user_id = UNSET
    else:
        json_user_id = user_id
    params["user_id"] = json_user_id

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/orders/export.csv",
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
    status: ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0 | None | Unset = UNSET,
    user_id: int | None | Unset = UNSET,
) -> Response[Any | Problem]:
    """Export Orders Csv

     Your orders as csv (with `order:read:any`: everyone's), filtered like `GET /orders`; above
    `report.direct_export_max_rows` rows: 413, start a job instead.

    Args:
        status (ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0 | None | Unset):
        user_id (int | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        status=status,
        user_id=user_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    status: ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0 | None | Unset = UNSET,
    user_id: int | None | Unset = UNSET,
) -> Any | Problem | None:
    """Export Orders Csv

     Your orders as csv (with `order:read:any`: everyone's), filtered like `GET /orders`; above
    `report.direct_export_max_rows` rows: 413, start a job instead.

    Args:
        status (ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0 | None | Unset):
        user_id (int | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        client=client,
        status=status,
        user_id=user_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    status: ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0 | None | Unset = UNSET,
    user_id: int | None | Unset = UNSET,
) -> Response[Any | Problem]:
    """Export Orders Csv

     Your orders as csv (with `order:read:any`: everyone's), filtered like `GET /orders`; above
    `report.direct_export_max_rows` rows: 413, start a job instead.

    Args:
        status (ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0 | None | Unset):
        user_id (int | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        status=status,
        user_id=user_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    status: ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0 | None | Unset = UNSET,
    user_id: int | None | Unset = UNSET,
) -> Any | Problem | None:
    """Export Orders Csv

     Your orders as csv (with `order:read:any`: everyone's), filtered like `GET /orders`; above
    `report.direct_export_max_rows` rows: 413, start a job instead.

    Args:
        status (ExportOrdersCsvApiV1OrdersExportCsvGetStatusType0 | None | Unset):
        user_id (int | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            status=status,
            user_id=user_id,
        )
    ).parsed
