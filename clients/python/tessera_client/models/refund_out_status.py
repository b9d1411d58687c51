from enum import StrEnum


class RefundOutStatus(StrEnum):
    FAILED = "failed"
    PENDING = "pending"
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
