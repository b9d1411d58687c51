"""Every rate limit of the user block, built once per runtime from `settings.user`: use cases
name a rule (`limits_of(runtime).sms_ip`), never a number.

A rule's `scope` is part of its Redis key: keep scopes stable, so counters survive an upgrade.
Its `code` is the problem code of the 429 (several keep their historic `notify.` prefix).
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.lib.config import UserSettings
from tessera.lib.ratelimit import Limit, LoginPolicy
from tessera.lib.runtime import Runtime, Slot

HOUR_SECONDS = 3600
DAY_SECONDS = 86400


@dataclass(frozen=True, slots=True)
class Rule:
    scope: str
    limit: Limit
    code: str


@dataclass(frozen=True, slots=True)
class UserLimits:
    register: Rule
    register_conflict: Rule
    login: LoginPolicy  # reserved before the password check (`LoginGuard`)
    sms_ip: Rule
    sms_phone_interval: Rule
    sms_phone_day: Rule
    code_check_ip: Rule
    email_resend: Rule
    email_resend_day: Rule
    password_forgot_ip: Rule
    password_forgot_email: Rule
    mfa_token: Rule
    mfa_user: Rule
    mfa_confirm: Rule
    mfa_disable: Rule

    @classmethod
    def of(cls, settings: UserSettings) -> UserLimits:
        s = settings
        sms, mfa, reset = (
            "notify.sms_rate_limited",
            "auth.mfa_rate_limited",
            "notify.reset_rate_limited",
        )
        login_window = s.login_window_seconds
        mfa_setup = Limit(s.mfa_setup_attempts, s.mfa_setup_window_seconds)
        return cls(
            register=Rule(
                "register",
                Limit(s.register_per_ip, s.register_window_seconds),
                "auth.register_rate_limited",
            ),
            register_conflict=Rule(
                "register_conflict",
                Limit(s.register_conflicts_per_ip, s.register_window_seconds),
                "auth.register_rate_limited",
            ),
            login=LoginPolicy(
                account_failures=s.login_failures_per_account,
                address_failures=s.login_failures_per_ip,
                window_seconds=login_window,
                lockout_base_seconds=s.login_lockout_base_seconds,
                lockout_max_seconds=s.login_lockout_max_seconds,
            ),
            sms_ip=Rule("sms_ip", Limit(s.sms_per_ip_per_hour, HOUR_SECONDS), sms),
            # "One per interval" is what the setting means: the count is not a setting.
            sms_phone_interval=Rule(
                "sms_phone_interval", Limit(1, s.sms_per_phone_interval_seconds), sms
            ),
            sms_phone_day=Rule("sms_phone_day", Limit(s.sms_per_phone_per_day, DAY_SECONDS), sms),
            code_check_ip=Rule(
                "code_check_ip",
                Limit(s.code_checks_per_ip, s.code_check_window_seconds),
                "notify.code_rate_limited",
            ),
            email_resend=Rule(
                "email_resend",
                Limit(1, s.email_resend_interval_seconds),
                "notify.resend_rate_limited",
            ),
            email_resend_day=Rule(
                "email_resend_day",
                Limit(s.email_resend_per_day, DAY_SECONDS),
                "notify.resend_rate_limited",
            ),
            password_forgot_ip=Rule(
                "password_forgot_ip", Limit(s.password_reset_per_ip_per_hour, HOUR_SECONDS), reset
            ),
            password_forgot_email=Rule(
                "password_forgot_email",
                Limit(s.password_reset_per_email_per_hour, HOUR_SECONDS),
                reset,
            ),
            mfa_token=Rule("mfa_login", Limit(s.mfa_max_attempts, s.mfa_token_ttl_seconds), mfa),
            mfa_user=Rule("mfa_user", Limit(s.mfa_attempts_per_user_per_hour, HOUR_SECONDS), mfa),
            mfa_confirm=Rule("mfa_confirm", mfa_setup, mfa),
            mfa_disable=Rule("mfa_disable", mfa_setup, mfa),
        )


LIMITS: Slot[UserLimits] = Slot("user.limits", owner="user")


def limits_of(runtime: Runtime) -> UserLimits:
    """The runtime's rules (made on first use: CLI commands use services without start-up)."""
    limits = runtime.slots.find(LIMITS)
    if limits is None:
        limits = UserLimits.of(runtime.settings.user)
        runtime.slots.put(LIMITS, limits)
    return limits


async def hit(runtime: Runtime, rule: Rule, subject: str) -> None:
    """Count one attempt under `rule`; 429 with Retry-After once its budget is spent."""
    await runtime.ratelimiter.hit(rule.scope, subject, rule.limit, code=rule.code)
