from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="MfaSmsIn")


@_attrs_define
class MfaSmsIn:
    """
    Attributes:
        mfa_token (str):
    """

    mfa_token: str

    def to_dict(self) -> dict[str, Any]:
        mfa_token = self.mfa_token

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "mfa_token": mfa_token,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        mfa_token = d.pop("mfa_token")

        mfa_sms_in = cls(
            mfa_token=mfa_token,
        )

        return mfa_sms_in
