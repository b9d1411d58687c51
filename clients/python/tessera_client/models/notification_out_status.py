from enum import StrEnum


class NotificationOutStatus(StrEnum):
    DEAD = "dead"
    FAILED = "failed"
    QUEUED = "queued"
    SENT = "sent"

    def __str__(self) -> str:
        return str(self.value)
