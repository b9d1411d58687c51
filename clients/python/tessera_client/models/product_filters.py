from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.product_filters_status_type_0 import ProductFiltersStatusType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="ProductFilters")


@_attrs_define
class ProductFilters:
    """The filters of `GET /products`.

    Attributes:
        q (None | str | Unset):
        min_price (None | str | Unset):
        max_price (None | str | Unset):
        status (None | ProductFiltersStatusType0 | Unset):
    """

    q: None | str | Unset = UNSET
    min_price: None | str | Unset = UNSET
    max_price: None | str | Unset = UNSET
    status: None | ProductFiltersStatusType0 | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        q: None | str | Unset
        if isinstance(self.q, Unset):
            q = UNSET
        else:
            q = self.q

        min_price: None | str | Unset
        if isinstance(self.min_price, Unset):
            min_price = UNSET
        else:
            min_price = self.min_price

        max_price: None | str | Unset
        if isinstance(self.max_price, Unset):
            max_price = UNSET
        else:
            max_price = self.max_price

        status: None | str | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        elif isinstance(self.status, ProductFiltersStatusType0):
            status = self.status.value
        else:
            status = self.status

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if q is not UNSET:
            field_dict["q"] = q
        if min_price is not UNSET:
            field_dict["min_price"] = min_price
        if max_price is not UNSET:
            field_dict["max_price"] = max_price
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_q(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        q = _parse_q(d.pop("q", UNSET))

        def _parse_min_price(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        min_price = _parse_min_price(d.pop("min_price", UNSET))

        def _parse_max_price(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        max_price = _parse_max_price(d.pop("max_price", UNSET))

        def _parse_status(data: object) -> None | ProductFiltersStatusType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = ProductFiltersStatusType0(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ProductFiltersStatusType0 | Unset, data)

        status = _parse_status(d.pop("status", UNSET))

        product_filters = cls(
            q=q,
            min_price=min_price,
            max_price=max_price,
            status=status,
        )

        return product_filters
