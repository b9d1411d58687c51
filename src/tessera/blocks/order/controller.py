"""HTTP endpoints of the order block: `/api/v1/products`, `/api/v1/orders` and the payment
webhook `/api/v1/payments/{provider}/callback`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from tessera.blocks.order import service
from tessera.blocks.order.model.dto import (
    OrderCreateIn,
    OrderHistoryOut,
    OrderOut,
    OrderStatus,
    PayIn,
    PaymentAttemptOut,
    PaymentCallbackOut,
    PaymentMethodOut,
    PayOut,
    ProductCreateIn,
    ProductOut,
    ProductStatus,
    ProductUpdateIn,
    ReasonIn,
    RefundIn,
    RefundOut,
    ShipIn,
)
from tessera.lib.errors import problem_responses
from tessera.lib.pagination import Page, Paging
from tessera.lib.runtime import RuntimeDep
from tessera.lib.security import CurrentUser, OptionalUser, Principal, require_permission
from tessera.lib.types import MoneyFilter, PathId, QueryId

router = APIRouter(prefix="/api/v1")

ProductManager = Annotated[Principal, Depends(require_permission(service.PRODUCT_MANAGE))]
ProductSort = Literal[
    "price", "-price", "created_at", "-created_at", "name", "-name", "stock", "-stock"
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="Retry-safe key: the same key and body replay the first answer",
    ),
]


@router.get("/products", tags=["products"], responses=problem_responses(401, 422))
async def list_products(
    runtime: RuntimeDep,
    viewer: OptionalUser,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100)] = None,
    min_price: Annotated[MoneyFilter | None, Query()] = None,
    max_price: Annotated[MoneyFilter | None, Query()] = None,
    status: ProductStatus | None = None,
    sort: ProductSort = "-created_at",
) -> Page[ProductOut]:
    """The catalogue (public). Staff with `product:manage` also see inactive products."""
    return await service.list_products(
        runtime=runtime,
        viewer=viewer,
        paging=paging,
        q=q,
        min_price=min_price,
        max_price=max_price,
        status=status,
        sort=sort,
    )


@router.get("/products/{product_id}", tags=["products"], responses=problem_responses(404))
async def get_product(product_id: PathId, runtime: RuntimeDep) -> ProductOut:
    """One product (public, cached)."""
    return await service.get_product(runtime=runtime, product_id=product_id)


@router.post(
    "/products",
    tags=["products"],
    status_code=status.HTTP_201_CREATED,
    responses={
        # Beside the links derived from the paths (tessera.lib.apidoc): a new product can
        # be ordered, which starts the order -> pay -> ship -> documents walk.
        201: {
            "description": "The product",
            "links": {
                "OrderIt": {
                    "operationId": "place_order_api_v1_orders_post",
                    "requestBody": {"items": [{"product_id": "$response.body#/id", "quantity": 1}]},
                }
            },
        },
        **problem_responses(400, 401, 403, 409, 422),
    },
)
async def create_product(
    body: ProductCreateIn, runtime: RuntimeDep, _: ProductManager
) -> ProductOut:
    return await service.create_product(runtime=runtime, data=body)


@router.patch(
    "/products/{product_id}",
    tags=["products"],
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def update_product(
    product_id: PathId, body: ProductUpdateIn, runtime: RuntimeDep, _: ProductManager
) -> ProductOut:
    return await service.update_product(runtime=runtime, product_id=product_id, data=body)


@router.delete(
    "/products/{product_id}",
    tags=["products"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404),
)
async def delete_product(product_id: PathId, runtime: RuntimeDep, _: ProductManager) -> Response:
    """Soft delete: gone from the catalogue; orders keep their snapshot of it."""
    await service.delete_product(runtime=runtime, product_id=product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


PLACE_ORDER_RESPONSES: dict[int | str, dict[str, Any]] = {
    status.HTTP_201_CREATED: {
        "description": "The order, placed now; or, for a repeated `Idempotency-Key` with the "
        "same body, the order the first request placed (the first answer, replayed).",
        "headers": {
            "Idempotent-Replayed": {
                "description": "`true` when the answer is a replay of an earlier request",
                "schema": {"type": "string", "enum": ["true"]},
            }
        },
    },
    **problem_responses(400, 401, 409, 422),
}


@router.post(
    "/orders",
    tags=["orders"],
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    responses=PLACE_ORDER_RESPONSES,
)
async def place_order(
    body: OrderCreateIn,
    runtime: RuntimeDep,
    principal: CurrentUser,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> OrderOut:
    """Place an order; stock is reserved for every line or for none."""
    placed = await service.place_order(
        runtime=runtime, principal=principal, data=body, idempotency_key=idempotency_key
    )
    if placed.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return placed.order


@router.get("/orders", tags=["orders"], responses=problem_responses(401, 422))
async def list_orders(
    runtime: RuntimeDep,
    principal: CurrentUser,
    paging: Paging,
    status: OrderStatus | None = None,
    user_id: QueryId = None,
) -> Page[OrderOut]:
    """Your orders; with `order:read:any`, everyone's (filter by `user_id`)."""
    return await service.list_orders(
        runtime=runtime, principal=principal, paging=paging, status=status, user_id=user_id
    )


