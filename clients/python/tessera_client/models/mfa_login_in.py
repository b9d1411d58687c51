from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.mfa_login_in_method import MfaLoginInMethod
from ..types import UNSET, Unset

T = TypeVar("T", bound="MfaLoginIn")


@_attrs_define
class MfaLoginIn:
    """
    Attributes:
        mfa_token (str):
        code (str):
        method (MfaLoginInMethod | Unset):  Default: MfaLoginInMethod.TOTP.
    """

    mfa_token: str
    code: str
    method: MfaLoginInMethod | Unset = MfaLoginInMethod.TOTP

    def to_dict(self) -> dict[str, Any]:
        mfa_token = self.mfa_token

        code = self.code

        method: str | Unset = UNSET
        if not isinstance(self.method, Unset):
            method = self.method.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "mfa_token": mfa_token,
                "code": code,
            }
        )
        if method is not UNSET:
            field_dict["method"] = method

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        mfa_token = d.pop("mfa_token")

        code = d.pop("code")

        _method = d.pop("method", UNSET)
        method: MfaLoginInMethod | Unset
        if isinstance(_method, Unset):
            method = UNSET
        else:
            method = MfaLoginInMethod(_method)

        mfa_login_in = cls(
            mfa_token=mfa_token,
            code=code,
            method=method,
        )

        return mfa_login_in
