from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.import_result_mode import ImportResultMode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.import_problem import ImportProblem


T = TypeVar("T", bound="ImportResult")


@_attrs_define
class ImportResult:
    """
    Attributes:
        mode (ImportResultMode):
        rows_total (int):
        rows_imported (int):
        rows_failed (int):
        errors (list[ImportProblem]):
        errors_truncated (bool | Unset):  Default: False.
        annotated_url (None | str | Unset): The uploaded sheet with an error column and red cells
    """

    mode: ImportResultMode
    rows_total: int
    rows_imported: int
    rows_failed: int
    errors: list[ImportProblem]
    errors_truncated: bool | Unset = False
    annotated_url: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        mode = self.mode.value

        rows_total = self.rows_total

        rows_imported = self.rows_imported

        rows_failed = self.rows_failed

        errors = []
        for errors_item_data in self.errors:
            errors_item = errors_item_data.to_dict()
            errors.append(errors_item)

        errors_truncated = self.errors_truncated

        annotated_url: None | str | Unset
        if isinstance(self.annotated_url, Unset):
            annotated_url = UNSET
        else:
            annotated_url = self.annotated_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "mode": mode,
                "rows_total": rows_total,
                "rows_imported": rows_imported,
                "rows_failed": rows_failed,
                "errors": errors,
            }
        )
        if errors_truncated is not UNSET:
            field_dict["errors_truncated"] = errors_truncated
        if annotated_url is not UNSET:
            field_dict["annotated_url"] = annotated_url

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.import_problem import ImportProblem

        d = dict(src_dict)
        mode = ImportResultMode(d.pop("mode"))

        rows_total = d.pop("rows_total")

        rows_imported = d.pop("rows_imported")

        rows_failed = d.pop("rows_failed")

        errors = []
        _errors = d.pop("errors")
        for errors_item_data in _errors:
            errors_item = ImportProblem.from_dict(errors_item_data)

            errors.append(errors_item)

        errors_truncated = d.pop("errors_truncated", UNSET)

        def _parse_annotated_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        annotated_url = _parse_annotated_url(d.pop("annotated_url", UNSET))

        import_result = cls(
            mode=mode,
            rows_total=rows_total,
            rows_imported=rows_imported,
            rows_failed=rows_failed,
            errors=errors,
            errors_truncated=errors_truncated,
            annotated_url=annotated_url,
        )

        import_result.additional_properties = d
        return import_result

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
