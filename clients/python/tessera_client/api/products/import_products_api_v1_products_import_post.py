from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.import_products_api_v1_products_import_post_body import (
    ImportProductsApiV1ProductsImportPostBody,
)
from ...models.import_products_api_v1_products_import_post_mode import (
    ImportProductsApiV1ProductsImportPostMode,
)
from ...models.import_result import ImportResult
from ...models.job_accepted import JobAccepted
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: ImportProductsApiV1ProductsImportPostBody,
    mode: ImportProductsApiV1ProductsImportPostMode
    | Unset = ImportProductsApiV1ProductsImportPostMode.STRICT,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    json_mode: str | Unset = UNSET
    if not isinstance(mode, Unset):
        json_mode = mode.value

    params["mode"] = json_mode

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/products/import",
        "params": params,
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ImportResult | JobAccepted | Problem | None:
    if response.status_code == 200:
        response_200 = ImportResult.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = JobAccepted.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ImportResult | JobAccepted | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ImportProductsApiV1ProductsImportPostBody,
    mode: ImportProductsApiV1ProductsImportPostMode
    | Unset = ImportProductsApiV1ProductsImportPostMode.STRICT,
) -> Response[ImportResult | JobAccepted | Problem]:
    """Import Products

     Create products from an xlsx (see the template). `strict`: all rows or none (422 with
    every problem, and an annotated sheet); `partial`: the valid rows, the others reported.
    Files above `report.import_inline_max_bytes` are imported by a job (202).

    Args:
        mode (ImportProductsApiV1ProductsImportPostMode | Unset):  Default:
            ImportProductsApiV1ProductsImportPostMode.STRICT.
        body (ImportProductsApiV1ProductsImportPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ImportResult | JobAccepted | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        mode=mode,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: ImportProductsApiV1ProductsImportPostBody,
    mode: ImportProductsApiV1ProductsImportPostMode
    | Unset = ImportProductsApiV1ProductsImportPostMode.STRICT,
) -> ImportResult | JobAccepted | Problem | None:
    """Import Products

     Create products from an xlsx (see the template). `strict`: all rows or none (422 with
    every problem, and an annotated sheet); `partial`: the valid rows, the others reported.
    Files above `report.import_inline_max_bytes` are imported by a job (202).

    Args:
        mode (ImportProductsApiV1ProductsImportPostMode | Unset):  Default:
            ImportProductsApiV1ProductsImportPostMode.STRICT.
        body (ImportProductsApiV1ProductsImportPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ImportResult | JobAccepted | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        mode=mode,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ImportProductsApiV1ProductsImportPostBody,
    mode: ImportProductsApiV1ProductsImportPostMode
    | Unset = ImportProductsApiV1ProductsImportPostMode.STRICT,
) -> Response[ImportResult | JobAccepted | Problem]:
    """Import Products

     Create products from an xlsx (see the template). `strict`: all rows or none (422 with
    every problem, and an annotated sheet); `partial`: the valid rows, the others reported.
    Files above `report.import_inline_max_bytes` are imported by a job (202).

    Args:
        mode (ImportProductsApiV1ProductsImportPostMode | Unset):  Default:
            ImportProductsApiV1ProductsImportPostMode.STRICT.
        body (ImportProductsApiV1ProductsImportPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ImportResult | JobAccepted | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        mode=mode,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ImportProductsApiV1ProductsImportPostBody,
    mode: ImportProductsApiV1ProductsImportPostMode
    | Unset = ImportProductsApiV1ProductsImportPostMode.STRICT,
) -> ImportResult | JobAccepted | Problem | None:
    """Import Products

     Create products from an xlsx (see the template). `strict`: all rows or none (422 with
    every problem, and an annotated sheet); `partial`: the valid rows, the others reported.
    Files above `report.import_inline_max_bytes` are imported by a job (202).

    Args:
        mode (ImportProductsApiV1ProductsImportPostMode | Unset):  Default:
            ImportProductsApiV1ProductsImportPostMode.STRICT.
        body (ImportProductsApiV1ProductsImportPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ImportResult | JobAccepted | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            mode=mode,
        )
    ).parsed
