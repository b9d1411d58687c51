from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RoomCreateInType0")


@_attrs_define
class RoomCreateInType0:
    """
    Attributes:
        order_id (Any):
        name (None | Unset):
        member_ids (Any | Unset):
    """

    order_id: Any
    name: None | Unset = UNSET
    member_ids: Any | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        order_id = self.order_id

        name = self.name

        member_ids = self.member_ids

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "order_id": order_id,
            }
        )
        if name is not UNSET:
            field_dict["name"] = name
        if member_ids is not UNSET:
            field_dict["member_ids"] = member_ids

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        order_id = d.pop("order_id")

        name = d.pop("name", UNSET)

        member_ids = d.pop("member_ids", UNSET)

        room_create_in_type_0 = cls(
            order_id=order_id,
            name=name,
            member_ids=member_ids,
        )

        room_create_in_type_0.additional_properties = d
        return room_create_in_type_0

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
