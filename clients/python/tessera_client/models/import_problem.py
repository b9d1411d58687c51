from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ImportProblem")


@_attrs_define
class ImportProblem:
    """One thing wrong with an import: a cell (row and column), a whole row, or the sheet.

    Attributes:
        row (int | None): 1-based sheet row; None for the whole sheet
        column (None | str): the column's header, e.g. price
        cell (None | str): e.g. D7
        code (str):
        message (str):
    """

    row: int | None
    column: None | str
    cell: None | str
    code: str
    message: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        row: int | None
        row = self.row

        column: None | str
        column = self.column

        cell: None | str
        cell = self.cell

        code = self.code

        message = self.message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "row": row,
                "column": column,
                "cell": cell,
                "code": code,
                "message": message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_row(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        row = _parse_row(d.pop("row"))

        def _parse_column(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        column = _parse_column(d.pop("column"))

        def _parse_cell(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        cell = _parse_cell(d.pop("cell"))

        code = d.pop("code")

        message = d.pop("message")

        import_problem = cls(
            row=row,
            column=column,
            cell=cell,
            code=code,
            message=message,
        )

        import_problem.additional_properties = d
        return import_problem

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
