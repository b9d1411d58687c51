from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.room_out_kind import RoomOutKind

if TYPE_CHECKING:
    from ..models.message_out import MessageOut


T = TypeVar("T", bound="RoomOut")


@_attrs_define
class RoomOut:
    """
    Attributes:
        id (int):
        kind (RoomOutKind):
        name (None | str):
        order_id (int | None):
        member_ids (list[int]):
        unread_count (int):
        last_read_message_id (int):
        last_message (MessageOut | None):
        created_at (datetime.datetime):
    """

    id: int
    kind: RoomOutKind
    name: None | str
    order_id: int | None
    member_ids: list[int]
    unread_count: int
    last_read_message_id: int
    last_message: MessageOut | None
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.message_out import MessageOut

        id = self.id

        kind = self.kind.value

        name: None | str
        name = self.name

        order_id: int | None
        order_id = self.order_id

        member_ids = self.member_ids

        unread_count = self.unread_count

        last_read_message_id = self.last_read_message_id

        last_message: dict[str, Any] | None
        if isinstance(self.last_message, MessageOut):
            last_message = self.last_message.to_dict()
        else:
            last_message = self.last_message

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "kind": kind,
                "name": name,
                "order_id": order_id,
                "member_ids": member_ids,
                "unread_count": unread_count,
                "last_read_message_id": last_read_message_id,
                "last_message": last_message,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.message_out import MessageOut

        d = dict(src_dict)
        id = d.pop("id")

        kind = RoomOutKind(d.pop("kind"))

        def _parse_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        name = _parse_name(d.pop("name"))

        def _parse_order_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        order_id = _parse_order_id(d.pop("order_id"))

        member_ids = cast(list[int], d.pop("member_ids"))

        unread_count = d.pop("unread_count")

        last_read_message_id = d.pop("last_read_message_id")

        def _parse_last_message(data: object) -> MessageOut | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                last_message_type_0 = MessageOut.from_dict(data)

                return last_message_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MessageOut | None, data)

        last_message = _parse_last_message(d.pop("last_message"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        room_out = cls(
            id=id,
            kind=kind,
            name=name,
            order_id=order_id,
            member_ids=member_ids,
            unread_count=unread_count,
            last_read_message_id=last_read_message_id,
            last_message=last_message,
            created_at=created_at,
        )

        room_out.additional_properties = d
        return room_out

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
