from enum import StrEnum


class PaymentAttemptOutStatus(StrEnum):
    ABANDONED = "abandoned"
    CLOSED = "closed"
    CREATING = "creating"
    FAILED = "failed"
    PAID = "paid"
    STARTED = "started"
    SUPERSEDED = "superseded"

    def __str__(self) -> str:
        return str(self.value)
