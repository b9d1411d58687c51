from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.list_notifications_api_v1_notifications_get_channel_type_0 import (
    ListNotificationsApiV1NotificationsGetChannelType0,
)
from ...models.list_notifications_api_v1_notifications_get_status_type_0 import (
    ListNotificationsApiV1NotificationsGetStatusType0,
)
from ...models.page_notification_out import PageNotificationOut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    channel: ListNotificationsApiV1NotificationsGetChannelType0 | None | Unset = UNSET,
    status: ListNotificationsApiV1NotificationsGetStatusType0 | None | Unset = UNSET,
    user_id: int | None | Unset = UNSET,
    template: None | str | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_channel: None | str | Unset
    if isinstance(channel, Unset):
        json_channel = UNSET
    elif isinstance(channel, ListNotificationsApiV1NotificationsGetChannelType0):
        json_channel = channel.value
    else:
        json_channel = channel
    params["channel"] = json_channel

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, ListNotificationsApiV1NotificationsGetStatusType0):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    json_user_id: int | None | Unset
    if isinstance(user_id, Unset):
        json_user_id = UNSET
    else:
        json_user_id = user_id
    params["user_id"] = json_user_id

    json_template: None | str | Unset
    if isinstance(template, Unset):
        json_template = UNSET
    else:
        json_template = template
    params["template"] = json_template

    params["page"] = page

    params["size"] = size

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/notifications",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PageNotificationOut | Problem | None:
    if response.status_code == 200:
        response_200 = PageNotificationOut.from_dict(response.json())

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
) -> Response[PageNotificationOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    channel: ListNotificationsApiV1NotificationsGetChannelType0 | None | Unset = UNSET,
    status: ListNotificationsApiV1NotificationsGetStatusType0 | None | Unset = UNSET,
    user_id: int | None | Unset = UNSET,
    template: None | str | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> Response[PageNotificationOut | Problem]:
    """List Notifications

     Every message, newest first, with its delivery state (recipients masked).

    Args:
        channel (ListNotificationsApiV1NotificationsGetChannelType0 | None | Unset):
        status (ListNotificationsApiV1NotificationsGetStatusType0 | None | Unset):
        user_id (int | None | Unset):
        template (None | str | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageNotificationOut | Problem]
    """

    kwargs = _get_kwargs(
        channel=channel,
        status=status,
        user_id=user_id,
        template=template,
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
    channel: ListNotificationsApiV1NotificationsGetChannelType0 | None | Unset = UNSET,
    status: ListNotificationsApiV1NotificationsGetStatusType0 | None | Unset = UNSET,
    user_id: int | None | Unset = UNSET,
    template: None | str | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> PageNotificationOut | Problem | None:
    """List Notifications

     Every message, newest first, with its delivery state (recipients masked).

    Args:
        channel (ListNotificationsApiV1NotificationsGetChannelType0 | None | Unset):
        status (ListNotificationsApiV1NotificationsGetStatusType0 | None | Unset):
        user_id (int | None | Unset):
        template (None | str | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageNotificationOut | Problem
    """

    return sync_detailed(
        client=client,
        channel=channel,
        status=status,
        user_id=user_id,
        template=template,
        page=page,
        size=size,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    channel: ListNotificationsApiV1NotificationsGetChannelType0 | None | Unset = UNSET,
    status: ListNotificationsApiV1NotificationsGetStatusType0 | None | Unset = UNSET,
    user_id: int | None | Unset = UNSET,
    template: None | str | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> Response[PageNotificationOut | Problem]:
    """List Notifications

     Every message, newest first, with its delivery state (recipients masked).

    Args:
        channel (ListNotificationsApiV1NotificationsGetChannelType0 | None | Unset):
        status (ListNotificationsApiV1NotificationsGetStatusType0 | None | Unset):
        user_id (int | None | Unset):
        template (None | str | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageNotificationOut | Problem]
    """

    kwargs = _get_kwargs(
        channel=channel,
        status=status,
        user_id=user_id,
        template=template,
        page=page,
        size=size,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    channel: ListNotificationsApiV1NotificationsGetChannelType0 | None | Unset = UNSET,
    status: ListNotificationsApiV1NotificationsGetStatusType0 | None | Unset = UNSET,
    user_id: int | None | Unset = UNSET,
    template: None | str | Unset = UNSET,
    page: int | Unset = 1,
    size: int | Unset = 20,
) -> PageNotificationOut | Problem | None:
    """List Notifications

     Every message, newest first, with its delivery state (recipients masked).

    Args:
        channel (ListNotificationsApiV1NotificationsGetChannelType0 | None | Unset):
        status (ListNotificationsApiV1NotificationsGetStatusType0 | None | Unset):
        user_id (int | None | Unset):
        template (None | str | Unset):
        page (int | Unset): 1-based page number Default: 1.
        size (int | Unset): items per page Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageNotificationOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            channel=channel,
            status=status,
            user_id=user_id,
            template=template,
            page=page,
            size=size,
        )
    ).parsed
