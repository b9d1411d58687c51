from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.sms_code_in_purpose import SmsCodeInPurpose

T = TypeVar("T", bound="SmsCodeIn")


@_attrs_define
class SmsCodeIn:
    """
    Attributes:
        phone (str):
        purpose (SmsCodeInPurpose):
    """

    phone: str
    purpose: SmsCodeInPurpose

    def to_dict(self) -> dict[str, Any]:
        phone = self.phone

        purpose = self.purpose.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "phone": phone,
                "purpose": purpose,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        phone = d.pop("phone")

        purpose = SmsCodeInPurpose(d.pop("purpose"))

        sms_code_in = cls(
            phone=phone,
            purpose=purpose,
        )

        return sms_code_in
