from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.notification_out_channel import NotificationOutChannel
from ..models.notification_out_status import NotificationOutStatus

T = TypeVar("T", bound="NotificationOut")


@_attrs_define
class NotificationOut:
    """
    Attributes:
        id (int):
        channel (NotificationOutChannel):
        user_id (int | None):
        recipient (str): masked
        template (str):
        locale (str):
        status (NotificationOutStatus):
        provider_id (None | str):
        attempts (int):
        last_error (None | str):
        created_at (datetime.datetime):
        sent_at (datetime.datetime | None):
    """

    id: int
    channel: NotificationOutChannel
    user_id: int | None
    recipient: str
    template: str
    locale: str
    status: NotificationOutStatus
    provider_id: None | str
    attempts: int
    last_error: None | str
    created_at: datetime.datetime
    sent_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        channel = self.channel.value

        user_id: int | None
        user_id = self.user_id

        recipient = self.recipient

        template = self.template

        locale = self.locale

        status = self.status.value

        provider_id: None | str
        provider_id = self.provider_id

        attempts = self.attempts

        last_error: None | str
        last_error = self.last_error

        created_at = self.created_at.isoformat()

        sent_at: None | str
        if isinstance(self.sent_at, datetime.datetime):
            sent_at = self.sent_at.isoformat()
        else:
            sent_at = self.sent_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "channel": channel,
                "user_id": user_id,
                "recipient": recipient,
                "template": template,
                "locale": locale,
                "status": status,
                "provider_id": provider_id,
                "attempts": attempts,
                "last_error": last_error,
                "created_at": created_at,
                "sent_at": sent_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        channel = NotificationOutChannel(d.pop("channel"))

        def _parse_user_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        user_id = _parse_user_id(d.pop("user_id"))

        recipient = d.pop("recipient")

        template = d.pop("template")

        locale = d.pop("locale")

        status = NotificationOutStatus(d.pop("status"))

        def _parse_provider_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        provider_id = _parse_provider_id(d.pop("provider_id"))

        attempts = d.pop("attempts")

        def _parse_last_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_error = _parse_last_error(d.pop("last_error"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_sent_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                sent_at_type_0 = datetime.datetime.fromisoformat(data)

                return sent_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        sent_at = _parse_sent_at(d.pop("sent_at"))

        notification_out = cls(
            id=id,
            channel=channel,
            user_id=user_id,
            recipient=recipient,
            template=template,
            locale=locale,
            status=status,
            provider_id=provider_id,
            attempts=attempts,
            last_error=last_error,
            created_at=created_at,
            sent_at=sent_at,
        )

        notification_out.additional_properties = d
        return notification_out

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
