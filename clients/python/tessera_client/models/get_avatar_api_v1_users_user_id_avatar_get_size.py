from enum import IntEnum


class GetAvatarApiV1UsersUserIdAvatarGetSize(IntEnum):
    VALUE_256 = 256
    VALUE_64 = 64

    def __str__(self) -> str:
        return str(self.value)
