from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.get_avatar_api_v1_users_user_id_avatar_get_size import (
    GetAvatarApiV1UsersUserIdAvatarGetSize,
)
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    user_id: int,
    *,
    size: GetAvatarApiV1UsersUserIdAvatarGetSize
    | Unset = GetAvatarApiV1UsersUserIdAvatarGetSize.VALUE_256,
    if_none_match: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_none_match, Unset):
        headers["if-none-match"] = if_none_match

    params: dict[str, Any] = {}

    json_size: int | Unset = UNSET
    if not isinstance(size, Unset):
        json_size = size.value

    params["size"] = json_size

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/users/{user_id}/avatar".format(
            user_id=quote(str(user_id), safe=""),
        ),
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | None:
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
) -> Response[Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    user_id: int,
    *,
    client: AuthenticatedClient | Client,
    size: GetAvatarApiV1UsersUserIdAvatarGetSize
    | Unset = GetAvatarApiV1UsersUserIdAvatarGetSize.VALUE_256,
    if_none_match: None | str | Unset = UNSET,
) -> Response[Problem]:
    """Get Avatar

     A user's avatar. Public, like any profile picture: `<img>` cannot send a bearer token.

    Args:
        user_id (int):
        size (GetAvatarApiV1UsersUserIdAvatarGetSize | Unset): 256 or 64 (pixels) Default:
            GetAvatarApiV1UsersUserIdAvatarGetSize.VALUE_256.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        size=size,
        if_none_match=if_none_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    user_id: int,
    *,
    client: AuthenticatedClient | Client,
    size: GetAvatarApiV1UsersUserIdAvatarGetSize
    | Unset = GetAvatarApiV1UsersUserIdAvatarGetSize.VALUE_256,
    if_none_match: None | str | Unset = UNSET,
) -> Problem | None:
    """Get Avatar

     A user's avatar. Public, like any profile picture: `<img>` cannot send a bearer token.

    Args:
        user_id (int):
        size (GetAvatarApiV1UsersUserIdAvatarGetSize | Unset): 256 or 64 (pixels) Default:
            GetAvatarApiV1UsersUserIdAvatarGetSize.VALUE_256.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem
    """

    return sync_detailed(
        user_id=user_id,
        client=client,
        size=size,
        if_none_match=if_none_match,
    ).parsed


async def asyncio_detailed(
    user_id: int,
    *,
    client: AuthenticatedClient | Client,
    size: GetAvatarApiV1UsersUserIdAvatarGetSize
    | Unset = GetAvatarApiV1UsersUserIdAvatarGetSize.VALUE_256,
    if_none_match: None | str | Unset = UNSET,
) -> Response[Problem]:
    """Get Avatar

     A user's avatar. Public, like any profile picture: `<img>` cannot send a bearer token.

    Args:
        user_id (int):
        size (GetAvatarApiV1UsersUserIdAvatarGetSize | Unset): 256 or 64 (pixels) Default:
            GetAvatarApiV1UsersUserIdAvatarGetSize.VALUE_256.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        size=size,
        if_none_match=if_none_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    user_id: int,
    *,
    client: AuthenticatedClient | Client,
    size: GetAvatarApiV1UsersUserIdAvatarGetSize
    | Unset = GetAvatarApiV1UsersUserIdAvatarGetSize.VALUE_256,
    if_none_match: None | str | Unset = UNSET,
) -> Problem | None:
    """Get Avatar

     A user's avatar. Public, like any profile picture: `<img>` cannot send a bearer token.

    Args:
        user_id (int):
        size (GetAvatarApiV1UsersUserIdAvatarGetSize | Unset): 256 or 64 (pixels) Default:
            GetAvatarApiV1UsersUserIdAvatarGetSize.VALUE_256.
        if_none_match (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem
    """

    return (
        await asyncio_detailed(
            user_id=user_id,
            client=client,
            size=size,
            if_none_match=if_none_match,
        )
    ).parsed
