from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RegisterIn")


@_attrs_define
class RegisterIn:
    """
    Attributes:
        username (str):
        email (str):
        password (str): 8-256 characters; not the username, not a common password, not one repeated character (else 422
            `user.weak_password`)
        phone (None | str | Unset):
    """

    username: str
    email: str
    password: str
    phone: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        username = self.username

        email = self.email

        password = self.password

        phone: None | str | Unset
        if isinstance(self.phone, Unset):
            phone = UNSET
        else:
            phone = self.phone

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "username": username,
                "email": email,
                "password": password,
            }
        )
        if phone is not UNSET:
            field_dict["phone"] = phone

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        username = d.pop("username")

        email = d.pop("email")

        password = d.pop("password")

        def _parse_phone(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        phone = _parse_phone(d.pop("phone", UNSET))

        register_in = cls(
            username=username,
            email=email,
            password=password,
            phone=phone,
        )

        return register_in
