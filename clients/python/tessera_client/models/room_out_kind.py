from enum import StrEnum


class RoomOutKind(StrEnum):
    GROUP = "group"
    SUPPORT = "support"

    def __str__(self) -> str:
        return str(self.value)
