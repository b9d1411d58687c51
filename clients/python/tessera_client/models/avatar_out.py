from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.avatar_out_sizes import AvatarOutSizes


T = TypeVar("T", bound="AvatarOut")


@_attrs_define
class AvatarOut:
    """
    Attributes:
        avatar_url (str):
        sizes (AvatarOutSizes): pixel size -> URL of that rendition
    """

    avatar_url: str
    sizes: AvatarOutSizes
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        avatar_url = self.avatar_url

        sizes = self.sizes.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "avatar_url": avatar_url,
                "sizes": sizes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.avatar_out_sizes import AvatarOutSizes

        d = dict(src_dict)
        avatar_url = d.pop("avatar_url")

        sizes = AvatarOutSizes.from_dict(d.pop("sizes"))

        avatar_out = cls(
            avatar_url=avatar_url,
            sizes=sizes,
        )

        avatar_out.additional_properties = d
        return avatar_out

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
