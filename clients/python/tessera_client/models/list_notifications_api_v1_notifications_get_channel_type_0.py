from enum import StrEnum


class ListNotificationsApiV1NotificationsGetChannelType0(StrEnum):
    MAIL = "mail"
    SMS = "sms"

    def __str__(self) -> str:
        return str(self.value)
