from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.file_out_purpose import FileOutPurpose
from ..types import UNSET, Unset

T = TypeVar("T", bound="FileOut")


@_attrs_define
class FileOut:
    """
    Attributes:
        id (str):
        name (str): original file name, sanitized
        size (int): bytes
        content_type (str): detected from the content, not the client's claim
        sha256 (str):
        purpose (FileOutPurpose):
        owner_id (int):
        created_at (datetime.datetime):
        download_url (str):
        order_id (int | None | Unset):
    """

    id: str
    name: str
    size: int
    content_type: str
    sha256: str
    purpose: FileOutPurpose
    owner_id: int
    created_at: datetime.datetime
    download_url: str
    order_id: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        size = self.size

        content_type = self.content_type

        sha256 = self.sha256

        purpose = self.purpose.value

        owner_id = self.owner_id

        created_at = self.created_at.isoformat()

        download_url = self.download_url

        order_id: int | None | Unset
        if isinstance(self.order_id, Unset):
            order_id = UNSET
        else:
            order_id = self.order_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "size": size,
                "content_type": content_type,
                "sha256": sha256,
                "purpose": purpose,
                "owner_id": owner_id,
                "created_at": created_at,
                "download_url": download_url,
            }
        )
        if order_id is not UNSET:
            field_dict["order_id"] = order_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        size = d.pop("size")

        content_type = d.pop("content_type")

        sha256 = d.pop("sha256")

        purpose = FileOutPurpose(d.pop("purpose"))

        owner_id = d.pop("owner_id")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        download_url = d.pop("download_url")

        def _parse_order_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        order_id = _parse_order_id(d.pop("order_id", UNSET))

        file_out = cls(
            id=id,
            name=name,
            size=size,
            content_type=content_type,
            sha256=sha256,
            purpose=purpose,
            owner_id=owner_id,
            created_at=created_at,
            download_url=download_url,
            order_id=order_id,
        )

        file_out.additional_properties = d
        return file_out

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
