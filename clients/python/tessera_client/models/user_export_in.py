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

from ..models.user_export_in_format import UserExportInFormat
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.user_filters import UserFilters


T = TypeVar("T", bound="UserExportIn")


@_attrs_define
class UserExportIn:
    """
    Attributes:
        kind (Literal['users']):
        format_ (UserExportInFormat | Unset):  Default: UserExportInFormat.XLSX.
        filters (UserFilters | Unset): The filters of `GET /users` (administration).
    """

    kind: Literal["users"]
    format_: UserExportInFormat | Unset = UserExportInFormat.XLSX
    filters: UserFilters | Unset = UNSET

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
        from ..models.user_filters import UserFilters

        d = dict(src_dict)
        kind = cast(Literal["users"], d.pop("kind"))
        if kind != "users":
            raise ValueError(f"kind must match const 'users', got '{kind}'")

        _format_ = d.pop("format", UNSET)
        format_: UserExportInFormat | Unset
        if isinstance(_format_, Unset):
            format_ = UNSET
        else:
            format_ = UserExportInFormat(_format_)

        _filters = d.pop("filters", UNSET)
        filters: UserFilters | Unset
        if isinstance(_filters, Unset):
            filters = UNSET
        else:
            filters = UserFilters.from_dict(_filters)

        user_export_in = cls(
            kind=kind,
            format_=format_,
            filters=filters,
        )

        return user_export_in
