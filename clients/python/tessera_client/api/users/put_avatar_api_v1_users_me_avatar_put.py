from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.avatar_out import AvatarOut
from ...models.problem import Problem
from ...models.put_avatar_api_v1_users_me_avatar_put_body import (
    PutAvatarApiV1UsersMeAvatarPutBody,
)
from ...types import Response


def _get_kwargs(
    *,
    body: PutAvatarApiV1UsersMeAvatarPutBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/users/me/avatar",
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AvatarOut | Problem | None:
    if response.status_code == 200:
        response_200 = AvatarOut.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

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
) -> Response[AvatarOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: PutAvatarApiV1UsersMeAvatarPutBody,
) -> Response[AvatarOut | Problem]:
    """Put Avatar

     Set your avatar: re-encoded (metadata stripped) as 256x256 and 64x64 PNG.

    Args:
        body (PutAvatarApiV1UsersMeAvatarPutBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AvatarOut | Problem]
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
    body: PutAvatarApiV1UsersMeAvatarPutBody,
) -> AvatarOut | Problem | None:
    """Put Avatar

     Set your avatar: re-encoded (metadata stripped) as 256x256 and 64x64 PNG.

    Args:
        body (PutAvatarApiV1UsersMeAvatarPutBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AvatarOut | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: PutAvatarApiV1UsersMeAvatarPutBody,
) -> Response[AvatarOut | Problem]:
    """Put Avatar

     Set your avatar: re-encoded (metadata stripped) as 256x256 and 64x64 PNG.

    Args:
        body (PutAvatarApiV1UsersMeAvatarPutBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AvatarOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: PutAvatarApiV1UsersMeAvatarPutBody,
) -> AvatarOut | Problem | None:
    """Put Avatar

     Set your avatar: re-encoded (metadata stripped) as 256x256 and 64x64 PNG.

    Args:
        body (PutAvatarApiV1UsersMeAvatarPutBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AvatarOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
