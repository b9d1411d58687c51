from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..models.order_filters_status_type_0 import OrderFiltersStatusType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="OrderFilters")


@_attrs_define
class OrderFilters:
    """The filters of `GET /orders`.

    Attributes:
        status (None | OrderFiltersStatusType0 | Unset):
        user_id (int | None | Unset):
    """

    status: None | OrderFiltersStatusType0 | Unset = UNSET
    user_id: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        status: None | str | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        elif isinstance(self.status, OrderFiltersStatusType0):
            status = self.status.value
        else:
            status = self.status

        user_id: int | None | Unset
        if isinstance(self.user_id, Unset):
            user_id = UNSET
        else:
            user_id = self.user_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if status is not UNSET:
            field_dict["status"] = status
        if user_id is not UNSET:
            field_dict["user_id"] = user_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_status(data: object) -> None | OrderFiltersStatusType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = OrderFiltersStatusType0(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OrderFiltersStatusType0 | Unset, data)

        status = _parse_status(d.pop("status", UNSET))

        def _parse_user_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        user_id = _parse_user_id(d.pop("user_id", UNSET))

        order_filters = cls(
            status=status,
            user_id=user_id,
        )

        return order_filters
