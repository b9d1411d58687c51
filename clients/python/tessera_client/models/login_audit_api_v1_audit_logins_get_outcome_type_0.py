from enum import StrEnum


class LoginAuditApiV1AuditLoginsGetOutcomeType0(StrEnum):
    INACTIVE = "inactive"
    INVALID_CREDENTIALS = "invalid_credentials"
    MFA_REQUIRED = "mfa_required"
    RATE_LIMITED = "rate_limited"
    SUCCESS = "success"

    def __str__(self) -> str:
        return str(self.value)
