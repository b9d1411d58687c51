"""A local fake of WeChat Pay API v3 (direct merchant) for tests.

It checks each request's `Authorization: WECHATPAY2-SHA256-RSA2048 ...` the way WeChat Pay
documents it (its own code, written from the documents): mchid and certificate serial,
a timestamp within five minutes, and SHA256withRSA over `METHOD\\nURL\\nTIMESTAMP\\nNONCE\\n
BODY\\n` with the merchant's public key. It signs every answer with a platform certificate key
of its own (generated in the test run: `Wechatpay-Timestamp/-Nonce/-Serial/-Signature`),
serves `/v3/certificates` encrypted with the API v3 key (AEAD_AES_256_GCM), and builds signed
callbacks with encrypted resources for the tests to post to Tessera. `rotate()` switches to a
new platform certificate, as WeChat Pay does before an old one expires.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.fakes.payment_keys import cached_key, cert_pem, certificate, name

BEIJING = timezone(timedelta(hours=8))
MCH_ID = "1900000109"
APP_ID = "wxd678efh567hg6787"
MERCHANT_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
API_V3_KEY = "a" * 16 + "B" * 16
_AUTH = re.compile(r'(\w+)="([^"]*)"')


def _sign(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def _verifies(key: rsa.RSAPublicKey, text: str, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature), text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def encrypt(api_v3_key: str, plaintext: str, associated_data: str) -> dict[str, str]:
    nonce = secrets.token_hex(6)  # 12 characters, as WeChat Pay sends
    sealed = AESGCM(api_v3_key.encode()).encrypt(
        nonce.encode(), plaintext.encode(), associated_data.encode()
    )
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(sealed).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def rfc3339_now() -> str:
    return datetime.now(BEIJING).isoformat(timespec="seconds")


@dataclass
class PlatformCert:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def serial(self) -> str:
        return format(self.cert.serial_number, "X")


@dataclass
class FakeWechatTrade:
    out_trade_no: str
    channel: str
    total: int
    currency: str
    description: str
    time_expire: str
    state: str = "NOTPAY"
    transaction_id: str = field(default_factory=lambda: "4200" + uuid.uuid4().hex[:24])
    success_time: str | None = None
    payer: dict[str, Any] | None = None


@dataclass
class FakeRefund:
    out_refund_no: str
    out_trade_no: str
    refund: int
    total: int
    status: str
    refund_id: str = field(default_factory=lambda: "5030" + uuid.uuid4().hex[:24])


@dataclass
class FakeWechatPay:
    merchant_key: rsa.RSAPublicKey
    mch_id: str = MCH_ID
    app_id: str = APP_ID
    merchant_serial: str = MERCHANT_SERIAL
    api_v3_key: str = API_V3_KEY
    trades: dict[str, FakeWechatTrade] = field(default_factory=dict)
    refunds: dict[str, FakeRefund] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    rejected_signatures: int = 0
    certificate_downloads: int = 0
    # Behaviours a test switches on.
    down: bool = False
    refund_outcome: str = "PROCESSING"  # SUCCESS | PROCESSING | or an error code: NOT_ENOUGH
    unsigned_answers: bool = False
    tamper_answers: bool = False
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.ca_key = cached_key("fake-wechat-ca")
        self.ca_cert = certificate(name("Fake Tenpay CA", "Fake Tenpay"), self.ca_key, ca=True)
        self.platform: list[PlatformCert] = [self._new_platform("fake-wechat-platform-1")]

    def _new_platform(self, key_name: str) -> PlatformCert:
        key = cached_key(key_name)
        cert = certificate(
            name("Tenpay.com Root CA signed platform", "Fake Tenpay"),
            key,
            issuer=self.ca_cert.subject,
            issuer_key=self.ca_key,
        )
        return PlatformCert(key, cert)

    @property
    def signing(self) -> PlatformCert:
        return self.platform[-1]

    def rotate(self) -> str:
        """A new platform certificate signs from now on (the old one stays listed)."""
        self.platform.append(self._new_platform(f"fake-wechat-platform-{len(self.platform) + 1}"))
        return self.signing.serial

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- server -------------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeWechatPay:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode() if length else ""
                status, answer, signed = fake.handle(
                    method, self.path, self.headers.get("Authorization", ""), body
                )
                data = answer.encode()
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-ID", uuid.uuid4().hex)
                if signed:
                    for header, value in fake.signature_headers(answer).items():
                        self.send_header(header, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def restart(self) -> None:
        """Serve again on the same port (after `stop`: the provider was down)."""
        assert self._server is not None
        port = self._server.server_address[1]
        self.start(port)

    def signature_headers(
        self, body: str, *, platform: PlatformCert | None = None, timestamp: int | None = None
    ) -> dict[str, str]:
        signer = platform or self.signing
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = secrets.token_hex(16)
        signature = _sign(signer.key, f"{stamp}\n{nonce}\n{body}\n")
        if self.tamper_answers:
            signature = _sign(signer.key, f"{stamp}\n{nonce}\n{body} \n")
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": signer.serial,
            "Wechatpay-Signature": signature,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def _authorized(self, method: str, url: str, authorization: str, body: str) -> bool:
        scheme, _, rest = authorization.partition(" ")
        fields = dict(_AUTH.findall(rest))
        if scheme != "WECHATPAY2-SHA256-RSA2048":
            return False
        if fields.get("mchid") != self.mch_id or fields.get("serial_no") != self.merchant_serial:
            return False
        try:
            stamp = int(fields.get("timestamp", ""))
        except ValueError:
            return False
        if abs(time.time() - stamp) > 300:
            return False
        message = f"{method}\n{url}\n{fields['timestamp']}\n{fields.get('nonce_str', '')}\n{body}\n"
        return _verifies(self.merchant_key, message, fields.get("signature", ""))

    def handle(self, method: str, url: str, authorization: str, body: str) -> tuple[int, str, bool]:
        """(status, body, signed) for one request."""
        with self._lock:
            self.requests.append((method, url))
        if not self._authorized(method, url, authorization, body):
            with self._lock:
                self.rejected_signatures += 1
            return 401, json.dumps({"code": "SIGN_ERROR", "message": "签名错误"}), False
        if self.down:
            return 503, json.dumps({"code": "SYSTEM_ERROR", "message": "系统繁忙"}), False
        path = urlsplit(url).path
        query = dict(parse_qsl(urlsplit(url).query))
        payload = json.loads(body) if body else {}
        with self._lock:
            status, answer = self._route(method, path, query, payload)
        text = "" if answer is None else json.dumps(answer, ensure_ascii=False)
        return status, text, not self.unsigned_answers

    def _route(
        self, method: str, path: str, query: dict[str, str], payload: dict[str, Any]
    ) -> tuple[int, dict[str, Any] | None]:
        if method == "GET" and path == "/v3/certificates":
            return self._certificates()
        match = re.fullmatch(r"/v3/pay/transactions/(native|jsapi|h5)", path)
        if method == "POST" and match:
            return self._prepay(match.group(1), payload)
        match = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)", path)
        if method == "GET" and match:
            if query.get("mchid") != self.mch_id:
                return 400, {"code": "PARAM_ERROR", "message": "mchid"}
            return self._query(match.group(1))
        match = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)/close", path)
        if method == "POST" and match:
            return self._close(match.group(1), payload)
        if method == "POST" and path == "/v3/refund/domestic/refunds":
            return self._refund(payload)
        match = re.fullmatch(r"/v3/refund/domestic/refunds/([^/]+)", path)
        if method == "GET" and match:
            refund = self.refunds.get(match.group(1))
            if refund is None:
                return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"}
            return 200, self._refund_body(refund)
        return 404, {"code": "NOT_FOUND", "message": path}

    def _certificates(self) -> tuple[int, dict[str, Any]]:
        self.certificate_downloads += 1
        data = []
        for item in self.platform:
            data.append(
                {
                    "serial_no": item.serial,
                    "effective_time": item.cert.not_valid_before_utc.isoformat(),
                    "expire_time": item.cert.not_valid_after_utc.isoformat(),
                    "encrypt_certificate": encrypt(
                        self.api_v3_key, cert_pem(item.cert), "certificate"
                    ),
                }
            )
        return 200, {"data": data}

    def _prepay(self, channel: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        required = ["appid", "mchid", "description", "out_trade_no", "notify_url", "amount"]
        if channel == "jsapi":
            required.append("payer")
        if channel == "h5":
            required.append("scene_info")
        missing = [key for key in required if key not in payload]
        if missing or payload["mchid"] != self.mch_id or payload["appid"] != self.app_id:
            return 400, {"code": "PARAM_ERROR", "message": f"missing {missing}"}
        amount = payload["amount"]
        if not isinstance(amount.get("total"), int) or amount.get("currency", "CNY") != "CNY":
            return 400, {"code": "PARAM_ERROR", "message": "amount"}
        existing = self.trades.get(payload["out_trade_no"])
        if existing is not None:
            if existing.state == "SUCCESS":
                return 403, {"code": "ORDERPAID", "message": "该订单已支付"}
            if existing.total != amount["total"]:
                return 403, {"code": "OUT_TRADE_NO_USED", "message": "商户订单号重复"}
        trade = existing or FakeWechatTrade(
            out_trade_no=payload["out_trade_no"],
            channel=channel,
            total=amount["total"],
            currency=amount.get("currency", "CNY"),
            description=payload["description"],
            time_expire=payload.get("time_expire", ""),
            payer=payload.get("payer"),
        )
        self.trades[trade.out_trade_no] = trade
        prepay_id = "wx" + uuid.uuid4().hex[:30]
        if channel == "native":
            return 200, {"code_url": f"weixin://wxpay/bizpayurl?pr={prepay_id[2:10]}"}
        if channel == "h5":
            return 200, {
                "h5_url": f"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay_id}"
            }
        return 200, {"prepay_id": prepay_id}

    def _transaction(self, trade: FakeWechatTrade) -> dict[str, Any]:
        body: dict[str, Any] = {
            "appid": self.app_id,
            "mchid": self.mch_id,
            "out_trade_no": trade.out_trade_no,
            "trade_type": trade.channel.upper(),
            "trade_state": trade.state,
            "trade_state_desc": trade.state,
            "amount": {"currency": trade.currency, "total": trade.total},
        }
        if trade.state in ("SUCCESS", "REFUND"):
            body["transaction_id"] = trade.transaction_id
            body["success_time"] = trade.success_time
            body["amount"].update({"payer_total": trade.total, "payer_currency": "CNY"})
            body["payer"] = trade.payer or {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
        return body

    def _query(self, out_trade_no: str) -> tuple[int, dict[str, Any]]:
        trade = self.trades.get(out_trade_no)
        if trade is None:
            return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
        return 200, self._transaction(trade)

    def _close(
        self, out_trade_no: str, payload: dict[str, Any]
    ) -> tuple[int, dict[str, Any] | None]:
        if payload.get("mchid") != self.mch_id:
            return 400, {"code": "PARAM_ERROR", "message": "mchid"}
        trade = self.trades.get(out_trade_no)
        if trade is None:
            return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
        if trade.state in ("SUCCESS", "REFUND"):
            return 400, {"code": "ORDERPAID", "message": "订单已支付"}
        trade.state = "CLOSED"
        return 204, None

    def _refund(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        trade = self.trades.get(payload.get("out_trade_no", ""))
        if trade is None:
            return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"}
        if trade.state not in ("SUCCESS", "REFUND"):
            return 403, {"code": "INVALID_REQUEST", "message": "订单未支付"}
        amount = payload["amount"]
        if amount["total"] != trade.total:
            return 400, {"code": "PARAM_ERROR", "message": "订单金额不一致"}
        existing = self.refunds.get(payload["out_refund_no"])
        if existing is not None:
            return 200, self._refund_body(existing)
        if self.refund_outcome not in ("SUCCESS", "PROCESSING"):
            return 403, {"code": self.refund_outcome, "message": "余额不足"}
        refunded = sum(
            item.refund for item in self.refunds.values() if item.out_trade_no == trade.out_trade_no
        )
        if refunded + amount["refund"] > trade.total:
            return 403, {"code": "INVALID_REQUEST", "message": "退款金额超限"}
        refund = FakeRefund(
            out_refund_no=payload["out_refund_no"],
            out_trade_no=trade.out_trade_no,
            refund=amount["refund"],
            total=trade.total,
            status=self.refund_outcome,
        )
        self.refunds[refund.out_refund_no] = refund
        trade.state = "REFUND"
        return 200, self._refund_body(refund)

    def _refund_body(self, refund: FakeRefund) -> dict[str, Any]:
        return {
            "refund_id": refund.refund_id,
            "out_refund_no": refund.out_refund_no,
            "transaction_id": self.trades[refund.out_trade_no].transaction_id,
            "out_trade_no": refund.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": rfc3339_now(),
            "status": refund.status,
            "amount": {
                "total": refund.total,
                "refund": refund.refund,
                "payer_total": refund.total,
                "payer_refund": refund.refund,
                "currency": "CNY",
            },
        }

    # --- callbacks ----------------------------------------------------------------------

    def pay(self, out_trade_no: str) -> tuple[dict[str, str], bytes]:
        """The buyer pays; returns the signed TRANSACTION.SUCCESS callback (headers, body)."""
        with self._lock:
            trade = self.trades[out_trade_no]
            trade.state = "SUCCESS"
            trade.success_time = rfc3339_now()
            resource = self._transaction(trade)
        return self.callback("TRANSACTION.SUCCESS", "transaction", resource)

    def settle_refund(
        self, out_refund_no: str, status: str = "SUCCESS"
    ) -> tuple[dict[str, str], bytes]:
        """The refund finishes (SUCCESS, CLOSED or ABNORMAL); returns its signed callback."""
        with self._lock:
            refund = self.refunds[out_refund_no]
            refund.status = status
            trade = self.trades[refund.out_trade_no]
            resource = {
                "mchid": self.mch_id,
                "out_trade_no": refund.out_trade_no,
                "transaction_id": trade.transaction_id,
                "out_refund_no": refund.out_refund_no,
                "refund_id": refund.refund_id,
                "refund_status": status,
                "success_time": rfc3339_now(),
                "user_received_account": "支付用户零钱",
                "amount": {
                    "total": refund.total,
                    "refund": refund.refund,
                    "payer_total": refund.total,
                    "payer_refund": refund.refund,
                },
            }
        return self.callback(f"REFUND.{status}", "refund", resource)

    def callback(
        self,
        event_type: str,
        original_type: str,
        resource: dict[str, Any],
        *,
        platform: PlatformCert | None = None,
        timestamp: int | None = None,
    ) -> tuple[dict[str, str], bytes]:
        notice = {
            "id": str(uuid.uuid4()),
            "create_time": rfc3339_now(),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": "支付成功" if event_type.startswith("TRANSACTION") else "退款状态变更",
            "resource": {
                **encrypt(self.api_v3_key, json.dumps(resource, ensure_ascii=False), original_type),
                "original_type": original_type,
            },
        }
        body = json.dumps(notice, ensure_ascii=False)
        headers = self.signature_headers(body, platform=platform, timestamp=timestamp)
        headers["Content-Type"] = "application/json"
        return headers, body.encode()
