from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_out_direction import JobOutDirection
from ..models.job_out_format import JobOutFormat
from ..models.job_out_kind import JobOutKind
from ..models.job_out_status import JobOutStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.import_result import ImportResult
    from ..models.job_error import JobError
    from ..models.job_out_params import JobOutParams


T = TypeVar("T", bound="JobOut")


@_attrs_define
class JobOut:
    """
    Attributes:
        id (str):
        direction (JobOutDirection):
        kind (JobOutKind):
        format_ (JobOutFormat):
        status (JobOutStatus):
        rows_done (int):
        rows_total (int | None):
        params (JobOutParams):
        created_at (datetime.datetime):
        started_at (datetime.datetime | None):
        finished_at (datetime.datetime | None):
        expires_at (datetime.datetime | None):
        file_url (None | str): Download link once the job succeeded
        error (JobError | None | Unset):
        result (ImportResult | None | Unset):
    """

    id: str
    direction: JobOutDirection
    kind: JobOutKind
    format_: JobOutFormat
    status: JobOutStatus
    rows_done: int
    rows_total: int | None
    params: JobOutParams
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    expires_at: datetime.datetime | None
    file_url: None | str
    error: JobError | None | Unset = UNSET
    result: ImportResult | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.import_result import ImportResult
        from ..models.job_error import JobError

        id = self.id

        direction = self.direction.value

        kind = self.kind.value

        format_ = self.format_.value

        status = self.status.value

        rows_done = self.rows_done

        rows_total: int | None
        rows_total = self.rows_total

        params = self.params.to_dict()

        created_at = self.created_at.isoformat()

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        expires_at: None | str
        if isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        file_url: None | str
        file_url = self.file_url

        error: dict[str, Any] | None | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        elif isinstance(self.error, JobError):
            error = self.error.to_dict()
        else:
            error = self.error

        result: dict[str, Any] | None | Unset
        if isinstance(self.result, Unset):
            result = UNSET
        elif isinstance(self.result, ImportResult):
            result = self.result.to_dict()
        else:
            result = self.result

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "direction": direction,
                "kind": kind,
                "format": format_,
                "status": status,
                "rows_done": rows_done,
                "rows_total": rows_total,
                "params": params,
                "created_at": created_at,
                "started_at": started_at,
                "finished_at": finished_at,
                "expires_at": expires_at,
                "file_url": file_url,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if result is not UNSET:
            field_dict["result"] = result

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.import_result import ImportResult
        from ..models.job_error import JobError
        from ..models.job_out_params import JobOutParams

        d = dict(src_dict)
        id = d.pop("id")

        direction = JobOutDirection(d.pop("direction"))

        kind = JobOutKind(d.pop("kind"))

        format_ = JobOutFormat(d.pop("format"))

        status = JobOutStatus(d.pop("status"))

        rows_done = d.pop("rows_done")

        def _parse_rows_total(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        rows_total = _parse_rows_total(d.pop("rows_total"))

        params = JobOutParams.from_dict(d.pop("params"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        def _parse_expires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        expires_at = _parse_expires_at(d.pop("expires_at"))

        def _parse_file_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        file_url = _parse_file_url(d.pop("file_url"))

        def _parse_error(data: object) -> JobError | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_0 = JobError.from_dict(data)

                return error_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobError | None | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_result(data: object) -> ImportResult | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = ImportResult.from_dict(data)

                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImportResult | None | Unset, data)

        result = _parse_result(d.pop("result", UNSET))

        job_out = cls(
            id=id,
            direction=direction,
            kind=kind,
            format_=format_,
            status=status,
            rows_done=rows_done,
            rows_total=rows_total,
            params=params,
            created_at=created_at,
            started_at=started_at,
            finished_at=finished_at,
            expires_at=expires_at,
            file_url=file_url,
            error=error,
            result=result,
        )

        job_out.additional_properties = d
        return job_out

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
