from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="OrderItemOut")


@_attrs_define
class OrderItemOut:
    """
    Attributes:
        product_id (int):
        sku (str):
        name (str):
        unit_price (str):
        quantity (int):
        line_total (str):
    """

    product_id: int
    sku: str
    name: str
    unit_price: str
    quantity: int
    line_total: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        product_id = self.product_id

        sku = self.sku

        name = self.name

        unit_price = self.unit_price

        quantity = self.quantity

        line_total = self.line_total

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "product_id": product_id,
                "sku": sku,
                "name": name,
                "unit_price": unit_price,
                "quantity": quantity,
                "line_total": line_total,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        product_id = d.pop("product_id")

        sku = d.pop("sku")

        name = d.pop("name")

        unit_price = d.pop("unit_price")

        quantity = d.pop("quantity")

        line_total = d.pop("line_total")

        order_item_out = cls(
            product_id=product_id,
            sku=sku,
            name=name,
            unit_price=unit_price,
            quantity=quantity,
            line_total=line_total,
        )

        order_item_out.additional_properties = d
        return order_item_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
