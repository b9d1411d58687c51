"""Request and response schemas of the user block (pydantic v2); never touch SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from tessera.blocks.user.utility import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from tessera.lib.types import Email, non_nullable

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
PHONE_PATTERN = r"^\+?[0-9][0-9 ()-]{3,18}[0-9]$"
# A number as typed where a code is sent or checked; whether it is a real number of its
# numbering plan is a rule beyond the schema (422 `notify.invalid_phone`).
TYPED_PHONE_PATTERN = r"^\+?[0-9][0-9 ()-]{3,30}[0-9]$"
LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"

OUTCOMES = Literal["success", "invalid_credentials", "inactive", "rate_limited", "mfa_required"]
MFA_METHODS = Literal["totp", "sms", "recovery_code"]
CodePurpose = Literal["login", "register", "reset_password", "bind_phone", "mfa"]
SMS_CODE_PATTERN = r"^[0-9]{6}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


# The length is the schema's; the rest of the policy (not the username, not a common
# password, not one repeated character) cannot be said in JSON Schema, so the use case checks
# it and answers 422 `user.weak_password` naming the field (see tessera.lib.errors).
NEW_PASSWORD_DESCRIPTION = (
    f"{MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters; not the username, not a common "
    "password, not one repeated character (else 422 `user.weak_password`)"
)
NewPassword = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description=NEW_PASSWORD_DESCRIPTION,
    ),
]


class RegisterIn(_In):
    username: str = Field(min_length=3, max_length=32, pattern=USERNAME_PATTERN)
    email: Email
    password: NewPassword
    phone: str | None = Field(default=None, min_length=5, max_length=20, pattern=PHONE_PATTERN)


class LoginIn(_In):
    username: str = Field(min_length=1, max_length=254, description="username or email")
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_expires_in: int


class RefreshIn(_In):
    refresh_token: str = Field(min_length=1, max_length=512)


class LogoutIn(_In):
    refresh_token: str | None = Field(default=None, max_length=512)


class UserOut(BaseModel):
    id: int
    username: str
    email: str
    phone: str | None
    display_name: str | None
    locale: str
    roles: list[str]
    is_active: bool
    created_at: datetime
    email_verified: bool = False
    phone_verified: bool = False
    mfa_enabled: bool = False
    avatar_url: str | None = None


class UpdateMeIn(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra=non_nullable("locale"))

    display_name: str | None = Field(default=None, min_length=1, max_length=64)
    phone: str | None = Field(default=None, min_length=5, max_length=20, pattern=PHONE_PATTERN)
    locale: str | None = Field(default=None, min_length=2, max_length=16, pattern=LOCALE_PATTERN)

    @field_validator("locale")
    @classmethod
    def _locale_not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("locale cannot be null")
        return value


class ChangePasswordIn(_In):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: NewPassword


class AdminUpdateUserIn(_In):
    roles: list[str] | None = Field(default=None, max_length=16)
    is_active: bool | None = None


class RoleOut(BaseModel):
    name: str
    description: str
    permissions: list[str]


class SessionOut(BaseModel):
    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool


class LoginAuditOut(BaseModel):
    id: int
    user_id: int | None
    identifier: str
    ip: str | None
    user_agent: str | None
    outcome: str
    created_at: datetime


class MfaChallengeOut(BaseModel):
    """`POST /auth/login` answer when a second factor is needed: no token yet."""

    mfa_required: Literal[True] = True
    mfa_token: str = Field(description="present it to POST /auth/login/mfa within minutes")
    methods: list[MFA_METHODS]
    expires_in: int


class MfaLoginIn(_In):
    mfa_token: str = Field(min_length=1, max_length=128)
    code: str = Field(min_length=6, max_length=32)
    method: MFA_METHODS = "totp"


class MfaSmsIn(_In):
    mfa_token: str = Field(min_length=1, max_length=128)


class TotpSetupOut(BaseModel):
    secret: str
    otpauth_uri: str
    qr_png_base64: str


class TotpConfirmIn(_In):
    code: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str]


class MfaDisableIn(_In):
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    code: str = Field(min_length=6, max_length=32, description="a TOTP or recovery code")


class ContactOut(BaseModel):
    """What other blocks (notify) need to reach a user; no secrets."""

    user_id: int
    username: str
    display_name: str | None
    email: str
    email_verified: bool
    phone: str | None
    phone_verified: bool
    locale: str
    is_active: bool
    mfa_enabled: bool


# --- email verification, SMS codes, phone binding, password reset ----------------------------


class VerifyEmailIn(_In):
    token: str = Field(min_length=10, max_length=128)


class SmsCodeIn(_In):
    phone: str = Field(
        min_length=5, max_length=32, pattern=TYPED_PHONE_PATTERN, examples=["+8613800138000"]
    )
    purpose: CodePurpose


class SmsLoginIn(_In):
    phone: str = Field(min_length=5, max_length=32, pattern=TYPED_PHONE_PATTERN)
    code: str = Field(min_length=6, max_length=6, pattern=SMS_CODE_PATTERN)


class BindPhoneIn(SmsLoginIn):
    pass


class ForgotPasswordIn(_In):
    email: Email


def _one_proof_schema(schema: dict[str, Any]) -> None:
    """The document says what `_one_proof` checks: exactly one of `token` or `phone` +
    `code` (a null counts as left out)."""
    given, absent = {"not": {"type": "null"}}, {"type": "null"}
    schema["oneOf"] = [
        {
            "required": ["token"],
            "properties": {"token": given, "phone": absent, "code": absent},
        },
        {
            "required": ["phone", "code"],
            "properties": {"phone": given, "code": given, "token": absent},
        },
    ]


class ResetPasswordIn(_In):
    """Either the `token` of a reset link, or a verified `phone` and its `code`."""

    model_config = ConfigDict(json_schema_extra=_one_proof_schema)

    token: str | None = Field(default=None, min_length=10, max_length=128)
    phone: str | None = Field(
        default=None, min_length=5, max_length=32, pattern=TYPED_PHONE_PATTERN
    )
    code: str | None = Field(default=None, min_length=6, max_length=6, pattern=SMS_CODE_PATTERN)
    # Only the length here: the policy is checked by the use case (422 `user.weak_password`)
    # before the token or code is spent, so a refused password can be corrected.
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)

    @model_validator(mode="after")
    def _one_proof(self) -> ResetPasswordIn:
        by_phone = self.phone is not None and self.code is not None
        if (self.token is None) == (not by_phone) or (self.token and (self.phone or self.code)):
            raise ValueError("give either token, or phone and code")
        return self


# --- for other blocks (notify delivers what identity issues) ---------------------------------


class IssuedLink(BaseModel):
    """A single-use link token to mail to `contact` (verification, password reset)."""

    token: SecretStr
    ttl_seconds: int
    contact: ContactOut


class IssuedCode(BaseModel):
    """A one-time SMS code to send to `phone`; `user_id` and `locale` are its owner's, None
    for a number no account has verified (e.g. a code to register with)."""

    phone: str
    code: SecretStr
    ttl_seconds: int
    user_id: int | None
    locale: str | None
