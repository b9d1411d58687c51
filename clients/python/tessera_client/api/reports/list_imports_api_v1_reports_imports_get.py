from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.page_job_out import PageJobOut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    owner_id: int | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_owner_id: int | None | Unset
    if isinstance(owner_id, Unset):
        json_owner_id = UNSET
    else:
        json_owner_id = owner_id
    params["owner_id"] = json_owner_id

    params["page"] = page

    params["size"] = size

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/reports/imports",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageJobOut | Problem | None:
    if response.status_code == 200:
        response_200 = PageJobOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[PageJobOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    owner_id: int | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> Response[PageJobOut | Problem]:
    """List Imports

     Your jobs, newest first (`report:read:any`: anyone's, with `owner_id`).

    Args:
        owner_id (int | None | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageJobOut | Problem]
    """

    kwargs = _get_kwargs(
        owner_id=owner_id,
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
    owner_id: int | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> PageJobOut | Problem | None:
    """List Imports

     Your jobs, newest first (`report:read:any`: anyone's, with `owner_id`).

    Args:
        owner_id (int | None | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageJobOut | Problem
    """

    return sync_detailed(
        client=client,
        owner_id=owner_id,
        page=page,
        size=size,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    owner_id: int | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> Response[PageJobOut | Problem]:
    """List Imports

     Your jobs, newest first (`report:read:any`: anyone's, with `owner_id`).

    Args:
        owner_id (int | None | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageJobOut | Problem]
    """

    kwargs = _get_kwargs(
        owner_id=owner_id,
        page=page,
        size=size,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    owner_id: int | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> PageJobOut | Problem | None:
    """List Imports

     Your jobs, newest first (`report:read:any`: anyone's, with `owner_id`).

    Args:
        owner_id (int | None | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageJobOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            owner_id=owner_id,
            page=page,
            size=size,
        )
    ).parsed
