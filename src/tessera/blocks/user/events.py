"""Events the user block publishes (through the outbox, after commit).

Payloads carry no secret: a consumer that delivers a link or a code (the notify block) asks
the user service to issue it when it sends the message (`issue_email_verification`,
`issue_password_reset`, `issue_sms_code`), so tokens and codes exist only where identity
keeps them (hashed, in Redis) and in the sealed message on its way out.

Requests that must not reveal whether an account exists (`password_reset_requested`,
`sms_code_requested`) are published for every well-formed request: whether anything is sent
is decided when the event is handled.
"""

from __future__ import annotations

from tessera.lib.tasks import EventPayload, Topic


class UserRegistered(EventPayload):
    user_id: int
    email: str
    locale: str = "en"


class EmailVerificationRequested(EventPayload):
    user_id: int


class PasswordResetRequested(EventPayload):
    email: str  # lower-cased; may belong to no account


class SmsCodeRequested(EventPayload):
    phone: str  # E.164; may belong to no account
    purpose: str  # login | register | reset_password | bind_phone | mfa


class MfaSmsRequested(EventPayload):
    user_id: int
    phone: str
    locale: str = "en"


USER_REGISTERED = Topic(
    "user.registered", UserRegistered, description="A new account; its email is not verified yet"
)
EMAIL_VERIFICATION_REQUESTED = Topic(
    "user.email_verification_requested",
    EmailVerificationRequested,
    description="The user asked for the verification link again",
)
PASSWORD_RESET_REQUESTED = Topic(
    "user.password_reset_requested",
    PasswordResetRequested,
    description="Someone asked for a password reset link for an address (known or not)",
)
SMS_CODE_REQUESTED = Topic(
    "user.sms_code_requested",
    SmsCodeRequested,
    description="Someone asked for an SMS code for a number (known or not) and a purpose",
)
MFA_SMS_REQUESTED = Topic(
    "user.mfa_sms_requested",
    MfaSmsRequested,
    description="A sign-in waits for a second factor sent by SMS to the verified phone",
)
