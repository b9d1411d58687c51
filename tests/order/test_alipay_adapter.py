"""The Alipay adapter against Alipay's published sample vectors and a local fake gateway that
checks signatures as Alipay documents them and signs its answers with its own keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.x509.oid import NameOID

from tessera.blocks.order.integration import (
    CallbackRejected,
    ProviderRejected,
    ProviderUnavailable,
    RefundRequest,
    TradeRequest,
)
from tessera.blocks.order.integration.alipay import (
    AlipayGateway,
    extract_signed_node,
    request_sign_content,
    rfc2253_name,
)
from tessera.lib.config import AlipaySettings
from tests.fakes.alipay import FakeAlipay, cert_sn
from tests.fakes.payment_keys import (
    bare_private_key,
    cached_key,
    cert_pem,
    certificate,
    name,
    private_pem,
)
from tests.order.payment_vectors import (
    ALIPAY_DOC_PARAMS,
    ALIPAY_DOC_SIGN_CONTENT,
    ALIPAY_SDK_ANSWER,
    ALIPAY_SDK_SIGNED_NODE,
)

NOTIFY_URL = "https://shop.example.com/api/v1/payments/alipay/callback"
MERCHANT = "alipay-merchant"


def trade(out_trade_no: str, channel: str = "qr", amount_fen: int = 1990) -> TradeRequest:
    return TradeRequest(
        out_trade_no=out_trade_no,
        channel=channel,  # type: ignore[arg-type]
        amount_fen=amount_fen,
        currency="CNY",
        subject="Order 绿茶",
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )


def settings_for(fake: FakeAlipay, **extra: object) -> AlipaySettings:
    values: dict[str, object] = {
        "app_id": fake.app_id,
        "gateway_url": fake.url,
        # The bare base64 form Alipay's key tool prints.
        "private_key": bare_private_key(cached_key(MERCHANT)),
        "seller_id": fake.seller_id,
        "return_url": "https://shop.example.com/paid",
    }
    if not fake.certificate_mode:
        values["alipay_public_key"] = fake.alipay_public_key_pem
    values.update(extra)
    return AlipaySettings.model_validate(values)


@pytest.fixture
def fake() -> Iterator[FakeAlipay]:
    server = FakeAlipay(merchant_key=cached_key(MERCHANT).public_key()).start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def alipay(fake: FakeAlipay) -> AsyncIterator[AlipayGateway]:
    gateway = AlipayGateway(settings_for(fake), notify_url=NOTIFY_URL)
    yield gateway
    await gateway.aclose()


# --- published vectors ------------------------------------------------------------------


def test_request_sign_content_matches_the_documented_example():
    assert request_sign_content(ALIPAY_DOC_PARAMS) == ALIPAY_DOC_SIGN_CONTENT


def test_empty_parameters_are_left_out_of_the_signed_content():
    assert request_sign_content({"b": "2", "a": "", "sign": "x", "c": "3"}) == "b=2&c=3"


def test_the_signed_node_is_the_raw_text_of_the_answer():
    node, others = extract_signed_node(ALIPAY_SDK_ANSWER, "alipay_trade_create_response")
    assert node == ALIPAY_SDK_SIGNED_NODE
    assert others["sign"].startswith("TS355N0Q")
    spaced = ALIPAY_SDK_ANSWER.replace('":{"co', '"  :\n {"co').replace('},"sign"', '} , "sign"')
    assert extract_signed_node(spaced, "alipay_trade_create_response")[0] == ALIPAY_SDK_SIGNED_NODE


def test_distinguished_names_are_written_as_java_writes_them():
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ant, Financial"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Ant Root"),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ca@example.com"),
        ]
    )
    # Most specific first; commas escaped; emailAddress has no RFC 2253 keyword: OID=#DER.
    assert rfc2253_name(subject) == (
        "1.2.840.113549.1.9.1=#160e6361406578616d706c652e636f6d,CN=Ant Root,O=Ant\\, Financial,C=CN"
    )


# --- against the fake gateway -----------------------------------------------------------


async def test_precreate_is_signed_as_documented_and_returns_a_qr_code(alipay, fake):
    checkout = await alipay.create_trade(trade("T100P01"))
    assert checkout.qr_code_url is not None
    assert checkout.qr_code_url.startswith("https://qr.alipay.com/")
    assert fake.rejected_signatures == 0
    request = fake.requests[-1]
    assert request["method"] == "alipay.trade.precreate"
    assert request["notify_url"] == NOTIFY_URL
    assert fake.trades["T100P01"].total_amount == "19.90"
    assert fake.trades["T100P01"].product_code == "FACE_TO_FACE_PAYMENT"


@pytest.mark.parametrize(
    ("channel", "product_code"), [("page", "FAST_INSTANT_TRADE_PAY"), ("wap", "QUICK_WAP_WAY")]
)
async def test_page_and_wap_pay_hand_the_browser_a_signed_request(
    alipay, fake, channel, product_code
):
    checkout = await alipay.create_trade(trade(f"T101{channel}", channel))
    assert not fake.requests  # no server call: the buyer's browser carries it
    assert checkout.redirect_url is not None
    assert checkout.form is not None
    assert checkout.form.method == "POST"
    query = dict(parse_qsl(urlsplit(checkout.redirect_url).query))
    assert query == checkout.form.fields
    assert query["return_url"] == "https://shop.example.com/paid"
    async with httpx.AsyncClient() as browser:
        opened = await browser.get(checkout.redirect_url)
    assert opened.status_code == 200, opened.text
    assert fake.trades[f"T101{channel}"].product_code == product_code
    assert fake.rejected_signatures == 0


async def test_a_tampered_browser_request_is_refused_by_the_gateway(alipay, fake):
    checkout = await alipay.create_trade(trade("T102P01", "page"))
    assert checkout.form is not None
    fields = dict(checkout.form.fields)
    fields["biz_content"] = fields["biz_content"].replace("19.90", "0.01")
    async with httpx.AsyncClient() as browser:
        opened = await browser.get(f"{fake.url}?{urlencode(fields)}")
    assert opened.status_code == 400
    assert fake.rejected_signatures == 1


async def test_query_close_and_refund_follow_the_trade(alipay, fake):
    assert (await alipay.query_trade("T103P01")).state == "not_found"
    await alipay.close_trade("T103P01")  # unknown trade: nothing to close
    await alipay.create_trade(trade("T103P01"))
    assert (await alipay.query_trade("T103P01")).state == "pending"
    fake.pay("T103P01")
    paid = await alipay.query_trade("T103P01")
    assert paid.state == "paid"
    assert paid.amount_fen == 1990
    assert paid.transaction_id == fake.trades["T103P01"].trade_no
    assert paid.paid_at is not None
    with pytest.raises(ProviderRejected) as refused:
        await alipay.close_trade("T103P01")
    assert refused.value.code == "ACQ.TRADE_STATUS_ERROR"

    partial = RefundRequest("T103P01", "T103R01", 500, 1990, "CNY", reason="one cup broken")
    assert (await alipay.refund(partial)).state == "succeeded"
    again = await alipay.refund(partial)  # same out_request_no: no second refund
    assert again.state == "succeeded"
    assert fake.trades["T103P01"].refunds == {"T103R01": "5.00"}
    too_much = RefundRequest("T103P01", "T103R02", 1600, 1990, "CNY")
    refused_refund = await alipay.refund(too_much)
    assert refused_refund.state == "failed"
    assert "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL" in (refused_refund.detail or "")
    found = await alipay.query_refund(out_trade_no="T103P01", out_refund_no="T103R01")
    assert (found.state, found.amount_fen) == ("succeeded", 500)
    missing = await alipay.query_refund(out_trade_no="T103P01", out_refund_no="T103R09")
    assert missing.state == "failed"
    assert fake.rejected_signatures == 0


async def test_closing_an_unpaid_trade(alipay, fake):
    await alipay.create_trade(trade("T104P01"))
    await alipay.close_trade("T104P01")
    assert (await alipay.query_trade("T104P01")).state == "closed"


async def test_a_refused_refund_is_a_failed_refund(alipay, fake):
    await alipay.create_trade(trade("T105P01"))
    fake.pay("T105P01")
    fake.refund_rejection = "ACQ.SELLER_BALANCE_NOT_ENOUGH"
    status = await alipay.refund(RefundRequest("T105P01", "T105R01", 1990, 1990, "CNY"))
    assert status.state == "failed"
    assert "ACQ.SELLER_BALANCE_NOT_ENOUGH" in (status.detail or "")


async def test_answers_that_fail_verification_or_never_come_decide_nothing(alipay, fake):
    await alipay.create_trade(trade("T106P01"))
    fake.tamper_answers = True
    with pytest.raises(ProviderUnavailable, match="signature"):
        await alipay.query_trade("T106P01")
    fake.tamper_answers = False
    fake.down = True
    with pytest.raises(ProviderUnavailable, match="503") as down:
        await alipay.query_trade("T106P01")
    assert down.value.sent  # it reached the provider: the outcome is unknown
    fake.down = False
    wrong_key = AlipayGateway(
        settings_for(fake, private_key=private_pem(cached_key("someone-else"))),
        notify_url=NOTIFY_URL,
    )
    with pytest.raises(ProviderUnavailable, match=r"unsigned: 40002 isv\.invalid-signature"):
        await wrong_key.create_trade(trade("T106P02"))
    await wrong_key.aclose()
    fake.stop()
    with pytest.raises(ProviderUnavailable, match="unreachable") as unreachable:
        await alipay.query_trade("T106P01")
    assert not unreachable.value.sent  # no connection: nothing was sent


async def test_a_currency_alipay_does_not_take_is_refused(alipay):
    request = TradeRequest("T107P01", "qr", 100, "USD", "Order", datetime.now(UTC))
    with pytest.raises(ProviderRejected) as refused:
        await alipay.create_trade(request)
    assert refused.value.code == "currency_unsupported"


# --- notifications ----------------------------------------------------------------------


async def test_a_notification_is_verified_then_read(alipay, fake):
    await alipay.create_trade(trade("T110P01"))
    body = fake.pay("T110P01")
    event = await alipay.parse_callback(headers={}, body=body)
    assert event.kind == "payment"
    assert event.state == "paid"
    assert event.out_trade_no == "T110P01"
    assert event.transaction_id == fake.trades["T110P01"].trade_no
    assert (event.amount_fen, event.currency) == (1990, "CNY")
    assert event.event_id
    answer = alipay.answer_callback(accepted=True)
    assert (answer.status_code, answer.body) == (200, b"success")


async def test_tampered_or_foreign_notifications_are_refused(alipay, fake):
    await alipay.create_trade(trade("T111P01"))
    body = fake.pay("T111P01")
    tampered = body.replace(b"total_amount=19.90", b"total_amount=0.01")
    assert tampered != body
    forged = FakeAlipay(merchant_key=cached_key(MERCHANT).public_key())
    forged.alipay_key = cached_key("not-alipay")
    forged.trades = fake.trades
    not_from_alipay = forged.notification("T111P01")
    other_app = fake.notification("T111P01", app_id="2021000000009999")
    other_seller = fake.notification("T111P01", seller_id="2088000000009999")
    unsigned = b"&".join(part for part in body.split(b"&") if not part.startswith(b"sign="))
    for bad in (tampered, not_from_alipay, other_app, other_seller, unsigned, b"%%%"):
        with pytest.raises(CallbackRejected):
            await alipay.parse_callback(headers={}, body=bad)
    assert alipay.answer_callback(accepted=False).body == b"fail"


async def test_a_refund_notification_names_the_refund(alipay, fake):
    await alipay.create_trade(trade("T112P01"))
    fake.pay("T112P01")
    await alipay.refund(RefundRequest("T112P01", "T112R01", 1990, 1990, "CNY"))
    event = await alipay.parse_callback(
        headers={}, body=fake.refund_notification("T112P01", "T112R01")
    )
    assert event.kind == "refund"
    assert event.refund is not None
    assert (event.refund.out_refund_no, event.refund.state) == ("T112R01", "succeeded")


# --- certificate mode -------------------------------------------------------------------


@pytest.fixture
def cert_fake() -> Iterator[FakeAlipay]:
    server = FakeAlipay(
        merchant_key=cached_key(MERCHANT).public_key(), certificate_mode=True
    ).start()
    yield server
    server.stop()


async def test_certificate_mode_sends_cert_sns_and_follows_a_rotation(
    cert_fake: FakeAlipay, tmp_path: Path
):
    files = cert_fake.certificate_files(tmp_path, cached_key(MERCHANT))
    gateway = AlipayGateway(settings_for(cert_fake, **files), notify_url=NOTIFY_URL)
    try:
        await gateway.create_trade(trade("T120P01"))
        assert cert_fake.rejected_signatures == 0
        new_sn = cert_fake.rotate_certificate()
        assert (await gateway.query_trade("T120P01")).state == "pending"
        assert new_sn in gateway.keys.alipay_keys
        downloads = [r for r in cert_fake.requests if "alipaycert" in r["method"]]
        assert len(downloads) == 1
        # Notifications signed with the new certificate verify too.
        event = await gateway.parse_callback(headers={}, body=cert_fake.pay("T120P01"))
        assert event.state == "paid"
    finally:
        await gateway.aclose()


async def test_a_rotated_certificate_that_does_not_chain_to_the_root_is_refused(
    cert_fake: FakeAlipay, tmp_path: Path
):
    files = cert_fake.certificate_files(tmp_path, cached_key(MERCHANT))
    gateway = AlipayGateway(settings_for(cert_fake, **files), notify_url=NOTIFY_URL)
    try:
        await gateway.create_trade(trade("T121P01"))
        # An impostor certificate with its own key, self-issued under the root's name.
        impostor_key = cached_key("impostor")
        impostor = certificate(
            name("Fake Alipay Signer 3", "Fake Ant"),
            impostor_key,
            issuer=cert_fake.root_cert.subject,
            issuer_key=impostor_key,
        )
        cert_fake.alipay_key = impostor_key
        cert_fake.alipay_cert = impostor
        cert_fake.certificates[cert_sn(impostor)] = impostor
        with pytest.raises(ProviderUnavailable, match="does not chain"):
            await gateway.query_trade("T121P01")
        assert cert_sn(impostor) not in gateway.keys.alipay_keys
    finally:
        await gateway.aclose()


def test_certificate_sns_agree_with_the_fake(cert_fake: FakeAlipay, tmp_path: Path):
    files = cert_fake.certificate_files(tmp_path, cached_key(MERCHANT))
    gateway = AlipayGateway(settings_for(cert_fake, **files), notify_url=NOTIFY_URL)
    assert cert_fake.app_key_cert is not None
    assert gateway.keys.app_cert_sn == cert_sn(cert_fake.app_key_cert)
    assert gateway.keys.root_cert_sn == "_".join(
        cert_sn(cert) for cert in (cert_fake.root_cert, cert_fake.other_root)
    )
    assert len(gateway.keys.root_cert_sn.split("_")) == 2
    assert cert_pem(cert_fake.root_cert) in files["alipay_root_cert_file"].read_text()