@router.get("/orders/{order_id}", tags=["orders"], responses=problem_responses(401, 404))
async def get_order(order_id: PathId, runtime: RuntimeDep, principal: CurrentUser) -> OrderOut:
    return await service.get_order_for_viewer(
        runtime=runtime, principal=principal, order_id=order_id
    )


@router.get("/orders/{order_id}/history", tags=["orders"], responses=problem_responses(401, 404))
async def order_history(
    order_id: PathId, runtime: RuntimeDep, principal: CurrentUser
) -> list[OrderHistoryOut]:
    return await service.order_history(runtime=runtime, principal=principal, order_id=order_id)


TRANSITION_ERRORS = problem_responses(400, 401, 403, 404, 409, 422)


PAY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The order, and the provider trade to pay (`payment.checkout`)",
        "headers": {
            "Idempotent-Replayed": {
                "description": "`true` when the answer is a replay of an earlier request",
                "schema": {"type": "string", "enum": ["true"]},
            }
        },
    },
    **problem_responses(400, 401, 403, 404, 409, 422, 503),
}


@router.post(
    "/orders/{order_id}/pay", tags=["orders"], response_model=PayOut, responses=PAY_RESPONSES
)
async def pay_order(
    order_id: PathId,
    body: PayIn,
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    principal: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> PayOut:
    """Pay your order. `sandbox` pays at once. Alipay and WeChat Pay start one provider trade
    and answer what the buyer needs in `payment.checkout` (see `method`); the order becomes
    `paid` when the provider confirms. Asking again with the same method while the trade can
    be paid answers the same trade; the same `Idempotency-Key` replays the first answer.
    503 `payment.provider_unavailable`: the provider could not be reached, nothing changed."""
    paid = await service.pay_order(
        runtime=runtime,
        principal=principal,
        order_id=order_id,
        data=body,
        idempotency_key=idempotency_key,
        client_ip=request.client.host if request.client else None,
    )
    if paid.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return paid.order


@router.get("/orders/{order_id}/payments", tags=["orders"], responses=problem_responses(401, 404))
async def list_payments(
    order_id: PathId, runtime: RuntimeDep, principal: CurrentUser
) -> list[PaymentAttemptOut]:
    """The provider trades of an order, one per payment attempt."""
    return await service.list_payments(runtime=runtime, principal=principal, order_id=order_id)


@router.get("/payments/methods", tags=["payments"])
async def payment_methods(runtime: RuntimeDep) -> list[PaymentMethodOut]:
    """The payment methods of this installation and the checkout fields each returns."""
    return service.payment_methods(runtime=runtime)


@router.post("/orders/{order_id}/ship", tags=["orders"], responses=TRANSITION_ERRORS)
async def ship_order(
    order_id: PathId, body: ShipIn, runtime: RuntimeDep, principal: CurrentUser
) -> OrderOut:
    """Staff (`order:manage`): a paid order leaves the warehouse."""
    return await service.ship_order(
        runtime=runtime,
        principal=principal,
        order_id=order_id,
        carrier=body.carrier,
        tracking_no=body.tracking_no,
    )


@router.post("/orders/{order_id}/complete", tags=["orders"], responses=TRANSITION_ERRORS)
async def complete_order(order_id: PathId, runtime: RuntimeDep, principal: CurrentUser) -> OrderOut:
    return await service.complete_order(runtime=runtime, principal=principal, order_id=order_id)


@router.post("/orders/{order_id}/cancel", tags=["orders"], responses=TRANSITION_ERRORS)
async def cancel_order(
    order_id: PathId, runtime: RuntimeDep, principal: CurrentUser, body: ReasonIn | None = None
) -> OrderOut:
    """Cancel an unpaid order; its stock returns to the shelf."""
    return await service.cancel_order(
        runtime=runtime,
        principal=principal,
        order_id=order_id,
        reason=body.reason if body else None,
    )


@router.post("/orders/{order_id}/refund", tags=["orders"], responses=TRANSITION_ERRORS)
async def refund_order(
    order_id: PathId, runtime: RuntimeDep, principal: CurrentUser, body: ReasonIn | None = None
) -> OrderOut:
    """Staff: refund everything left of a paid order through its payment provider. The order
    becomes `refunded` (stock back) when the provider confirms; `GET .../refunds` shows the
    refund's own state."""
    return await service.refund_order(
        runtime=runtime,
        principal=principal,
        order_id=order_id,
        reason=body.reason if body else None,
    )


REFUND_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "The refund, in the state the provider left it (`requested`: "
        "the provider could not be reached yet; it is retried)",
        "headers": {
            "Idempotent-Replayed": {
                "description": "`true` when the answer is a replay of an earlier request",
                "schema": {"type": "string", "enum": ["true"]},
            }
        },
    },
    **problem_responses(400, 401, 403, 404, 409, 422),
}


