"""HTTP endpoints of the order block: `/api/v1/products`, `/api/v1/orders` and the payment
webhook `/api/v1/payments/{provider}/callback`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from tessera.blocks.order import service
from tessera.blocks.order.model.dto import (
    OrderCreateIn,
    OrderHistoryOut,
    OrderOut,
    OrderStatus,
    PayIn,
    PaymentCallbackOut,
    ProductCreateIn,
    ProductOut,
    ProductStatus,
    ProductUpdateIn,
    ReasonIn,
    ShipIn,
)
from tessera.lib.errors import problem_responses
from tessera.lib.pagination import Page, Paging
from tessera.lib.runtime import RuntimeDep
from tessera.lib.security import CurrentUser, OptionalUser, Principal, require_permission
from tessera.lib.types import PathId, QueryId

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
    min_price: Annotated[Decimal | None, Query(ge=0, max_digits=12, decimal_places=2)] = None,
    max_price: Annotated[Decimal | None, Query(ge=0, max_digits=12, decimal_places=2)] = None,
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
    responses=problem_responses(400, 401, 403, 409, 422),
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


@router.post("/orders/{order_id}/pay", tags=["orders"], responses=TRANSITION_ERRORS)
async def pay_order(
    order_id: PathId,
    body: PayIn,
    runtime: RuntimeDep,
    principal: CurrentUser,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> OrderOut:
    """Pay your order (`sandbox` pays at once; other methods settle by webhook). Charged at
    most once: a concurrent second pay gets 409 `order.payment_in_progress`; with
    `Idempotency-Key` a retry replays the first answer."""
    paid = await service.pay_order(
        runtime=runtime,
        principal=principal,
        order_id=order_id,
        method=body.method,
        idempotency_key=idempotency_key,
    )
    if paid.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return paid.order


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
    """Staff: refund a paid order; its stock returns to the shelf."""
    return await service.refund_order(
        runtime=runtime,
        principal=principal,
        order_id=order_id,
        reason=body.reason if body else None,
    )


@router.post(
    "/payments/{provider}/callback",
    tags=["payments"],
    responses=problem_responses(401, 404, 409, 422),
)
async def payment_callback(
    provider: str,
    request: Request,
    runtime: RuntimeDep,
    signature: Annotated[str | None, Header(alias="X-Tessera-Signature")] = None,
) -> PaymentCallbackOut:
    """Payment provider webhook, signed `X-Tessera-Signature: sha256=<HMAC of the body>`."""
    body = await request.body()
    return await service.handle_payment_callback(
        runtime=runtime, provider=provider, body=body, signature=signature
    )
