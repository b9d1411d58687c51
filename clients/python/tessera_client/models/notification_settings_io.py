from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.notification_settings_io_mail_item import NotificationSettingsIOMailItem
from ..models.notification_settings_io_sms_item import NotificationSettingsIOSmsItem

T = TypeVar("T", bound="NotificationSettingsIO")


@_attrs_define
class NotificationSettingsIO:
    """Order events delivered by mail and by SMS (SMS needs a verified phone).

    Attributes:
        mail (list[NotificationSettingsIOMailItem]):
        sms (list[NotificationSettingsIOSmsItem]):
    """

    mail: list[NotificationSettingsIOMailItem]
    sms: list[NotificationSettingsIOSmsItem]

    def to_dict(self) -> dict[str, Any]:
        mail = []
        for mail_item_data in self.mail:
            mail_item = mail_item_data.value
            mail.append(mail_item)

        sms = []
        for sms_item_data in self.sms:
            sms_item = sms_item_data.value
            sms.append(sms_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "mail": mail,
                "sms": sms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        mail = []
        _mail = d.pop("mail")
        for mail_item_data in _mail:
            mail_item = NotificationSettingsIOMailItem(mail_item_data)

            mail.append(mail_item)

        sms = []
        _sms = d.pop("sms")
        for sms_item_data in _sms:
            sms_item = NotificationSettingsIOSmsItem(sms_item_data)

            sms.append(sms_item)

        notification_settings_io = cls(
            mail=mail,
            sms=sms,
        )

        return notification_settings_io
