"""Events the user block publishes (through the outbox, after commit).

Consumers: notify sends the verification mail on `user.registered` and the sign-in code on
`user.mfa_sms_requested`.
"""

from __future__ import annotations

from tessera.lib.tasks import EventPayload, Topic


class UserRegistered(EventPayload):
    user_id: int
    email: str
    locale: str = "en"


class MfaSmsRequested(EventPayload):
    user_id: int
    phone: str
    locale: str = "en"


USER_REGISTERED = Topic(
    "user.registered", UserRegistered, description="A new account; its email is not verified yet"
)
MFA_SMS_REQUESTED = Topic(
    "user.mfa_sms_requested",
    MfaSmsRequested,
    description="A sign-in waits for a second factor sent by SMS to the verified phone",
)
