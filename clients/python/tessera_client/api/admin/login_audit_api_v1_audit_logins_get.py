from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.login_audit_api_v1_audit_logins_get_outcome_type_0 import (
    LoginAuditApiV1AuditLoginsGetOutcomeType0,
)
from ...models.page_login_audit_out import PageLoginAuditOut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    user_id: int | None | Unset = UNSET,
    outcome: LoginAuditApiV1AuditLoginsGetOutcomeType0 | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_user_id: int | None | Unset
    if isinstance(user_id, Unset):
        json_user_id = UNSET
    else:
        json_user_id = user_id
    params["user_id"] = json_user_id

    json_outcome: None | str | Unset
    if isinstance(outcome, Unset):
        json_outcome = UNSET
    elif isinstance(outcome, LoginAuditApiV1AuditLoginsGetOutcomeType0):
        json_outcome = outcome.value
    else:
        json_outcome = outcome
    params["outcome"] = json_outcome

    params["page"] = page

    params["size"] = size

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/audit/logins",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageLoginAuditOut | Problem | None:
    if response.status_code == 200:
        response_200 = PageLoginAuditOut.from_dict(response.json())

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
) -> Response[PageLoginAuditOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    user_id: int | None | Unset = UNSET,
    outcome: LoginAuditApiV1AuditLoginsGetOutcomeType0 | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> Response[PageLoginAuditOut | Problem]:
    """Login Audit

     Every sign-in attempt, newest first.

    Args:
        user_id (int | None | Unset):
        outcome (LoginAuditApiV1AuditLoginsGetOutcomeType0 | None | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageLoginAuditOut | Problem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        outcome=outcome,
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
    user_id: int | None | Unset = UNSET,
    outcome: LoginAuditApiV1AuditLoginsGetOutcomeType0 | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> PageLoginAuditOut | Problem | None:
    """Login Audit

     Every sign-in attempt, newest first.

    Args:
        user_id (int | None | Unset):
        outcome (LoginAuditApiV1AuditLoginsGetOutcomeType0 | None | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageLoginAuditOut | Problem
    """

    return sync_detailed(
        client=client,
        user_id=user_id,
        outcome=outcome,
        page=page,
        size=size,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    user_id: int | None | Unset = UNSET,
    outcome: LoginAuditApiV1AuditLoginsGetOutcomeType0 | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> Response[PageLoginAuditOut | Problem]:
    """Login Audit

     Every sign-in attempt, newest first.

    Args:
        user_id (int | None | Unset):
        outcome (LoginAuditApiV1AuditLoginsGetOutcomeType0 | None | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageLoginAuditOut | Problem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        outcome=outcome,
        page=page,
        size=size,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    user_id: int | None | Unset = UNSET,
    outcome: LoginAuditApiV1AuditLoginsGetOutcomeType0 | None | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> PageLoginAuditOut | Problem | None:
    """Login Audit

     Every sign-in attempt, newest first.

    Args:
        user_id (int | None | Unset):
        outcome (LoginAuditApiV1AuditLoginsGetOutcomeType0 | None | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageLoginAuditOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            user_id=user_id,
            outcome=outcome,
            page=page,
            size=size,
        )
    ).parsed
