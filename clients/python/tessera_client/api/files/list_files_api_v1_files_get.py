from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.list_files_api_v1_files_get_purpose_type_0 import (
    ListFilesApiV1FilesGetPurposeType0,
)
from ...models.page_file_out import PageFileOut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    purpose: ListFilesApiV1FilesGetPurposeType0 | None | Unset = UNSET,
    owner_id: int | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_purpose: None | str | Unset
    if isinstance(purpose, Unset):
        json_purpose = UNSET
    elif isinstance(purpose, ListFilesApiV1FilesGetPurposeType0):
        json_purpose = purpose.value
    else:
        json_purpose = purpose
    params["purpose"] = json_purpose

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
        "url": "/api/v1/files",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageFileOut | Problem | None:
    if response.status_code == 200:
        response_200 = PageFileOut.from_dict(response.json())

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
) -> Response[PageFileOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    purpose: ListFilesApiV1FilesGetPurposeType0 | None | Unset = UNSET,
    owner_id: int | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> Response[PageFileOut | Problem]:
    """List Files

     Your files, newest first.

    Args:
        purpose (ListFilesApiV1FilesGetPurposeType0 | None | Unset):
        owner_id (int | None | Unset): needs file:read:any
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageFileOut | Problem]
    """

    kwargs = _get_kwargs(
        purpose=purpose,
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
    purpose: ListFilesApiV1FilesGetPurposeType0 | None | Unset = UNSET,
    owner_id: int | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> PageFileOut | Problem | None:
    """List Files

     Your files, newest first.

    Args:
        purpose (ListFilesApiV1FilesGetPurposeType0 | None | Unset):
        owner_id (int | None | Unset): needs file:read:any
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageFileOut | Problem
    """

    return sync_detailed(
        client=client,
        purpose=purpose,
        owner_id=owner_id,
        page=page,
        size=size,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    purpose: ListFilesApiV1FilesGetPurposeType0 | None | Unset = UNSET,
    owner_id: int | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> Response[PageFileOut | Problem]:
    """List Files

     Your files, newest first.

    Args:
        purpose (ListFilesApiV1FilesGetPurposeType0 | None | Unset):
        owner_id (int | None | Unset): needs file:read:any
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageFileOut | Problem]
    """

    kwargs = _get_kwargs(
        purpose=purpose,
        owner_id=owner_id,
        page=page,
        size=size,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    purpose: ListFilesApiV1FilesGetPurposeType0 | None | Unset = UNSET,
    owner_id: int | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> PageFileOut | Problem | None:
    """List Files

     Your files, newest first.

    Args:
        purpose (ListFilesApiV1FilesGetPurposeType0 | None | Unset):
        owner_id (int | None | Unset): needs file:read:any
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageFileOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            purpose=purpose,
            owner_id=owner_id,
            page=page,
            size=size,
        )
    ).parsed
