from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="MembersIn")


@_attrs_define
class MembersIn:
    """
    Attributes:
        user_ids (list[int]):
    """

    user_ids: list[int]

    def to_dict(self) -> dict[str, Any]:
        user_ids = self.user_ids

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "user_ids": user_ids,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        user_ids = cast(list[int], d.pop("user_ids"))

        members_in = cls(
            user_ids=user_ids,
        )

        return members_in
