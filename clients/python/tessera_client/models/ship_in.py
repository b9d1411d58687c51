from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ShipIn")


@_attrs_define
class ShipIn:
    """
    Attributes:
        carrier (str):
        tracking_no (str):
    """

    carrier: str
    tracking_no: str

    def to_dict(self) -> dict[str, Any]:
        carrier = self.carrier

        tracking_no = self.tracking_no

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "carrier": carrier,
                "tracking_no": tracking_no,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        carrier = d.pop("carrier")

        tracking_no = d.pop("tracking_no")

        ship_in = cls(
            carrier=carrier,
            tracking_no=tracking_no,
        )

        return ship_in
