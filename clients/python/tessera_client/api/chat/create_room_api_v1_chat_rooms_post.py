from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.room_create_in_type_0 import RoomCreateInType0
from ...models.room_create_in_type_1 import RoomCreateInType1
from ...models.room_out import RoomOut
from ...types import Response


def _get_kwargs(
    *,
    body: RoomCreateInType0 | RoomCreateInType1,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/chat/rooms",
    }

    if isinstance(body, RoomCreateInType0):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | Problem | RoomOut | None:
    if response.status_code == 200:
        response_200 = RoomOut.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = response.json()
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
) -> Response[Any | Problem | RoomOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: RoomCreateInType0 | RoomCreateInType1,
) -> Response[Any | Problem | RoomOut]:
    """Create Room

     `{"order_id"}`: the order's support room (its customer and staff; created on first
    use, 200 when it exists). `{"name", "member_ids"}`: a group room (`chat:manage`).

    Args:
        body (RoomCreateInType0 | RoomCreateInType1): Either `order_id` (the order's support room,
            created on first use) or `name` and
            `member_ids` (a group room; permission `chat:manage`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem | RoomOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: RoomCreateInType0 | RoomCreateInType1,
) -> Any | Problem | RoomOut | None:
    """Create Room

     `{"order_id"}`: the order's support room (its customer and staff; created on first
    use, 200 when it exists). `{"name", "member_ids"}`: a group room (`chat:manage`).

    Args:
        body (RoomCreateInType0 | RoomCreateInType1): Either `order_id` (the order's support room,
            created on first use) or `name` and
            `member_ids` (a group room; permission `chat:manage`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem | RoomOut
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: RoomCreateInType0 | RoomCreateInType1,
) -> Response[Any | Problem | RoomOut]:
    """Create Room

     `{"order_id"}`: the order's support room (its customer and staff; created on first
    use, 200 when it exists). `{"name", "member_ids"}`: a group room (`chat:manage`).

    Args:
        body (RoomCreateInType0 | RoomCreateInType1): Either `order_id` (the order's support room,
            created on first use) or `name` and
            `member_ids` (a group room; permission `chat:manage`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem | RoomOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: RoomCreateInType0 | RoomCreateInType1,
) -> Any | Problem | RoomOut | None:
    """Create Room

     `{"order_id"}`: the order's support room (its customer and staff; created on first
    use, 200 when it exists). `{"name", "member_ids"}`: a group room (`chat:manage`).

    Args:
        body (RoomCreateInType0 | RoomCreateInType1): Either `order_id` (the order's support room,
            created on first use) or `name` and
            `member_ids` (a group room; permission `chat:manage`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem | RoomOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
