from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="MessageIn")


@_attrs_define
class MessageIn:
    """
    Attributes:
        text (str):
        client_ref (None | str | Unset): Your id for this send: a retry with the same value stores one message
    """

    text: str
    client_ref: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        text = self.text

        client_ref: None | str | Unset
        if isinstance(self.client_ref, Unset):
            client_ref = UNSET
        else:
            client_ref = self.client_ref

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "text": text,
            }
        )
        if client_ref is not UNSET:
            field_dict["client_ref"] = client_ref

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        text = d.pop("text")

        def _parse_client_ref(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_ref = _parse_client_ref(d.pop("client_ref", UNSET))

        message_in = cls(
            text=text,
            client_ref=client_ref,
        )

        return message_in
