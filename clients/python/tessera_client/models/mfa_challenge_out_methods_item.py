from enum import StrEnum


class MfaChallengeOutMethodsItem(StrEnum):
    RECOVERY_CODE = "recovery_code"
    SMS = "sms"
    TOTP = "totp"

    def __str__(self) -> str:
        return str(self.value)
