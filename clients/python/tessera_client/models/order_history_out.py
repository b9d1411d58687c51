from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="OrderHistoryOut")


@_attrs_define
class OrderHistoryOut:
    """
    Attributes:
        from_status (None | str):
        to_status (str):
        actor (str):
        actor_id (int | None):
        reason (None | str):
        at (datetime.datetime):
    """

    from_status: None | str
    to_status: str
    actor: str
    actor_id: int | None
    reason: None | str
    at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from_status: None | str
        from_status = self.from_status

        to_status = self.to_status

        actor = self.actor

        actor_id: int | None
        actor_id = self.actor_id

        reason: None | str
        reason = self.reason

        at = self.at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "from_status": from_status,
                "to_status": to_status,
                "actor": actor,
                "actor_id": actor_id,
                "reason": reason,
                "at": at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_from_status(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        from_status = _parse_from_status(d.pop("from_status"))

        to_status = d.pop("to_status")

        actor = d.pop("actor")

        def _parse_actor_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        actor_id = _parse_actor_id(d.pop("actor_id"))

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        at = datetime.datetime.fromisoformat(d.pop("at"))

        order_history_out = cls(
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            actor_id=actor_id,
            reason=reason,
            at=at,
        )

        order_history_out.additional_properties = d
        return order_history_out

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
