"""Issue 9 item 6: production refuses settings that leak one-time codes or make secrets
guessable, naming each key, unless the operator waives that key explicitly."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tessera.lib.config import Settings

STRONG = secrets.token_urlsafe(48)
SAFE: dict[str, Any] = {
    "env": "production",
    "security": {"jwt_secret": STRONG},
    "mail": {"backend": "smtp", "smtp_password": "k7#Qv9!pLm2$Xw4z"},
    "sms": {
        "backend": "aliyun",
        "aliyun_access_key_id": "LTAI5tAbCdEf",
        "aliyun_access_key_secret": "q8Wz3Lp0Rt6Yv2Nm5Kx9",
    },
}


@pytest.fixture(autouse=True)
def no_outside_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("TESSERA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TESSERA_CONFIG_DIR", str(tmp_path))


def settings_with(**sections: Any) -> Settings:
    values = {key: dict(value) if isinstance(value, dict) else value for key, value in SAFE.items()}
    for section, overrides in sections.items():
        values[section] = {**values.get(section, {}), **overrides}
    return Settings(**values)


def refusal(**sections: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        settings_with(**sections)
    return str(caught.value)


def test_safe_production_settings_load():
    assert settings_with().env == "production"


@pytest.mark.parametrize(
    ("section", "backend", "key"),
    [
        ("mail", "file", "mail.backend"),
        ("mail", "console", "mail.backend"),
        ("sms", "file", "sms.backend"),
        ("sms", "console", "sms.backend"),
    ],
)
def test_file_and_console_senders_are_refused(section: str, backend: str, key: str):
    message = refusal(**{section: {"backend": backend}})
    assert key in message
    assert f"TESSERA_{section.upper()}__BACKEND" in message


@pytest.mark.parametrize(
    "secret", ["changeme", "tiny-9Qz", "x" * 40, "please-replace-this-webhook-secret-value"]
)
def test_weak_webhook_secrets_are_refused(secret: str):
    message = refusal(order={"payment_webhook_secrets": {"acme": secret}})
    assert "order.payment_webhook_secrets.acme" in message
    assert secret not in message.split("input_value")[0]  # the reason never echoes it


@pytest.mark.parametrize("secret", ["...", "minio123", "your-secret-key-here"])
def test_placeholder_or_short_s3_secret_is_refused(secret: str):
    message = refusal(storage={"backend": "s3", "s3": {"secret_access_key": secret}})
    assert "storage.s3.secret_access_key" in message


@pytest.mark.parametrize("password", ["...", "secret", "hunter2"])
def test_placeholder_or_short_smtp_password_is_refused(password: str):
    assert "mail.smtp_password" in refusal(mail={"smtp_password": password})


def test_smtp_password_in_clear_text_is_refused():
    message = refusal(mail={"smtp_starttls": False, "smtp_implicit_tls": False})
    assert "mail.smtp_starttls" in message


def test_every_problem_is_named_at_once():
    message = refusal(mail={"backend": "file"}, sms={"backend": "console"})
    assert "mail.backend" in message
    assert "sms.backend" in message


def test_a_key_can_be_waived_explicitly():
    waived = settings_with(
        mail={"backend": "file"},
        security={"jwt_secret": STRONG, "allow_unsafe_settings": ["mail.backend"]},
    )
    assert waived.mail.backend == "file"
    # A waiver covers only the key it names.
    message = refusal(
        mail={"backend": "file"},
        sms={"backend": "file"},
        security={"jwt_secret": STRONG, "allow_unsafe_settings": ["mail.backend"]},
    )
    assert "sms.backend" in message
    assert "mail.backend (" not in message


def test_development_accepts_the_embedded_defaults():
    assert Settings(env="development").mail.backend == "file"


def test_serve_in_production_with_file_mailer_stops_naming_the_key(tmp_path: Path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("TESSERA_")}
    env.update(
        TESSERA_ENV="production",
        TESSERA_SECURITY__JWT_SECRET=STRONG,
        TESSERA_CONFIG_DIR=str(tmp_path),
        TESSERA_VAR_DIR=str(tmp_path / "var"),
    )
    result = subprocess.run(
        [str(Path(sys.executable).with_name("tessera")), "serve", "--port", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "TESSERA_MAIL__BACKEND" in result.stderr
    assert "TESSERA_SMS__BACKEND" in result.stderr
    assert "Traceback" not in result.stderr
