from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ReadIn")


@_attrs_define
class ReadIn:
    """
    Attributes:
        message_id (int): The newest message the user has seen
    """

    message_id: int

    def to_dict(self) -> dict[str, Any]:
        message_id = self.message_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "message_id": message_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        message_id = d.pop("message_id")

        read_in = cls(
            message_id=message_id,
        )

        return read_in
