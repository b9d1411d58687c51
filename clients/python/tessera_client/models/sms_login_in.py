from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="SmsLoginIn")


@_attrs_define
class SmsLoginIn:
    """
    Attributes:
        phone (str):
        code (str):
    """

    phone: str
    code: str

    def to_dict(self) -> dict[str, Any]:
        phone = self.phone

        code = self.code

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "phone": phone,
                "code": code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        phone = d.pop("phone")

        code = d.pop("code")

        sms_login_in = cls(
            phone=phone,
            code=code,
        )

        return sms_login_in
