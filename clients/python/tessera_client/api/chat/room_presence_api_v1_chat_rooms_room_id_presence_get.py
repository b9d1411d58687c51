from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.presence_out import PresenceOut
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    room_id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/chat/rooms/{room_id}/presence".format(
            room_id=quote(str(room_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PresenceOut | Problem | None:
    if response.status_code == 200:
        response_200 = PresenceOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[PresenceOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    room_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[PresenceOut | Problem]:
    """Room Presence

     Who has the room open now, across instances (an instance's users drop out within
    `realtime.presence_ttl_seconds` if it dies).

    Args:
        room_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PresenceOut | Problem]
    """

    kwargs = _get_kwargs(
        room_id=room_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    room_id: int,
    *,
    client: AuthenticatedClient,
) -> PresenceOut | Problem | None:
    """Room Presence

     Who has the room open now, across instances (an instance's users drop out within
    `realtime.presence_ttl_seconds` if it dies).

    Args:
        room_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PresenceOut | Problem
    """

    return sync_detailed(
        room_id=room_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    room_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[PresenceOut | Problem]:
    """Room Presence

     Who has the room open now, across instances (an instance's users drop out within
    `realtime.presence_ttl_seconds` if it dies).

    Args:
        room_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PresenceOut | Problem]
    """

    kwargs = _get_kwargs(
        room_id=room_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    room_id: int,
    *,
    client: AuthenticatedClient,
) -> PresenceOut | Problem | None:
    """Room Presence

     Who has the room open now, across instances (an instance's users drop out within
    `realtime.presence_ttl_seconds` if it dies).

    Args:
        room_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PresenceOut | Problem
    """

    return (
        await asyncio_detailed(
            room_id=room_id,
            client=client,
        )
    ).parsed
