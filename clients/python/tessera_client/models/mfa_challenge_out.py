from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.mfa_challenge_out_methods_item import MfaChallengeOutMethodsItem
from ..types import UNSET, Unset

T = TypeVar("T", bound="MfaChallengeOut")


@_attrs_define
class MfaChallengeOut:
    """`POST /auth/login` answer when a second factor is needed: no token yet.

    Attributes:
        mfa_token (str): present it to POST /auth/login/mfa within minutes
        methods (list[MfaChallengeOutMethodsItem]):
        expires_in (int):
        mfa_required (bool | Unset):  Default: True.
    """

    mfa_token: str
    methods: list[MfaChallengeOutMethodsItem]
    expires_in: int
    mfa_required: bool | Unset = True
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        mfa_token = self.mfa_token

        methods = []
        for methods_item_data in self.methods:
            methods_item = methods_item_data.value
            methods.append(methods_item)

        expires_in = self.expires_in

        mfa_required = self.mfa_required

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "mfa_token": mfa_token,
                "methods": methods,
                "expires_in": expires_in,
            }
        )
        if mfa_required is not UNSET:
            field_dict["mfa_required"] = mfa_required

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        mfa_token = d.pop("mfa_token")

        methods = []
        _methods = d.pop("methods")
        for methods_item_data in _methods:
            methods_item = MfaChallengeOutMethodsItem(methods_item_data)

            methods.append(methods_item)

        expires_in = d.pop("expires_in")

        mfa_required = d.pop("mfa_required", UNSET)

        mfa_challenge_out = cls(
            mfa_token=mfa_token,
            methods=methods,
            expires_in=expires_in,
            mfa_required=mfa_required,
        )

        mfa_challenge_out.additional_properties = d
        return mfa_challenge_out

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