@router.post(
    "/orders/{order_id}/refunds",
    tags=["orders"],
    status_code=status.HTTP_201_CREATED,
    response_model=RefundOut,
    responses=REFUND_RESPONSES,
)
async def request_refund(
    order_id: PathId,
    body: RefundIn,
    runtime: RuntimeDep,
    principal: CurrentUser,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RefundOut:
    """Staff (`order:manage`): refund part or all of a paid, shipped or completed order
    through its payment provider (`amount` defaults to everything not yet refunded)."""
    requested = await service.request_refund(
        runtime=runtime,
        principal=principal,
        order_id=order_id,
        amount=body.amount,
        reason=body.reason,
        idempotency_key=idempotency_key,
    )
    if requested.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return requested.refund


@router.get("/orders/{order_id}/refunds", tags=["orders"], responses=problem_responses(401, 404))
async def list_refunds(
    order_id: PathId, runtime: RuntimeDep, principal: CurrentUser
) -> list[RefundOut]:
    return await service.list_refunds(runtime=runtime, principal=principal, order_id=order_id)


CALLBACK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Accepted. Generic webhooks get JSON; Alipay gets `success` "
        "(text/plain); WeChat Pay gets 204 with no body",
        "content": {"text/plain": {"schema": {"type": "string", "enum": ["success"]}}},
    },
    204: {"description": "WeChat Pay: accepted"},
    **problem_responses(401, 404, 409, 422),
}


@router.post(
    "/payments/{provider}/callback",
    tags=["payments"],
    response_model=PaymentCallbackOut,
    responses=CALLBACK_RESPONSES,
)
async def payment_callback(
    provider: str,
    request: Request,
    runtime: RuntimeDep,
    signature: Annotated[str | None, Header(alias="X-Tessera-Signature")] = None,
) -> Any:
    """Where payment providers confirm payments and refunds (register it with them):
    `/api/v1/payments/alipay/callback` (Alipay asynchronous notifications),
    `/api/v1/payments/wechatpay/callback` (WeChat Pay payment and refund callbacks), or a
    generic provider's webhook signed `X-Tessera-Signature: sha256=<HMAC of the body>`.
    Alipay and WeChat Pay are answered in their own format; a callback that fails
    verification is refused (401) before anything in it is read."""
    body = await request.body()
    if provider not in runtime.settings.order.payment_webhook_secrets:
        answer = await service.handle_provider_callback(
            runtime=runtime, provider=provider, headers=dict(request.headers), body=body
        )
        return Response(
            content=answer.body, status_code=answer.status_code, media_type=answer.media_type
        )
    return await service.handle_payment_callback(
        runtime=runtime, provider=provider, body=body, signature=signature
    )
