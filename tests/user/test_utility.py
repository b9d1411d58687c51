"""Pure logic of the user block, without a database or an app: password policy, TOTP
time steps, recovery codes, which second factors a sign-in offers, and the rate-limit rules
built from settings."""

from __future__ import annotations

import re

import pyotp
import pytest

from tessera.blocks.user.service.limits import DAY_SECONDS, HOUR_SECONDS, UserLimits
from tessera.blocks.user.utility import (
    RECOVERY_ALPHABET,
    TOTP_STEP_SECONDS,
    code_method,
    mfa_methods,
    new_recovery_code,
    password_problems,
    recovery_hash,
    totp_counter,
)
from tessera.lib.config import UserSettings
from tessera.lib.ratelimit import Limit, LoginPolicy

SECRET = pyotp.random_base32()
NOW = 1_800_000_015.0  # 15 s into a time step


def code_at_step(counter: int) -> str:
    return pyotp.TOTP(SECRET, interval=TOTP_STEP_SECONDS).generate_otp(counter)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1!", "at least 8"),
        ("Password2024!", "too common"),
        ("aaaaaaaaaaaa", "single character"),
        ("alice-the-user", "username"),
    ],
)
def test_password_policy_names_the_problem(password: str, problem: str):
    problems = password_problems(password, username="alice-the-user")
    assert any(problem in item for item in problems), problems


def test_a_long_uncommon_password_passes():
    assert password_problems("Tr1cky-Passphrase-42", username="alice") == []


def test_totp_accepts_one_step_of_drift_either_way_and_no_more():
    current = int(NOW // TOTP_STEP_SECONDS)
    for offset in (-1, 0, 1):
        assert totp_counter(SECRET, code_at_step(current + offset), NOW) == current + offset
    assert totp_counter(SECRET, code_at_step(current + 2), NOW) is None
    assert totp_counter(SECRET, code_at_step(current - 2), NOW) is None
    assert totp_counter(SECRET, f" {code_at_step(current)} ", NOW) == current


def test_recovery_codes_are_two_groups_without_ambiguous_characters():
    codes = {new_recovery_code() for _ in range(200)}
    assert len(codes) == 200
    pattern = re.compile(f"^[{RECOVERY_ALPHABET}]{{5}}-[{RECOVERY_ALPHABET}]{{5}}$")
    assert all(pattern.match(code) for code in codes)
    assert not set("01ilo") & set(RECOVERY_ALPHABET)


def test_recovery_hash_ignores_case_spaces_and_the_dash():
    code = new_recovery_code()
    same = {recovery_hash(code), recovery_hash(code.upper()), recovery_hash(code.replace("-", " "))}
    assert len(same) == 1
    assert recovery_hash(code) != recovery_hash(new_recovery_code())


def test_code_method_tells_recovery_codes_from_totp():
    assert code_method("123456") == "totp"
    assert code_method("abcde-fghjk") == "recovery_code"
    assert code_method("abcdefghjk") == "recovery_code"


def test_second_factors_offered():
    assert mfa_methods(mfa_enabled=False, phone_verified=True, first_factor="password") == []
    assert mfa_methods(mfa_enabled=True, phone_verified=False, first_factor="password") == [
        "totp",
        "recovery_code",
    ]
    assert mfa_methods(mfa_enabled=True, phone_verified=True, first_factor="password") == [
        "totp",
        "sms",
        "recovery_code",
    ]
    # SMS cannot be both factors of one sign-in.
    assert "sms" not in mfa_methods(mfa_enabled=True, phone_verified=True, first_factor="sms")


def test_rate_limit_rules_come_from_settings():
    limits = UserLimits.of(
        UserSettings(
            sms_per_ip_per_hour=7,
            sms_per_phone_interval_seconds=30,
            sms_per_phone_per_day=3,
            code_checks_per_ip=11,
            code_check_window_seconds=120,
            email_resend_per_day=4,
            password_reset_per_email_per_hour=2,
            mfa_max_attempts=3,
            mfa_token_ttl_seconds=200,
            mfa_setup_attempts=6,
            mfa_setup_window_seconds=300,
        )
    )
    assert limits.sms_ip.limit == Limit(7, HOUR_SECONDS)
    assert limits.sms_phone_interval.limit == Limit(1, 30)
    assert limits.sms_phone_day.limit == Limit(3, DAY_SECONDS)
    assert limits.code_check_ip.limit == Limit(11, 120)
    assert limits.email_resend_day.limit == Limit(4, DAY_SECONDS)
    assert limits.password_forgot_email.limit == Limit(2, HOUR_SECONDS)
    assert limits.mfa_token.limit == Limit(3, 200)
    assert limits.mfa_user.limit == Limit(12, HOUR_SECONDS)
    assert limits.mfa_confirm.limit == limits.mfa_disable.limit == Limit(6, 300)
    # Scopes are Redis key parts: stable across releases, distinct per counter.
    scopes = [
        rule.scope
        for rule in (
            limits.register,
            limits.sms_ip,
            limits.sms_phone_interval,
            limits.sms_phone_day,
            limits.code_check_ip,
            limits.email_resend,
            limits.email_resend_day,
            limits.password_forgot_ip,
            limits.password_forgot_email,
            limits.mfa_token,
            limits.mfa_user,
            limits.mfa_confirm,
            limits.mfa_disable,
        )
    ]
    assert len(scopes) == len(set(scopes))
    assert limits.login == LoginPolicy(
        account_failures=5,
        address_failures=100,
        window_seconds=900,
        lockout_base_seconds=60,
        lockout_max_seconds=3600,
    )
