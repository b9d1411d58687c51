from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="LoginAuditOut")


@_attrs_define
class LoginAuditOut:
    """
    Attributes:
        id (int):
        user_id (int | None):
        identifier (str):
        ip (None | str):
        user_agent (None | str):
        outcome (str):
        created_at (datetime.datetime):
    """

    id: int
    user_id: int | None
    identifier: str
    ip: None | str
    user_agent: None | str
    outcome: str
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        user_id: int | None
        user_id = self.user_id

        identifier = self.identifier

        ip: None | str
        ip = self.ip

        user_agent: None | str
        user_agent = self.user_agent

        outcome = self.outcome

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "user_id": user_id,
                "identifier": identifier,
                "ip": ip,
                "user_agent": user_agent,
                "outcome": outcome,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        def _parse_user_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        user_id = _parse_user_id(d.pop("user_id"))

        identifier = d.pop("identifier")

        def _parse_ip(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ip = _parse_ip(d.pop("ip"))

        def _parse_user_agent(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        user_agent = _parse_user_agent(d.pop("user_agent"))

        outcome = d.pop("outcome")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        login_audit_out = cls(
            id=id,
            user_id=user_id,
            identifier=identifier,
            ip=ip,
            user_agent=user_agent,
            outcome=outcome,
            created_at=created_at,
        )

        login_audit_out.additional_properties = d
        return login_audit_out

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
