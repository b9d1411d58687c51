from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_line_in import OrderLineIn


T = TypeVar("T", bound="OrderCreateIn")


@_attrs_define
class OrderCreateIn:
    """
    Attributes:
        items (list[OrderLineIn]): one line per product (else 422 `order.duplicate_product`)
        shipping_address (None | str | Unset):
        note (None | str | Unset):
    """

    items: list[OrderLineIn]
    shipping_address: None | str | Unset = UNSET
    note: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        shipping_address: None | str | Unset
        if isinstance(self.shipping_address, Unset):
            shipping_address = UNSET
        else:
            shipping_address = self.shipping_address

        note: None | str | Unset
        if isinstance(self.note, Unset):
            note = UNSET
        else:
            note = self.note

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "items": items,
            }
        )
        if shipping_address is not UNSET:
            field_dict["shipping_address"] = shipping_address
        if note is not UNSET:
            field_dict["note"] = note

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order_line_in import OrderLineIn

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = OrderLineIn.from_dict(items_item_data)

            items.append(items_item)

        def _parse_shipping_address(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        shipping_address = _parse_shipping_address(d.pop("shipping_address", UNSET))

        def _parse_note(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        note = _parse_note(d.pop("note", UNSET))

        order_create_in = cls(
            items=items,
            shipping_address=shipping_address,
            note=note,
        )

        return order_create_in
