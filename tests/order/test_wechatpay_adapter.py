"""The WeChat Pay API v3 adapter against the sample vectors of WeChat Pay's own SDK and a local
fake that checks request signatures as documented and signs with its own platform keys."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tessera.blocks.order.integration import (
    CallbackRejected,
    ProviderUnavailable,
    RefundRequest,
    TradeRequest,
)
from tessera.blocks.order.integration.crypto import (
    aes_gcm_decrypt,
    load_private_key,
    sign_sha256_rsa,
)
from tessera.blocks.order.integration.wechatpay import WechatPayGateway, request_message
from tessera.lib.config import WechatPaySettings
from tests.fakes.payment_keys import cached_key, private_pem
from tests.fakes.wechatpay import FakeWechatPay
from tests.order.payment_vectors import (
    WECHAT_EXPECTED_SIGNATURE,
    WECHAT_NOTIFY_API_V3_KEY,
    WECHAT_NOTIFY_BODY,
    WECHAT_NOTIFY_CERTIFICATE,
    WECHAT_NOTIFY_HEADERS,
    WECHAT_NOTIFY_NOW,
    WECHAT_NOTIFY_PLAINTEXT,
    WECHAT_SIGNED_MESSAGE,
    wechat_testing_key,
)

NOTIFY_URL = "https://shop.example.com/api/v1/payments/wechatpay/callback"
MERCHANT = "wechat-merchant"


def trade(out_trade_no: str, channel: str = "native", **extra: object) -> TradeRequest:
    values: dict[str, object] = {
        "out_trade_no": out_trade_no,
        "channel": channel,
        "amount_fen": 1990,
        "currency": "CNY",
        "subject": "Order 绿茶",
        "expires_at": datetime.now(UTC) + timedelta(minutes=30),
    }
    values.update(extra)
    return TradeRequest(**values)  # type: ignore[arg-type]


def settings_for(fake: FakeWechatPay, **extra: object) -> WechatPaySettings:
    values: dict[str, object] = {
        "mch_id": fake.mch_id,
        "app_id": fake.app_id,
        "private_key": private_pem(cached_key(MERCHANT)),
        "merchant_serial_no": fake.merchant_serial,
        "api_v3_key": fake.api_v3_key,
        "base_url": fake.url,
    }
    values.update(extra)
    return WechatPaySettings.model_validate(values)


@pytest.fixture
def fake() -> Iterator[FakeWechatPay]:
    server = FakeWechatPay(merchant_key=cached_key(MERCHANT).public_key()).start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def wechat(fake: FakeWechatPay) -> AsyncIterator[WechatPayGateway]:
    gateway = WechatPayGateway(settings_for(fake), notify_url=NOTIFY_URL)
    yield gateway
    await gateway.aclose()


# --- the SDK's published vectors --------------------------------------------------------


def test_signature_matches_the_sdk_vector():
    key = load_private_key(wechat_testing_key())
    assert sign_sha256_rsa(key, WECHAT_SIGNED_MESSAGE.encode()) == WECHAT_EXPECTED_SIGNATURE


def test_the_string_to_sign_is_as_documented():
    assert (
        request_message("GET", "/v3/certificates", 1624523846, "A1B2C3D4E5F6G7", "")
        == "GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n"
    )


async def test_the_sdk_notification_vector_verifies_and_decrypts(fake, tmp_path: Path):
    cert_file = tmp_path / "wechatpay_public.pem"
    cert_file.write_text(WECHAT_NOTIFY_CERTIFICATE)
    gateway = WechatPayGateway(
        settings_for(
            fake,
            platform_public_key_file=cert_file,
            platform_public_key_id=WECHAT_NOTIFY_HEADERS["Wechatpay-Serial"],
        ),
        notify_url=NOTIFY_URL,
        clock=lambda: datetime.fromtimestamp(WECHAT_NOTIFY_NOW, UTC),
    )
    try:
        body = WECHAT_NOTIFY_BODY.encode()
        await gateway.verify_signature(WECHAT_NOTIFY_HEADERS, body)
        with pytest.raises(CallbackRejected):
            await gateway.verify_signature(WECHAT_NOTIFY_HEADERS, body.replace(b"\xe7", b"\xe6"))
        resource = json.loads(body)["resource"]
        plain = aes_gcm_decrypt(
            WECHAT_NOTIFY_API_V3_KEY.encode(),
            nonce=resource["nonce"],
            associated_data=resource["associated_data"],
            ciphertext=resource["ciphertext"],
        )
        assert plain.decode() == WECHAT_NOTIFY_PLAINTEXT
        with pytest.raises(ValueError, match="authentication"):
            aes_gcm_decrypt(
                WECHAT_NOTIFY_API_V3_KEY.encode(),
                nonce=resource["nonce"],
                associated_data="transaction",
                ciphertext=resource["ciphertext"],
            )
    finally:
        await gateway.aclose()


async def test_a_vector_replayed_later_is_refused(fake, tmp_path: Path):
    cert_file = tmp_path / "wechatpay_public.pem"
    cert_file.write_text(WECHAT_NOTIFY_CERTIFICATE)
    gateway = WechatPayGateway(
        settings_for(
            fake,
            platform_public_key_file=cert_file,
            platform_public_key_id=WECHAT_NOTIFY_HEADERS["Wechatpay-Serial"],
        ),
        notify_url=NOTIFY_URL,
        clock=lambda: datetime.fromtimestamp(WECHAT_NOTIFY_NOW + 301, UTC),
    )
    try:
        with pytest.raises(CallbackRejected, match="too far"):
            await gateway.verify_signature(WECHAT_NOTIFY_HEADERS, WECHAT_NOTIFY_BODY.encode())
    finally:
        await gateway.aclose()


# --- against the fake -------------------------------------------------------------------


async def test_native_prepay_is_signed_and_certificates_are_cached(wechat, fake):
    first = await wechat.create_trade(trade("W100P01"))
    assert first.qr_code_url is not None
    assert first.qr_code_url.startswith("weixin://wxpay/bizpayurl")
    await wechat.create_trade(trade("W100P02"))
    assert fake.rejected_signatures == 0
    assert fake.certificate_downloads == 1  # downloaded once, then cached
    stored = fake.trades["W100P01"]
    assert (stored.total, stored.currency, stored.channel) == (1990, "CNY", "native")
    assert stored.time_expire.endswith("+08:00")


async def test_jsapi_prepay_returns_a_signed_payment_sheet(wechat, fake):
    checkout = await wechat.create_trade(trade("W101P01", "jsapi", openid="oUpF8uMuAJO_M2px"))
    sheet = checkout.jsapi
    assert sheet is not None
    assert sheet["package"] == f"prepay_id={checkout.prepay_id}"
    assert sheet["signType"] == "RSA"
    message = f"{sheet['appId']}\n{sheet['timeStamp']}\n{sheet['nonceStr']}\n{sheet['package']}\n"
    cached_key(MERCHANT).public_key().verify(
        base64.b64decode(sheet["paySign"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert fake.trades["W101P01"].payer == {"openid": "oUpF8uMuAJO_M2px"}


async def test_h5_prepay_sends_the_buyers_address(wechat, fake):
    checkout = await wechat.create_trade(trade("W102P01", "h5", client_ip="203.0.113.7"))
    assert checkout.redirect_url is not None
    assert "prepay_id=" in checkout.redirect_url
    assert fake.rejected_signatures == 0


async def test_query_close_and_refund_follow_the_trade(wechat, fake):
    assert (await wechat.query_trade("W103P01")).state == "not_found"
    await wechat.create_trade(trade("W103P01"))
    assert (await wechat.query_trade("W103P01")).state == "pending"
    fake.pay("W103P01")
    paid = await wechat.query_trade("W103P01")
    assert (paid.state, paid.amount_fen, paid.currency) == ("paid", 1990, "CNY")
    assert paid.transaction_id == fake.trades["W103P01"].transaction_id
    with pytest.raises(Exception, match="ORDERPAID"):
        await wechat.close_trade("W103P01")
    pending = await wechat.refund(RefundRequest("W103P01", "W103R01", 500, 1990, "CNY"))
    assert (pending.state, pending.amount_fen) == ("pending", 500)
    assert (await wechat.refund(RefundRequest("W103P01", "W103R01", 500, 1990, "CNY"))).state == (
        "pending"
    )
    assert len(fake.refunds) == 1
    fake.settle_refund("W103R01")
    settled = await wechat.query_refund(out_trade_no="W103P01", out_refund_no="W103R01")
    assert settled.state == "succeeded"
    missing = await wechat.query_refund(out_trade_no="W103P01", out_refund_no="W103R09")
    assert missing.state == "failed"
    assert fake.rejected_signatures == 0


async def test_close_an_unpaid_trade(wechat, fake):
    await wechat.create_trade(trade("W104P01"))
    await wechat.close_trade("W104P01")
    assert (await wechat.query_trade("W104P01")).state == "closed"


async def test_a_refused_refund_is_a_failed_refund(wechat, fake):
    await wechat.create_trade(trade("W105P01"))
    fake.pay("W105P01")
    fake.refund_outcome = "NOT_ENOUGH"
    status = await wechat.refund(RefundRequest("W105P01", "W105R01", 1990, 1990, "CNY"))
    assert status.state == "failed"
    assert "NOT_ENOUGH" in (status.detail or "")


async def test_answers_that_fail_verification_or_never_come_decide_nothing(wechat, fake):
    await wechat.create_trade(trade("W106P01"))
    fake.tamper_answers = True
    with pytest.raises(ProviderUnavailable, match="not verified"):
        await wechat.query_trade("W106P01")
    fake.tamper_answers = False
    fake.unsigned_answers = True
    with pytest.raises(ProviderUnavailable, match="unsigned"):
        await wechat.query_trade("W106P01")
    fake.unsigned_answers = False
    fake.down = True
    with pytest.raises(ProviderUnavailable, match="503") as down:
        await wechat.query_trade("W106P01")
    assert down.value.sent  # it reached the provider: the outcome is unknown
    fake.down = False
    wrong_serial = WechatPayGateway(
        settings_for(fake, merchant_serial_no="0123456789ABCDEF"), notify_url=NOTIFY_URL
    )
    with pytest.raises(ProviderUnavailable, match="401 SIGN_ERROR"):
        await wrong_serial.create_trade(trade("W106P02"))
    await wrong_serial.aclose()
    fake.stop()
    with pytest.raises(ProviderUnavailable, match="unreachable") as unreachable:
        await wechat.query_trade("W106P01")
    assert not unreachable.value.sent  # no connection: nothing was sent


# --- callbacks --------------------------------------------------------------------------


async def test_a_payment_callback_is_verified_decrypted_and_read(wechat, fake):
    await wechat.create_trade(trade("W110P01"))
    headers, body = fake.pay("W110P01")
    event = await wechat.parse_callback(headers=headers, body=body)
    assert event.kind == "payment"
    assert event.state == "paid"
    assert (event.out_trade_no, event.amount_fen, event.currency) == ("W110P01", 1990, "CNY")
    assert event.transaction_id == fake.trades["W110P01"].transaction_id
    assert event.event_id == json.loads(body)["id"]
    answer = wechat.answer_callback(accepted=True)
    assert answer.status_code == 204
    refused = wechat.answer_callback(accepted=False, message="amount mismatch")
    assert json.loads(refused.body) == {"code": "FAIL", "message": "amount mismatch"}


async def test_a_refund_callback_names_its_refund(wechat, fake):
    await wechat.create_trade(trade("W111P01"))
    fake.pay("W111P01")
    await wechat.refund(RefundRequest("W111P01", "W111R01", 1990, 1990, "CNY"))
    headers, body = fake.settle_refund("W111R01", "ABNORMAL")
    event = await wechat.parse_callback(headers=headers, body=body)
    assert event.kind == "refund"
    assert event.refund is not None
    assert (event.refund.out_refund_no, event.refund.state) == ("W111R01", "failed")


async def test_forged_tampered_and_stale_callbacks_are_refused(wechat, fake):
    await wechat.create_trade(trade("W112P01"))
    headers, body = fake.pay("W112P01")
    notice = json.loads(body)
    ciphertext = notice["resource"]["ciphertext"]
    flipped = ("A" if ciphertext[0] != "A" else "B") + ciphertext[1:]
    notice["resource"]["ciphertext"] = flipped
    resigned_tampered = json.dumps(notice, ensure_ascii=False)
    probe = dict(headers, **{"Wechatpay-Signature": "WECHATPAY/SIGNTEST/" + "A" * 20})
    stale_headers, stale_body = fake.callback(
        "TRANSACTION.SUCCESS",
        "transaction",
        {"mchid": fake.mch_id, "appid": fake.app_id, "out_trade_no": "W112P01"},
        timestamp=int(datetime.now(UTC).timestamp()) - 600,
    )
    other_merchant_headers, other_merchant_body = fake.callback(
        "TRANSACTION.SUCCESS", "transaction", {"mchid": "1900000999", "appid": fake.app_id}
    )
    cases = [
        (headers, body.replace(b"encrypt-resource", b"encrypt-resourcE")),  # body changed
        (probe, body),  # WeChat Pay's signature probe
        (stale_headers, stale_body),
        (other_merchant_headers, other_merchant_body),
        ({k: v for k, v in headers.items() if k != "Wechatpay-Signature"}, body),
        (
            fake.signature_headers(resigned_tampered),  # signed, but ciphertext altered
            resigned_tampered.encode(),
        ),
    ]
    for bad_headers, bad_body in cases:
        with pytest.raises(CallbackRejected):
            await wechat.parse_callback(headers=bad_headers, body=bad_body)


async def test_a_rotated_platform_certificate_is_fetched_once_and_then_trusted(fake):
    # The clock runs ahead on demand: certificates are re-fetched for an unknown serial at
    # most once per `certificate_min_refresh_seconds` (60).
    ahead = timedelta()
    wechat = WechatPayGateway(
        settings_for(fake, certificate_refresh_seconds=120),
        notify_url=NOTIFY_URL,
        clock=lambda: datetime.now(UTC) + ahead,
    )
    try:
        await wechat.create_trade(trade("W113P01"))
        assert fake.certificate_downloads == 1
        new_serial = fake.rotate()
        headers, body = fake.pay("W113P01")
        assert headers["Wechatpay-Serial"] == new_serial
        with pytest.raises(CallbackRejected, match="unknown platform serial"):
            await wechat.parse_callback(headers=headers, body=body)  # too soon to re-fetch
        ahead = timedelta(seconds=61)
        event = await wechat.parse_callback(headers=headers, body=body)
        assert event.state == "paid"
        assert fake.certificate_downloads == 2
        assert new_serial in wechat.platform.serials
        # A serial nobody knows does not make every callback download again.
        impostor = fake._new_platform("impostor-platform")
        bad_headers, bad_body = fake.callback(
            "TRANSACTION.SUCCESS", "transaction", {"mchid": fake.mch_id}, platform=impostor
        )
        for _ in range(3):
            with pytest.raises(CallbackRejected, match="unknown platform serial"):
                await wechat.parse_callback(headers=bad_headers, body=bad_body)
        assert fake.certificate_downloads == 2
        # After the refresh period the listing is fetched again on use (scheduled rotation).
        ahead = timedelta(seconds=61 + 121)
        await wechat.query_trade("W113P01")
        assert fake.certificate_downloads == 3
    finally:
        await wechat.aclose()


async def test_the_authorization_header_has_the_documented_form(wechat, fake):
    value = wechat.authorization("GET", "/v3/certificates", "")
    scheme, _, rest = value.partition(" ")
    assert scheme == "WECHATPAY2-SHA256-RSA2048"
    fields = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    assert set(fields) == {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}
    assert fields["mchid"] == fake.mch_id
    assert fields["serial_no"] == fake.merchant_serial
    async with httpx.AsyncClient() as client:
        answer = await client.get(fake.url + "/v3/certificates", headers={"Authorization": value})
    assert answer.status_code == 200
