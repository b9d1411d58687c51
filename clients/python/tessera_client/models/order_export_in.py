from __future__ import annotations

from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    Self,
    TypeVar,
    cast,
)

from attrs import define as _attrs_define

from ..models.order_export_in_format import OrderExportInFormat
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_filters import OrderFilters


T = TypeVar("T", bound="OrderExportIn")


@_attrs_define
class OrderExportIn:
    """
    Attributes:
        kind (Literal['orders']):
        format_ (OrderExportInFormat | Unset):  Default: OrderExportInFormat.XLSX.
        filters (OrderFilters | Unset): The filters of `GET /orders`.
    """

    kind: Literal["orders"]
    format_: OrderExportInFormat | Unset = OrderExportInFormat.XLSX
    filters: OrderFilters | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind

        format_: str | Unset = UNSET
        if not isinstance(self.format_, Unset):
            format_ = self.format_.value

        filters: dict[str, Any] | Unset = UNSET
        if not isinstance(self.filters, Unset):
            filters = self.filters.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
            }
        )
        if format_ is not UNSET:
            field_dict["format"] = format_
        if filters is not UNSET:
            field_dict["filters"] = filters

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order_filters import OrderFilters

        d = dict(src_dict)
        kind = cast(Literal["orders"], d.pop("kind"))
        if kind != "orders":
            raise ValueError(f"kind must match const 'orders', got '{kind}'")

        _format_ = d.pop("format", UNSET)
        format_: OrderExportInFormat | Unset
        if isinstance(_format_, Unset):
            format_ = UNSET
        else:
            format_ = OrderExportInFormat(_format_)

        _filters = d.pop("filters", UNSET)
        filters: OrderFilters | Unset
        if isinstance(_filters, Unset):
            filters = UNSET
        else:
            filters = OrderFilters.from_dict(_filters)

        order_export_in = cls(
            kind=kind,
            format_=format_,
            filters=filters,
        )

        return order_export_in
