"""What can be exported: each kind's columns, who may export it, and where its rows come from.

Rows come from the owning block's service (`order_rows`, `product_rows`, `user_rows`): keyset
pages of plain tuples, read with the same filters as that block's list endpoint, so an export
shows exactly what the list would and memory does not grow with the row count. The permission
rules mirror the lists': everyone exports their own orders, `order:read:any` anyone's;
products need `product:manage`; users need `user:manage`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from tessera.blocks.order import service as order_service
from tessera.blocks.report.model.dto import OrderFilters, ProductFilters, UserFilters
from tessera.blocks.report.service.common import (
    ORDER_READ_ANY,
    PRODUCT_MANAGE,
    USER_MANAGE,
)
from tessera.blocks.user import service as user_service
from tessera.lib.errors import Forbidden
from tessera.lib.office import Column
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal

Batches = AsyncIterator[Sequence[Sequence[object]]]


@dataclass(frozen=True)
class Source:
    kind: str
    sheet_name: str
    columns: tuple[Column, ...]
    filters: type[BaseModel]
    # (principal, filters) -> the filters this principal may use (raises Forbidden).
    authorize: Callable[[Principal, Any], Any]
    count: Callable[[Runtime, Any], Awaitable[int]]
    rows: Callable[[Runtime, Any, int], Batches]


def _denied(permission: str) -> Forbidden:
    return Forbidden(f"Missing permission {permission}.", code="auth.permission_denied")


def _authorize_orders(principal: Principal, filters: OrderFilters) -> OrderFilters:
    if principal.has(ORDER_READ_ANY):
        return filters
    # Without order:read:any, as in GET /orders: only your own orders.
    return filters.model_copy(update={"user_id": principal.id})


def _require(permission: str) -> Callable[[Principal, Any], Any]:
    def authorize(principal: Principal, filters: Any) -> Any:
        if not principal.has(permission):
            raise _denied(permission)
        return filters

    return authorize


async def _count_orders(runtime: Runtime, filters: OrderFilters) -> int:
    return await order_service.count_orders(
        runtime=runtime, status=filters.status, user_id=filters.user_id
    )


def _order_rows(runtime: Runtime, filters: OrderFilters, batch_rows: int) -> Batches:
    return order_service.order_rows(
        runtime=runtime, status=filters.status, user_id=filters.user_id, batch_rows=batch_rows
    )


async def _count_products(runtime: Runtime, filters: ProductFilters) -> int:
    return await order_service.count_products(
        runtime=runtime,
        q=filters.q,
        min_price=filters.min_price,
        max_price=filters.max_price,
        status=filters.status,
    )


def _product_rows(runtime: Runtime, filters: ProductFilters, batch_rows: int) -> Batches:
    return order_service.product_rows(
        runtime=runtime,
        q=filters.q,
        min_price=filters.min_price,
        max_price=filters.max_price,
        status=filters.status,
        batch_rows=batch_rows,
    )


async def _count_users(runtime: Runtime, filters: UserFilters) -> int:
    return await user_service.count_users(
        runtime=runtime, q=filters.q, role=filters.role, is_active=filters.is_active
    )


def _user_rows(runtime: Runtime, filters: UserFilters, batch_rows: int) -> Batches:
    return user_service.user_rows(
        runtime=runtime,
        q=filters.q,
        role=filters.role,
        is_active=filters.is_active,
        batch_rows=batch_rows,
    )


SOURCES: dict[str, Source] = {
    "orders": Source(
        kind="orders",
        sheet_name="Orders",
        columns=(
            Column("ID", "int"),
            Column("Order no.", "text", width=20),
            Column("User ID", "int"),
            Column("Status", "text", width=16),
            Column("Total", "money"),
            Column("Currency", "text", width=9),
            Column("Payment", "text", width=12),
            Column("Tracking no.", "text", width=18),
            Column("Created at", "datetime"),
            Column("Updated at", "datetime"),
        ),
        filters=OrderFilters,
        authorize=_authorize_orders,
        count=_count_orders,
        rows=_order_rows,
    ),
    "products": Source(
        kind="products",
        sheet_name="Products",
        columns=(
            Column("ID", "int"),
            Column("SKU", "text", width=18),
            Column("Name", "text", width=32),
            Column("Description", "text", width=40),
            Column("Price", "money"),
            Column("Currency", "text", width=9),
            Column("Stock", "int"),
            Column("Status", "text", width=10),
            Column("Created at", "datetime"),
            Column("Updated at", "datetime"),
        ),
        filters=ProductFilters,
        authorize=_require(PRODUCT_MANAGE),
        count=_count_products,
        rows=_product_rows,
    ),
    "users": Source(
        kind="users",
        sheet_name="Users",
        columns=(
            Column("ID", "int"),
            Column("Username", "text", width=18),
            Column("Email", "text", width=28),
            Column("Phone", "text", width=16),
            Column("Display name", "text", width=18),
            Column("Roles", "text", width=16),
            Column("Active", "bool"),
            Column("Email verified", "bool"),
            Column("Created at", "datetime"),
        ),
        filters=UserFilters,
        authorize=_require(USER_MANAGE),
        count=_count_users,
        rows=_user_rows,
    ),
}
