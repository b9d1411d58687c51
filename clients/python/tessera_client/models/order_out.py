from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_item_out import OrderItemOut


T = TypeVar("T", bound="OrderOut")


@_attrs_define
class OrderOut:
    """
    Attributes:
        id (int):
        order_no (str):
        user_id (int):
        status (str):
        items (list[OrderItemOut]):
        total (str):
        currency (str):
        shipping_address (None | str):
        note (None | str):
        payment_method (None | str):
        carrier (None | str):
        tracking_no (None | str):
        expires_at (datetime.datetime | None):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        refunded_amount (str | Unset):  Default: '0.00'.
    """

    id: int
    order_no: str
    user_id: int
    status: str
    items: list[OrderItemOut]
    total: str
    currency: str
    shipping_address: None | str
    note: None | str
    payment_method: None | str
    carrier: None | str
    tracking_no: None | str
    expires_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    refunded_amount: str | Unset = "0.00"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        order_no = self.order_no

        user_id = self.user_id

        status = self.status

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        total = self.total

        currency = self.currency

        shipping_address: None | str
        shipping_address = self.shipping_address

        note: None | str
        note = self.note

        payment_method: None | str
        payment_method = self.payment_method

        carrier: None | str
        carrier = self.carrier

        tracking_no: None | str
        tracking_no = self.tracking_no

        expires_at: None | str
        if isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        refunded_amount = self.refunded_amount

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "order_no": order_no,
                "user_id": user_id,
                "status": status,
                "items": items,
                "total": total,
                "currency": currency,
                "shipping_address": shipping_address,
                "note": note,
                "payment_method": payment_method,
                "carrier": carrier,
                "tracking_no": tracking_no,
                "expires_at": expires_at,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if refunded_amount is not UNSET:
            field_dict["refunded_amount"] = refunded_amount

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order_item_out import OrderItemOut

        d = dict(src_dict)
        id = d.pop("id")

        order_no = d.pop("order_no")

        user_id = d.pop("user_id")

        status = d.pop("status")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = OrderItemOut.from_dict(items_item_data)

            items.append(items_item)

        total = d.pop("total")

        currency = d.pop("currency")

        def _parse_shipping_address(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        shipping_address = _parse_shipping_address(d.pop("shipping_address"))

        def _parse_note(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        note = _parse_note(d.pop("note"))

        def _parse_payment_method(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        payment_method = _parse_payment_method(d.pop("payment_method"))

        def _parse_carrier(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        carrier = _parse_carrier(d.pop("carrier"))

        def _parse_tracking_no(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        tracking_no = _parse_tracking_no(d.pop("tracking_no"))

        def _parse_expires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        expires_at = _parse_expires_at(d.pop("expires_at"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        refunded_amount = d.pop("refunded_amount", UNSET)

        order_out = cls(
            id=id,
            order_no=order_no,
            user_id=user_id,
            status=status,
            items=items,
            total=total,
            currency=currency,
            shipping_address=shipping_address,
            note=note,
            payment_method=payment_method,
            carrier=carrier,
            tracking_no=tracking_no,
            expires_at=expires_at,
            created_at=created_at,
            updated_at=updated_at,
            refunded_amount=refunded_amount,
        )

        order_out.additional_properties = d
        return order_out

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
