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

from ..models.product_export_in_format import ProductExportInFormat
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.product_filters import ProductFilters


T = TypeVar("T", bound="ProductExportIn")


@_attrs_define
class ProductExportIn:
    """
    Attributes:
        kind (Literal['products']):
        format_ (ProductExportInFormat | Unset):  Default: ProductExportInFormat.XLSX.
        filters (ProductFilters | Unset): The filters of `GET /products`.
    """

    kind: Literal["products"]
    format_: ProductExportInFormat | Unset = ProductExportInFormat.XLSX
    filters: ProductFilters | Unset = UNSET

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
        from ..models.product_filters import ProductFilters

        d = dict(src_dict)
        kind = cast(Literal["products"], d.pop("kind"))
        if kind != "products":
            raise ValueError(f"kind must match const 'products', got '{kind}'")

        _format_ = d.pop("format", UNSET)
        format_: ProductExportInFormat | Unset
        if isinstance(_format_, Unset):
            format_ = UNSET
        else:
            format_ = ProductExportInFormat(_format_)

        _filters = d.pop("filters", UNSET)
        filters: ProductFilters | Unset
        if isinstance(_filters, Unset):
            filters = UNSET
        else:
            filters = ProductFilters.from_dict(_filters)

        product_export_in = cls(
            kind=kind,
            format_=format_,
            filters=filters,
        )

        return product_export_in
