"""Settings (DESIGN.md section 3): YAML files from the config directory, `TESSERA_*`
environment overrides of nested keys, the production secret check and the development
secret generated once into `var/`."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from structlog.testing import capture_logs

from tessera.lib.config import Settings, UserSettings, load_settings


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No TESSERA_* from the caller's shell, no repo config, cwd in a temp dir."""
    for name in list(os.environ):
        if name.upper().startswith("TESSERA_"):
            monkeypatch.delenv(name)
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    monkeypatch.setenv("TESSERA_CONFIG_DIR", str(config_dir))
    monkeypatch.chdir(tmp_path)
    return config_dir


def write_yaml(path: Path, data: dict[str, object]) -> None:
    path.write_text(yaml.safe_dump(data))


def test_embedded_defaults_need_no_server(tmp_path: Path):
    settings = Settings()
    assert settings.env == "development"
    assert settings.database.url == "sqlite+aiosqlite:///var/tessera.db"
    assert settings.cache.url is None
    assert settings.embedded


def test_environment_overrides_nested_keys(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TESSERA_DATABASE__URL", "mysql+asyncmy://app@db.internal:3306/shop")
    monkeypatch.setenv("TESSERA_SERVER__PORT", "9123")
    monkeypatch.setenv("TESSERA_SERVER__TRUSTED_PROXIES", '["10.0.0.0/8"]')
    monkeypatch.setenv("TESSERA_CACHE__URL", "redis://cache.internal:6379/2")
    settings = Settings()
    assert settings.database.url == "mysql+asyncmy://app@db.internal:3306/shop"
    assert settings.server.port == 9123
    assert settings.server.trusted_proxies == ["10.0.0.0/8"]
    assert settings.cache.url == "redis://cache.internal:6379/2"
    assert not settings.embedded
    assert settings.server.host == "127.0.0.1"  # untouched keys keep their defaults


def test_invalid_environment_value_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TESSERA_SERVER__PORT", "70000")
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_invalid_trusted_proxy_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TESSERA_SERVER__TRUSTED_PROXIES", '["not-an-address"]')
    with pytest.raises(ValidationError):
        Settings()


def test_yaml_files_in_the_config_dir_are_read(isolated_environment: Path):
    write_yaml(
        isolated_environment / "application.yml",
        {"server": {"port": 8123, "cors_origins": ["https://shop.example"]}},
    )
    write_yaml(
        isolated_environment / "database.yml",
        {"database": {"url": "sqlite+aiosqlite:///elsewhere.db", "pool_size": 7}},
    )
    settings = Settings()
    assert settings.server.port == 8123
    assert settings.server.cors_origins == ["https://shop.example"]
    assert settings.database.url == "sqlite+aiosqlite:///elsewhere.db"
    assert settings.database.pool_size == 7


def test_environment_wins_over_yaml_key_by_key(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
):
    write_yaml(
        isolated_environment / "application.yml",
        {"server": {"port": 8123, "host": "0.0.0.0"}},
    )
    write_yaml(
        isolated_environment / "database.yml",
        {"database": {"url": "sqlite+aiosqlite:///from-yaml.db", "pool_size": 7}},
    )
    monkeypatch.setenv("TESSERA_DATABASE__URL", "sqlite+aiosqlite:///from-env.db")
    monkeypatch.setenv("TESSERA_SERVER__PORT", "9999")
    settings = Settings()
    assert settings.database.url == "sqlite+aiosqlite:///from-env.db"
    assert settings.server.port == 9999
    # The YAML keys the environment did not mention survive.
    assert settings.database.pool_size == 7
    assert settings.server.host == "0.0.0.0"


def test_explicit_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TESSERA_SERVER__PORT", "9999")
    settings = load_settings(server={"port": 7000})
    assert settings.server.port == 7000


def test_config_dir_defaults_to_config_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("TESSERA_CONFIG_DIR")
    write_yaml(tmp_path / "config" / "application.yml", {"server": {"port": 8555}})
    assert Settings().server.port == 8555


# --- identity settings moved to user: ------------------------------------------------------


def deprecations(logs: list[dict[str, object]]) -> dict[object, object]:
    return {entry["old"]: entry["new"] for entry in logs if entry["event"] == "deprecated_setting"}


def test_old_identity_keys_in_yaml_move_to_user_with_a_warning(isolated_environment: Path):
    write_yaml(
        isolated_environment / "application.yml",
        {
            "ratelimit": {"enabled": True, "login_failures_per_account": 7},
            "notify": {"code_ttl_seconds": 120, "mfa_max_attempts": 3, "default_locale": "zh-CN"},
        },
    )
    with capture_logs() as logs:
        settings = Settings()
    assert settings.user.login_failures_per_account == 7
    assert settings.user.code_ttl_seconds == 120
    assert settings.user.mfa_max_attempts == 3
    # The per-user MFA budget follows the per-token one, as before the move.
    assert settings.user.mfa_attempts_per_user_per_hour == 12
    assert settings.notify.default_locale == "zh-CN"
    assert settings.ratelimit.enabled is True
    assert deprecations(logs) == {
        "ratelimit.login_failures_per_account": "user.login_failures_per_account",
        "notify.code_ttl_seconds": "user.code_ttl_seconds",
        "notify.mfa_max_attempts": "user.mfa_max_attempts",
    }


def test_old_identity_keys_in_the_environment_still_work(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TESSERA_NOTIFY__SMS_PER_PHONE_PER_DAY", "4")
    monkeypatch.setenv("TESSERA_RATELIMIT__REGISTER_PER_IP", "9")
    with capture_logs() as logs:
        settings = Settings()
    assert (settings.user.sms_per_phone_per_day, settings.user.register_per_ip) == (4, 9)
    assert set(deprecations(logs)) == {"notify.sms_per_phone_per_day", "ratelimit.register_per_ip"}


def test_a_key_under_user_wins_over_its_old_name(
    isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
):
    write_yaml(
        isolated_environment / "application.yml",
        {"notify": {"code_ttl_seconds": 120}, "user": {"code_ttl_seconds": 60}},
    )
    assert Settings().user.code_ttl_seconds == 60
    explicit = load_settings(user=UserSettings(code_max_attempts=2)).user
    assert (explicit.code_max_attempts, explicit.code_ttl_seconds) == (2, 120)


def test_new_configurations_log_no_deprecation(isolated_environment: Path):
    write_yaml(isolated_environment / "application.yml", {"user": {"code_ttl_seconds": 60}})
    with capture_logs() as logs:
        settings = Settings()
    assert settings.user.code_ttl_seconds == 60
    assert settings.user.mfa_attempts_per_user_per_hour == 20
    assert deprecations(logs) == {}


# --- production secret --------------------------------------------------------------------


def production_error(monkeypatch: pytest.MonkeyPatch, secret: str | None) -> str:
    monkeypatch.setenv("TESSERA_ENV", "production")
    if secret is not None:
        monkeypatch.setenv("TESSERA_SECURITY__JWT_SECRET", secret)
    with pytest.raises(ValidationError) as caught:
        Settings()
    return str(caught.value)


def test_production_without_secret_stops_with_clear_message(monkeypatch: pytest.MonkeyPatch):
    message = production_error(monkeypatch, None)
    assert "TESSERA_SECURITY__JWT_SECRET" in message
    assert "production" in message


@pytest.mark.parametrize("secret", ["", "short-secret", "changeme", "please-change-me"])
def test_production_with_short_or_placeholder_secret_stops(
    monkeypatch: pytest.MonkeyPatch, secret: str
):
    assert "TESSERA_SECURITY__JWT_SECRET" in production_error(monkeypatch, secret)


@pytest.mark.parametrize(
    "secret", ["a" * 64, "changeme" * 4, "tessera-" * 6], ids=["one-char", "changeme", "name"]
)
def test_production_with_long_but_weak_secret_stops(monkeypatch: pytest.MonkeyPatch, secret: str):
    assert "TESSERA_SECURITY__JWT_SECRET" in production_error(monkeypatch, secret)


def test_production_secret_from_yaml_is_checked_too(isolated_environment: Path, monkeypatch):
    write_yaml(isolated_environment / "application.yml", {"security": {"jwt_secret": "secret"}})
    assert "TESSERA_SECURITY__JWT_SECRET" in production_error(monkeypatch, None)


def test_production_with_strong_secret_loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    strong = secrets.token_urlsafe(48)
    monkeypatch.setenv("TESSERA_ENV", "production")
    monkeypatch.setenv("TESSERA_SECURITY__JWT_SECRET", strong)
    monkeypatch.setenv("TESSERA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TESSERA_SECURITY__ALLOW_UNSAFE_SETTINGS", '["mail.backend", "sms.backend"]')
    settings = Settings()
    assert settings.env == "production"
    assert settings.jwt_signing_secret == strong
    assert not (tmp_path / "var" / "jwt-secret").exists()  # nothing generated
    assert strong not in repr(settings)
    assert strong not in str(settings.model_dump())


def test_production_with_asymmetric_algorithm_needs_key_files(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TESSERA_ENV", "production")
    monkeypatch.setenv("TESSERA_SECURITY__JWT_ALGORITHM", "RS256")
    with pytest.raises(ValidationError, match="jwt_private_key_file"):
        Settings()


# --- development secret -------------------------------------------------------------------


def test_development_generates_a_private_secret_once_and_reuses_it(tmp_path: Path):
    var_dir = tmp_path / "state" / "var"
    first = Settings(env="development", var_dir=var_dir).jwt_signing_secret
    path = var_dir / "jwt-secret"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.encode()) >= 32
    assert path.read_text().strip() == first

    second = Settings(env="development", var_dir=var_dir).jwt_signing_secret
    assert second == first
    other = Settings(env="development", var_dir=tmp_path / "other").jwt_signing_secret
    assert other != first


def test_configured_secret_is_used_instead_of_generating(tmp_path: Path):
    settings = Settings(var_dir=tmp_path / "var", security={"jwt_secret": "x" * 40})
    assert settings.jwt_signing_secret == "x" * 40
    assert not (tmp_path / "var" / "jwt-secret").exists()


def test_empty_generated_secret_file_is_never_used_as_the_key(tmp_path: Path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    (var_dir / "jwt-secret").write_text("\n")  # e.g. a crash between create and write
    settings = Settings(env="development", var_dir=var_dir)
    try:
        secret = settings.jwt_signing_secret
    except (ValueError, RuntimeError, OSError):
        return  # refusing to start is acceptable
    assert len(secret.encode()) >= 32
