from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.refund_in import RefundIn
from ...models.refund_out import RefundOut
from ...types import UNSET, Response, Unset


def _get_kwargs(
    order_id: int,
    *,
    body: RefundIn,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/orders/{order_id}/refunds".format(
            order_id=quote(str(order_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | RefundOut | None:
    if response.status_code == 201:
        response_201 = RefundOut.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

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
) -> Response[Problem | RefundOut]:
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
    body: RefundIn,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Problem | RefundOut]:
    """Request Refund

     Staff (`order:manage`): refund part or all of a paid, shipped or completed order
    through its payment provider (`amount` defaults to everything not yet refunded).

    Args:
        order_id (int):
        idempotency_key (None | str | Unset): Retry-safe key: the same key and body replay the
            first answer
        body (RefundIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RefundOut]
    """

    kwargs = _get_kwargs(
        order_id=order_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    order_id: int,
    *,
    client: AuthenticatedClient,
    body: RefundIn,
    idempotency_key: None | str | Unset = UNSET,
) -> Problem | RefundOut | None:
    """Request Refund

     Staff (`order:manage`): refund part or all of a paid, shipped or completed order
    through its payment provider (`amount` defaults to everything not yet refunded).

    Args:
        order_id (int):
        idempotency_key (None | str | Unset): Retry-safe key: the same key and body replay the
            first answer
        body (RefundIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RefundOut
    """

    return sync_detailed(
        order_id=order_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    order_id: int,
    *,
    client: AuthenticatedClient,
    body: RefundIn,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Problem | RefundOut]:
    """Request Refund

     Staff (`order:manage`): refund part or all of a paid, shipped or completed order
    through its payment provider (`amount` defaults to everything not yet refunded).

    Args:
        order_id (int):
        idempotency_key (None | str | Unset): Retry-safe key: the same key and body replay the
            first answer
        body (RefundIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RefundOut]
    """

    kwargs = _get_kwargs(
        order_id=order_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    order_id: int,
    *,
    client: AuthenticatedClient,
    body: RefundIn,
    idempotency_key: None | str | Unset = UNSET,
) -> Problem | RefundOut | None:
    """Request Refund

     Staff (`order:manage`): refund part or all of a paid, shipped or completed order
    through its payment provider (`amount` defaults to everything not yet refunded).

    Args:
        order_id (int):
        idempotency_key (None | str | Unset): Retry-safe key: the same key and body replay the
            first answer
        body (RefundIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RefundOut
    """

    return (
        await asyncio_detailed(
            order_id=order_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
