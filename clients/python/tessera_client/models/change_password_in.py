from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ChangePasswordIn")


@_attrs_define
class ChangePasswordIn:
    """
    Attributes:
        current_password (str):
        new_password (str): 8-256 characters; not the username, not a common password, not one repeated character (else
            422 `user.weak_password`)
    """

    current_password: str
    new_password: str

    def to_dict(self) -> dict[str, Any]:
        current_password = self.current_password

        new_password = self.new_password

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "current_password": current_password,
                "new_password": new_password,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        current_password = d.pop("current_password")

        new_password = d.pop("new_password")

        change_password_in = cls(
            current_password=current_password,
            new_password=new_password,
        )

        return change_password_in
