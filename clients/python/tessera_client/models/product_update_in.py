from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.product_update_in_status import ProductUpdateInStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="ProductUpdateIn")


@_attrs_define
class ProductUpdateIn:
    """
    Attributes:
        name (str | Unset):
        description (str | Unset):
        price (str | Unset):
        currency (str | Unset):
        stock (int | Unset):
        status (ProductUpdateInStatus | Unset):
    """

    name: str | Unset = UNSET
    description: str | Unset = UNSET
    price: str | Unset = UNSET
    currency: str | Unset = UNSET
    stock: int | Unset = UNSET
    status: ProductUpdateInStatus | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        description = self.description

        price = self.price

        currency = self.currency

        stock = self.stock

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if description is not UNSET:
            field_dict["description"] = description
        if price is not UNSET:
            field_dict["price"] = price
        if currency is not UNSET:
            field_dict["currency"] = currency
        if stock is not UNSET:
            field_dict["stock"] = stock
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        description = d.pop("description", UNSET)

        price = d.pop("price", UNSET)

        currency = d.pop("currency", UNSET)

        stock = d.pop("stock", UNSET)

        _status = d.pop("status", UNSET)
        status: ProductUpdateInStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = ProductUpdateInStatus(_status)

        product_update_in = cls(
            name=name,
            description=description,
            price=price,
            currency=currency,
            stock=stock,
            status=status,
        )

        return product_update_in
