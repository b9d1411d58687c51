from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.product_create_in_status import ProductCreateInStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="ProductCreateIn")


@_attrs_define
class ProductCreateIn:
    """
    Attributes:
        sku (str):
        name (str):
        price (str):
        stock (int):
        description (str | Unset):  Default: ''.
        currency (None | str | Unset):
        status (ProductCreateInStatus | Unset):  Default: ProductCreateInStatus.ACTIVE.
    """

    sku: str
    name: str
    price: str
    stock: int
    description: str | Unset = ""
    currency: None | str | Unset = UNSET
    status: ProductCreateInStatus | Unset = ProductCreateInStatus.ACTIVE

    def to_dict(self) -> dict[str, Any]:
        sku = self.sku

        name = self.name

        price = self.price

        stock = self.stock

        description = self.description

        currency: None | str | Unset
        if isinstance(self.currency, Unset):
            currency = UNSET
        else:
            currency = self.currency

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sku": sku,
                "name": name,
                "price": price,
                "stock": stock,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if currency is not UNSET:
            field_dict["currency"] = currency
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        sku = d.pop("sku")

        name = d.pop("name")

        price = d.pop("price")

        stock = d.pop("stock")

        description = d.pop("description", UNSET)

        def _parse_currency(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        currency = _parse_currency(d.pop("currency", UNSET))

        _status = d.pop("status", UNSET)
        status: ProductCreateInStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = ProductCreateInStatus(_status)

        product_create_in = cls(
            sku=sku,
            name=name,
            price=price,
            stock=stock,
            description=description,
            currency=currency,
            status=status,
        )

        return product_create_in
