from enum import StrEnum


class NotificationOutChannel(StrEnum):
    MAIL = "mail"
    SMS = "sms"

    def __str__(self) -> str:
        return str(self.value)
