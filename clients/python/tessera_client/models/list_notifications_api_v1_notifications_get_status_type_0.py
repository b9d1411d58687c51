from enum import StrEnum


class ListNotificationsApiV1NotificationsGetStatusType0(StrEnum):
    DEAD = "dead"
    FAILED = "failed"
    QUEUED = "queued"
    SENT = "sent"

    def __str__(self) -> str:
        return str(self.value)
