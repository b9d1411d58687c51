"""Aliyun and Tencent SMS adapters against local fakes that verify the request signatures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tessera.lib.config import SmsSettings
from tessera.lib.sms import (
    SmsConfigurationError,
    SmsInvalidNumber,
    SmsMessage,
    SmsTemplateRejected,
    SmsThrottled,
    SmsUnavailable,
    create_sms_sender,
    mask_phone,
    normalize_phone,
)
from tessera.lib.sms.aliyun import sign, string_to_sign
from tests.fakes.sms_providers import (
    INVALID_NUMBER,
    REJECTED_TEMPLATE,
    THROTTLED_NUMBER,
    UNRESPONSIVE_NUMBER,
    FakeSmsProvider,
)

TEMPLATES = {"verification_code": "SMS_0001", "order_shipped": "SMS_0002", "bad": REJECTED_TEMPLATE}


@pytest.fixture(params=["aliyun", "tencent"])
def provider(request: pytest.FixtureRequest) -> Iterator[FakeSmsProvider]:
    fake = FakeSmsProvider(kind=request.param).start()
    try:
        yield fake
    finally:
        fake.stop()


def settings_for(fake: FakeSmsProvider, *, secret: str | None = None) -> SmsSettings:
    secret = secret or fake.secret
    if fake.kind == "aliyun":
        return SmsSettings(
            backend="aliyun",
            aliyun_access_key_id=fake.key_id,
            aliyun_access_key_secret=secret,
            aliyun_endpoint=fake.url,
            templates=TEMPLATES,
            timeout_seconds=5,
        )
    return SmsSettings(
        backend="tencent",
        tencent_secret_id=fake.key_id,
        tencent_secret_key=secret,
        tencent_sdk_app_id=fake.app_id,
        tencent_endpoint=fake.url,
        templates=TEMPLATES,
        timeout_seconds=5,
    )


def message(phone: str = "+8613912345678", kind: str = "verification_code") -> SmsMessage:
    return SmsMessage(phone=phone, message_type=kind, params={"code": "246810"}, text="x")


async def test_signed_message_is_accepted_and_recorded(provider, tmp_path):
    sender = create_sms_sender(settings_for(provider), var_dir=tmp_path)
    try:
        provider_id = await sender.send(message())
    finally:
        await sender.close()
    assert provider_id
    [received] = provider.received
    assert received["phone"] == "13912345678"  # mainland numbers go without +86
    assert received["template"] == "SMS_0001"
    assert received["params"]["code"] == "246810"
    assert received["id"] == provider_id
    assert provider.rejected_signatures == 0


async def test_wrong_secret_is_a_configuration_error(provider, tmp_path):
    sender = create_sms_sender(settings_for(provider, secret="not-the-secret"), var_dir=tmp_path)
    try:
        with pytest.raises(SmsConfigurationError) as caught:
            await sender.send(message())
    finally:
        await sender.close()
    assert provider.rejected_signatures == 1
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("phone", "kind", "error", "retryable"),
    [
        ("+86" + THROTTLED_NUMBER, "verification_code", SmsThrottled, True),
        ("+86" + INVALID_NUMBER, "verification_code", SmsInvalidNumber, False),
        ("+8613912345678", "bad", SmsTemplateRejected, False),
    ],
)
async def test_provider_errors_map_to_domain_errors(
    provider, tmp_path, phone, kind, error, retryable
):
    sender = create_sms_sender(settings_for(provider), var_dir=tmp_path)
    try:
        with pytest.raises(error) as caught:
            await sender.send(message(phone, kind))
    finally:
        await sender.close()
    assert caught.value.retryable is retryable
    assert provider.received == []


async def test_unreachable_or_failing_provider_is_retryable(tmp_path):
    fake = FakeSmsProvider(kind="aliyun").start()
    sender = create_sms_sender(settings_for(fake), var_dir=tmp_path)
    try:
        with pytest.raises(SmsUnavailable):
            await sender.send(message("+86" + UNRESPONSIVE_NUMBER))
        fake.stop()
        with pytest.raises(SmsUnavailable) as caught:
            await sender.send(message())
        assert caught.value.retryable
    finally:
        await sender.close()


async def test_missing_template_id_is_a_configuration_error(provider, tmp_path):
    sender = create_sms_sender(settings_for(provider), var_dir=tmp_path)
    try:
        with pytest.raises(SmsConfigurationError):
            await sender.send(message(kind="order_paid"))
    finally:
        await sender.close()


def test_aliyun_signature_matches_the_documented_example():
    # The worked example of Aliyun's RPC signature documentation (AccessKeySecret "testsecret").
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert string_to_sign(params).startswith(
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions"
    )
    assert sign(params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_phone_numbers_are_normalised_to_e164_and_masked():
    assert normalize_phone("138 0013 8000") == "+8613800138000"
    assert normalize_phone("+1 (650) 253-0000", default_region="CN") == "+16502530000"
    assert mask_phone("+8613800138000") == "+86138****8000"
    for bad in ("12345", "+86 123", "hello"):
        with pytest.raises(ValueError):
            normalize_phone(bad)
