from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RoomCreateIn")


@_attrs_define
class RoomCreateIn:
    """Either `order_id` (the order's support room, created on first use) or `name` and
    `member_ids` (a group room; permission `chat:manage`).

        Attributes:
            order_id (int | None | Unset):
            name (None | str | Unset):
            member_ids (list[int] | Unset):
    """

    order_id: int | None | Unset = UNSET
    name: None | str | Unset = UNSET
    member_ids: list[int] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        order_id: int | None | Unset
        if isinstance(self.order_id, Unset):
            order_id = UNSET
        else:
            order_id = self.order_id

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        member_ids: list[int] | Unset = UNSET
        if not isinstance(self.member_ids, Unset):
            member_ids = self.member_ids

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if order_id is not UNSET:
            field_dict["order_id"] = order_id
        if name is not UNSET:
            field_dict["name"] = name
        if member_ids is not UNSET:
            field_dict["member_ids"] = member_ids

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_order_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        order_id = _parse_order_id(d.pop("order_id", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        member_ids = cast(list[int], d.pop("member_ids", UNSET))

        room_create_in = cls(
            order_id=order_id,
            name=name,
            member_ids=member_ids,
        )

        return room_create_in
