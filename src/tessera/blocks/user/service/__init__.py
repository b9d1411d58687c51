"""Use cases of the user block, one module per subject (one function per use case, one
transaction each):

- `auth`: registration, password and SMS-code sign-in, refresh-token rotation, logout
- `me`: the signed-in user's profile, password and sessions
- `admin`: user administration, roles, the sign-in audit, `create_admin` (CLI)
- `contacts`: email verification, phone binding, the lookups other blocks use
- `codes`: one-time SMS codes (request, issue for delivery, check)
- `reset`: password reset by mail link or SMS code
- `mfa`: two-factor sign-in (TOTP, SMS, recovery codes)
- `reports`: users for the report block's exports (keyset pages)
- `sessions`, `limits`, `common`, `principals`: what those share

Callers import this package (`from tessera.blocks.user import service`): every public use
case is re-exported here, so a use case can move between modules without breaking them.
"""

from tessera.blocks.user.service.admin import (
    admin_update_user,
    create_admin,
    get_user,
    list_login_audit,
    list_roles,
    list_users,
    logout_everywhere,
)
from tessera.blocks.user.service.auth import (
    authenticate,
    login_with_sms,
    logout,
    refresh_tokens,
    register_user,
)
from tessera.blocks.user.service.codes import (
    find_user_id_by_verified_phone,
    issue_sms_code,
    request_sms_code,
)
from tessera.blocks.user.service.contacts import (
    bind_phone,
    find_user_id_by_email,
    get_contact,
    issue_email_verification,
    resend_verification,
    verify_email,
)
from tessera.blocks.user.service.me import (
    change_password,
    get_me,
    list_my_sessions,
    revoke_my_session,
    set_avatar_url,
    update_me,
)
from tessera.blocks.user.service.mfa import (
    begin_totp,
    complete_mfa_login,
    confirm_totp,
    disable_mfa,
    request_mfa_sms,
)
from tessera.blocks.user.service.principals import UserPrincipals
from tessera.blocks.user.service.reports import count_users, user_rows
from tessera.blocks.user.service.reset import (
    forgot_password,
    issue_password_reset,
    reset_password,
)

__all__ = [
    "UserPrincipals",
    "admin_update_user",
    "authenticate",
    "begin_totp",
    "bind_phone",
    "change_password",
    "complete_mfa_login",
    "confirm_totp",
    "count_users",
    "create_admin",
    "disable_mfa",
    "find_user_id_by_email",
    "find_user_id_by_verified_phone",
    "forgot_password",
    "get_contact",
    "get_me",
    "get_user",
    "issue_email_verification",
    "issue_password_reset",
    "issue_sms_code",
    "list_login_audit",
    "list_my_sessions",
    "list_roles",
    "list_users",
    "login_with_sms",
    "logout",
    "logout_everywhere",
    "refresh_tokens",
    "register_user",
    "request_mfa_sms",
    "request_sms_code",
    "resend_verification",
    "reset_password",
    "revoke_my_session",
    "set_avatar_url",
    "update_me",
    "user_rows",
    "verify_email",
]
