from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.file_out import FileOut
from ...models.problem import Problem
from ...models.upload_order_document_api_v1_orders_order_id_documents_post_body import (
    UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody,
)
from ...types import Response


def _get_kwargs(
    order_id: int,
    *,
    body: UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/orders/{order_id}/documents".format(
            order_id=quote(str(order_id), safe=""),
        ),
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> FileOut | Problem | None:
    if response.status_code == 201:
        response_201 = FileOut.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[FileOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    order_id: int,
    *,
    client: AuthenticatedClient,
    body: UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody,
) -> Response[FileOut | Problem]:
    """Upload Order Document

     Attach a document to an order you can see (its owner, or staff).

    Args:
        order_id (int):
        body (UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FileOut | Problem]
    """

    kwargs = _get_kwargs(
        order_id=order_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    order_id: int,
    *,
    client: AuthenticatedClient,
    body: UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody,
) -> FileOut | Problem | None:
    """Upload Order Document

     Attach a document to an order you can see (its owner, or staff).

    Args:
        order_id (int):
        body (UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FileOut | Problem
    """

    return sync_detailed(
        order_id=order_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    order_id: int,
    *,
    client: AuthenticatedClient,
    body: UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody,
) -> Response[FileOut | Problem]:
    """Upload Order Document

     Attach a document to an order you can see (its owner, or staff).

    Args:
        order_id (int):
        body (UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FileOut | Problem]
    """

    kwargs = _get_kwargs(
        order_id=order_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    order_id: int,
    *,
    client: AuthenticatedClient,
    body: UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody,
) -> FileOut | Problem | None:
    """Upload Order Document

     Attach a document to an order you can see (its owner, or staff).

    Args:
        order_id (int):
        body (UploadOrderDocumentApiV1OrdersOrderIdDocumentsPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FileOut | Problem
    """

    return (
        await asyncio_detailed(
            order_id=order_id,
            client=client,
            body=body,
        )
    ).parsed
