from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="UserOut")


@_attrs_define
class UserOut:
    """
    Attributes:
        id (int):
        username (str):
        email (str):
        phone (None | str):
        display_name (None | str):
        locale (str):
        roles (list[str]):
        is_active (bool):
        created_at (datetime.datetime):
        email_verified (bool | Unset):  Default: False.
        phone_verified (bool | Unset):  Default: False.
        mfa_enabled (bool | Unset):  Default: False.
        avatar_url (None | str | Unset):
    """

    id: int
    username: str
    email: str
    phone: None | str
    display_name: None | str
    locale: str
    roles: list[str]
    is_active: bool
    created_at: datetime.datetime
    email_verified: bool | Unset = False
    phone_verified: bool | Unset = False
    mfa_enabled: bool | Unset = False
    avatar_url: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        username = self.username

        email = self.email

        phone: None | str
        phone = self.phone

        display_name: None | str
        display_name = self.display_name

        locale = self.locale

        roles = self.roles

        is_active = self.is_active

        created_at = self.created_at.isoformat()

        email_verified = self.email_verified

        phone_verified = self.phone_verified

        mfa_enabled = self.mfa_enabled

        avatar_url: None | str | Unset
        if isinstance(self.avatar_url, Unset):
            avatar_url = UNSET
        else:
            avatar_url = self.avatar_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "username": username,
                "email": email,
                "phone": phone,
                "display_name": display_name,
                "locale": locale,
                "roles": roles,
                "is_active": is_active,
                "created_at": created_at,
            }
        )
        if email_verified is not UNSET:
            field_dict["email_verified"] = email_verified
        if phone_verified is not UNSET:
            field_dict["phone_verified"] = phone_verified
        if mfa_enabled is not UNSET:
            field_dict["mfa_enabled"] = mfa_enabled
        if avatar_url is not UNSET:
            field_dict["avatar_url"] = avatar_url

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        username = d.pop("username")

        email = d.pop("email")

        def _parse_phone(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        phone = _parse_phone(d.pop("phone"))

        def _parse_display_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        display_name = _parse_display_name(d.pop("display_name"))

        locale = d.pop("locale")

        roles = cast(list[str], d.pop("roles"))

        is_active = d.pop("is_active")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        email_verified = d.pop("email_verified", UNSET)

        phone_verified = d.pop("phone_verified", UNSET)

        mfa_enabled = d.pop("mfa_enabled", UNSET)

        def _parse_avatar_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        avatar_url = _parse_avatar_url(d.pop("avatar_url", UNSET))

        user_out = cls(
            id=id,
            username=username,
            email=email,
            phone=phone,
            display_name=display_name,
            locale=locale,
            roles=roles,
            is_active=is_active,
            created_at=created_at,
            email_verified=email_verified,
            phone_verified=phone_verified,
            mfa_enabled=mfa_enabled,
            avatar_url=avatar_url,
        )

        user_out.additional_properties = d
        return user_out

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
