"""Payment provider configuration: keys from files or environment variables; a provider that
is used, or half-configured in production, must be complete, and start-up names what is
missing; keys and certificates are read (and checked) when the gateways are built."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from tessera.blocks.order.integration import ConfigurationError, build_gateways
from tessera.blocks.order.integration.alipay import AlipayGateway
from tessera.blocks.order.integration.wechatpay import WechatPayGateway
from tessera.lib.config import Settings, load_settings
from tests.fakes.payment_keys import bare_public_key, cached_key, private_pem, write

STRONG_SECRET = "Zq8-mR2vL5nT0wX7yB4cK1hJ6pD3fG9s"


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("TESSERA_"):
            monkeypatch.delenv(name)
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    monkeypatch.setenv("TESSERA_CONFIG_DIR", str(config_dir))
    monkeypatch.chdir(tmp_path)


def production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_ENV", "production")
    monkeypatch.setenv("TESSERA_SECURITY__JWT_SECRET", STRONG_SECRET)


def complete_alipay(directory: Path) -> dict[str, object]:
    return {
        "app_id": "2021000000000001",
        "private_key_file": write(directory, "app_private.pem", private_pem(cached_key("cfg-a"))),
        "alipay_public_key": bare_public_key(cached_key("cfg-b")),
    }


def complete_wechatpay(directory: Path) -> dict[str, object]:
    return {
        "mch_id": "1900000109",
        "app_id": "wxd678efh567hg6787",
        "merchant_serial_no": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        "private_key_file": write(directory, "apiclient_key.pem", private_pem(cached_key("cfg-c"))),
        "api_v3_key_file": write(directory, "api_v3_key", "0123456789abcdef" * 2),
    }


def test_production_refuses_a_half_configured_provider_and_names_the_missing_key(
    monkeypatch: pytest.MonkeyPatch,
):
    production(monkeypatch)
    monkeypatch.setenv("TESSERA_ORDER__PAYMENTS__ALIPAY__APP_ID", "2021000000000001")
    with pytest.raises(ValidationError) as refused:
        load_settings()
    message = str(refused.value)
    assert "order.payments.alipay.private_key (TESSERA_ORDER__PAYMENTS__ALIPAY__PRIVATE_KEY)" in (
        message
    )
    assert "alipay_public_key" in message


def test_production_names_each_missing_wechatpay_key(monkeypatch: pytest.MonkeyPatch):
    production(monkeypatch)
    monkeypatch.setenv("TESSERA_ORDER__PAYMENTS__WECHATPAY__MCH_ID", "1900000109")
    with pytest.raises(ValidationError) as refused:
        load_settings()
    message = str(refused.value)
    for key in ("app_id", "merchant_serial_no", "private_key", "api_v3_key"):
        assert f"order.payments.wechatpay.{key}" in message
    assert "mch_id" not in message.replace("order.payments.wechatpay.mch_id", "")


def test_development_ignores_an_unused_half_configured_provider(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TESSERA_ORDER__PAYMENTS__ALIPAY__APP_ID", "2021000000000001")
    assert load_settings().order.payments.alipay.app_id == "2021000000000001"


def test_a_listed_method_needs_its_provider_complete_everywhere():
    with pytest.raises(ValidationError, match=r"order\.payments\.alipay\.app_id"):
        Settings(order={"payment_methods": ["sandbox", "alipay.qr"]})


def test_a_listed_method_needs_a_callback_url(tmp_path: Path):
    order = {"payment_methods": ["alipay.qr"], "payments": {"alipay": complete_alipay(tmp_path)}}
    with pytest.raises(ValidationError, match="callback_base_url"):
        Settings(order=order)
    order["payments"]["callback_base_url"] = "https://shop.example.com"  # type: ignore[index]
    assert Settings(order=order).order.payment_methods == ["alipay.qr"]


def test_unknown_provider_methods_are_refused():
    with pytest.raises(ValidationError, match=r"unknown method 'alipay\.app'"):
        Settings(order={"payment_methods": ["alipay.app"]})


def test_certificate_mode_needs_all_three_certificates(tmp_path: Path):
    alipay = complete_alipay(tmp_path)
    del alipay["alipay_public_key"]
    alipay["app_cert_file"] = tmp_path / "appCertPublicKey.crt"
    with pytest.raises(ValidationError) as refused:
        Settings(order={"payment_methods": ["alipay.page"], "payments": {"alipay": alipay}})
    message = str(refused.value)
    assert "alipay_cert_file" in message
    assert "alipay_root_cert_file" in message


def test_complete_providers_from_files_build_their_gateways(tmp_path: Path):
    settings = Settings(
        order={
            "payment_methods": ["sandbox", "alipay.qr", "wechatpay.native"],
            "payments": {
                "callback_base_url": "https://shop.example.com/",
                "alipay": complete_alipay(tmp_path),
                "wechatpay": complete_wechatpay(tmp_path),
            },
        }
    )
    gateways = build_gateways(settings.order)
    assert isinstance(gateways["alipay"], AlipayGateway)
    assert isinstance(gateways["wechatpay"], WechatPayGateway)
    assert gateways["alipay"].notify_url == (
        "https://shop.example.com/api/v1/payments/alipay/callback"
    )


async def test_unreadable_keys_stop_the_build_with_the_path(tmp_path: Path):
    wechatpay = complete_wechatpay(tmp_path)
    wechatpay["private_key_file"] = tmp_path / "missing.pem"
    settings = Settings(
        order={
            "payment_methods": ["wechatpay.h5"],
            "payments": {"callback_base_url": "https://shop.example.com", "wechatpay": wechatpay},
        }
    )
    with pytest.raises(ConfigurationError, match=r"missing\.pem"):
        build_gateways(settings.order)
    write(tmp_path, "missing.pem", private_pem(cached_key("cfg-c")))
    (tmp_path / "api_v3_key").write_text("too-short")
    with pytest.raises(ConfigurationError, match="32 bytes"):
        build_gateways(settings.order)


def test_a_provider_name_cannot_also_be_a_generic_webhook(tmp_path: Path):
    settings = Settings(
        order={
            "payment_methods": ["alipay.qr"],
            "payment_webhook_secrets": {"alipay": "whsec-" + "k" * 40},
            "payments": {
                "callback_base_url": "https://shop.example.com",
                "alipay": complete_alipay(tmp_path),
            },
        }
    )
    with pytest.raises(ConfigurationError, match="both as a generic webhook"):
        build_gateways(settings.order)
