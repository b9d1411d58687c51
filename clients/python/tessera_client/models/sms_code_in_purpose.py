from enum import StrEnum


class SmsCodeInPurpose(StrEnum):
    BIND_PHONE = "bind_phone"
    LOGIN = "login"
    MFA = "mfa"
    REGISTER = "register"
    RESET_PASSWORD = "reset_password"

    def __str__(self) -> str:
        return str(self.value)
