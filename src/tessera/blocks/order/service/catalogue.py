"""The product catalogue: staff create, edit and (softly) delete products; everyone reads them,
one product through the cache, lists from the database.

Each edit is one transaction that publishes `product.changed` (reason `created`, `updated`
or `deleted`) and drops the product's cache entry after commit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from sqlalchemy.exc import IntegrityError

from tessera.blocks.order import dao
from tessera.blocks.order.model.do import ProductDO
from tessera.blocks.order.model.dto import ProductCreateIn, ProductOut, ProductUpdateIn
from tessera.blocks.order.service.common import (
    forget_after_commit,
    product_key,
    product_out,
    publish_product_changed,
)
from tessera.lib.db import utcnow
from tessera.lib.errors import Conflict, NotFound, ValidationFailed
from tessera.lib.pagination import Page, PageParams
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal

PRODUCT_MANAGE: Final = "product:manage"


async def create_product(*, runtime: Runtime, data: ProductCreateIn) -> ProductOut:
    try:
        async with runtime.db.transaction() as uow:
            if await dao.sku_exists(uow.session, data.sku):
                raise Conflict(f"SKU {data.sku} already exists.", code="product.sku_taken")
            product = ProductDO(
                sku=data.sku,
                name=data.name,
                description=data.description,
                price=data.price,
                currency=data.currency or runtime.settings.order.default_currency,
                stock=data.stock,
                status=data.status,
            )
            await dao.add(uow.session, product)
            out = product_out(product)
            await publish_product_changed(uow, runtime, [product.id], "created")
    except IntegrityError as exc:
        # A concurrent create took the SKU between our check and our insert.
        raise Conflict(f"SKU {data.sku} already exists.", code="product.sku_taken") from exc
    return out


async def update_product(*, runtime: Runtime, product_id: int, data: ProductUpdateIn) -> ProductOut:
    changes = data.model_dump(exclude_unset=True)
    async with runtime.db.transaction() as uow:
        product = await dao.get_product(uow.session, product_id)
        if product is None:
            raise NotFound("No such product.", code="product.not_found")
        for name, value in changes.items():
            setattr(product, name, value)
        product.updated_at = utcnow()
        await uow.session.flush()
        await uow.session.refresh(product)
        out = product_out(product)
        forget_after_commit(uow, runtime, product_key(runtime, product_id))
        await publish_product_changed(uow, runtime, [product_id], "updated")
    return out


async def delete_product(*, runtime: Runtime, product_id: int) -> None:
    """Soft delete: the product disappears from the catalogue; old orders keep their lines."""
    async with runtime.db.transaction() as uow:
        product = await dao.get_product(uow.session, product_id)
        if product is None:
            raise NotFound("No such product.", code="product.not_found")
        product.deleted_at = utcnow()
        product.status = "inactive"
        forget_after_commit(uow, runtime, product_key(runtime, product_id))
        await publish_product_changed(uow, runtime, [product_id], "deleted")


async def get_product(*, runtime: Runtime, product_id: int) -> ProductOut:
    """Cached read (cache-aside, single flight); invalidated after every committed change."""

    async def load() -> ProductOut | None:
        async with runtime.db.read() as session:
            product = await dao.get_product(session, product_id)
            return None if product is None else product_out(product)

    product = await runtime.cache.get_or_load_model(
        product_key(runtime, product_id),
        load,
        ProductOut,
        ttl_seconds=runtime.settings.order.product_cache_ttl_seconds,
    )
    if product is None:
        raise NotFound("No such product.", code="product.not_found")
    return product


async def list_products(
    *,
    runtime: Runtime,
    viewer: Principal | None,
    paging: PageParams,
    q: str | None,
    min_price: Decimal | None,
    max_price: Decimal | None,
    status: str | None,
    sort: str,
) -> Page[ProductOut]:
    if min_price is not None and max_price is not None and min_price > max_price:
        raise ValidationFailed(
            "min_price is above max_price.",
            code="product.bad_price_range",
            errors=[{"loc": ["query", "min_price"], "msg": "above max_price", "type": "range"}],
        )
    is_staff = viewer is not None and viewer.has(PRODUCT_MANAGE)
    if not is_staff:
        # Shoppers see the active catalogue only.
        if status not in (None, "active"):
            return Page[ProductOut].of([], 0, paging)
        status = "active"
    async with runtime.db.read() as session:
        rows, total = await dao.search_products(
            session,
            q=q,
            min_price=min_price,
            max_price=max_price,
            status=status,
            sort=sort,
            offset=paging.offset,
            limit=paging.size,
        )
        items = [product_out(row) for row in rows]
    return Page[ProductOut].of(items, total, paging)
