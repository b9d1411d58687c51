from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.payment_callback_out import PaymentCallbackOut
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    provider: str,
    *,
    x_tessera_signature: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_tessera_signature, Unset):
        headers["X-Tessera-Signature"] = x_tessera_signature

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/payments/{provider}/callback".format(
            provider=quote(str(provider), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | PaymentCallbackOut | Problem | None:
    if response.status_code == 200:
        response_200 = PaymentCallbackOut.from_dict(response.json())

        return response_200

    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | PaymentCallbackOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    provider: str,
    *,
    client: AuthenticatedClient | Client,
    x_tessera_signature: None | str | Unset = UNSET,
) -> Response[Any | PaymentCallbackOut | Problem]:
    """Payment Callback

     Where payment providers confirm payments and refunds (register it with them):
    `/api/v1/payments/alipay/callback` (Alipay asynchronous notifications),
    `/api/v1/payments/wechatpay/callback` (WeChat Pay payment and refund callbacks), or a
    generic provider's webhook signed `X-Tessera-Signature: sha256=<HMAC of the body>`.
    Alipay and WeChat Pay are answered in their own format; a callback that fails
    verification is refused (401) before anything in it is read.

    Args:
        provider (str):
        x_tessera_signature (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | PaymentCallbackOut | Problem]
    """

    kwargs = _get_kwargs(
        provider=provider,
        x_tessera_signature=x_tessera_signature,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    provider: str,
    *,
    client: AuthenticatedClient | Client,
    x_tessera_signature: None | str | Unset = UNSET,
) -> Any | PaymentCallbackOut | Problem | None:
    """Payment Callback

     Where payment providers confirm payments and refunds (register it with them):
    `/api/v1/payments/alipay/callback` (Alipay asynchronous notifications),
    `/api/v1/payments/wechatpay/callback` (WeChat Pay payment and refund callbacks), or a
    generic provider's webhook signed `X-Tessera-Signature: sha256=<HMAC of the body>`.
    Alipay and WeChat Pay are answered in their own format; a callback that fails
    verification is refused (401) before anything in it is read.

    Args:
        provider (str):
        x_tessera_signature (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | PaymentCallbackOut | Problem
    """

    return sync_detailed(
        provider=provider,
        client=client,
        x_tessera_signature=x_tessera_signature,
    ).parsed


async def asyncio_detailed(
    provider: str,
    *,
    client: AuthenticatedClient | Client,
    x_tessera_signature: None | str | Unset = UNSET,
) -> Response[Any | PaymentCallbackOut | Problem]:
    """Payment Callback

     Where payment providers confirm payments and refunds (register it with them):
    `/api/v1/payments/alipay/callback` (Alipay asynchronous notifications),
    `/api/v1/payments/wechatpay/callback` (WeChat Pay payment and refund callbacks), or a
    generic provider's webhook signed `X-Tessera-Signature: sha256=<HMAC of the body>`.
    Alipay and WeChat Pay are answered in their own format; a callback that fails
    verification is refused (401) before anything in it is read.

    Args:
        provider (str):
        x_tessera_signature (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | PaymentCallbackOut | Problem]
    """

    kwargs = _get_kwargs(
        provider=provider,
        x_tessera_signature=x_tessera_signature,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    provider: str,
    *,
    client: AuthenticatedClient | Client,
    x_tessera_signature: None | str | Unset = UNSET,
) -> Any | PaymentCallbackOut | Problem | None:
    """Payment Callback

     Where payment providers confirm payments and refunds (register it with them):
    `/api/v1/payments/alipay/callback` (Alipay asynchronous notifications),
    `/api/v1/payments/wechatpay/callback` (WeChat Pay payment and refund callbacks), or a
    generic provider's webhook signed `X-Tessera-Signature: sha256=<HMAC of the body>`.
    Alipay and WeChat Pay are answered in their own format; a callback that fails
    verification is refused (401) before anything in it is read.

    Args:
        provider (str):
        x_tessera_signature (None | str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | PaymentCallbackOut | Problem
    """

    return (
        await asyncio_detailed(
            provider=provider,
            client=client,
            x_tessera_signature=x_tessera_signature,
        )
    ).parsed
