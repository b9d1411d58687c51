"""A local fake of the Alipay open platform gateway (`alipay.trade.*`) for tests.

It checks every request's RSA2 signature the way Alipay documents it (its own code, written
from the documents, not Tessera's): all parameters but `sign` with a value, sorted by name,
`name=value` joined with `&`, SHA256withRSA with the merchant's public key. It answers like
the gateway, `{"<method>_response": {...}, "sign": "..."}`, signing the response node's exact
text with its own key (generated in the test run), and produces signed asynchronous
notifications for the tests to post to Tessera. In certificate mode it checks `app_cert_sn`
and `alipay_root_cert_sn`, names `alipay_cert_sn` in its answers and serves certificate
downloads after a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.payment_keys import cached_key, cert_pem, certificate, name, public_pem, write

BEIJING = timezone(timedelta(hours=8))
APP_ID = "2021000000000001"
SELLER_ID = "2088000000000001"


def _sign(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def _verifies(key: rsa.RSAPublicKey, text: str, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature), text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def documented_request_content(params: dict[str, str]) -> str:
    keys = sorted(key for key, value in params.items() if key != "sign" and value != "")
    return "&".join(f"{key}={params[key]}" for key in keys)


def documented_notify_content(params: dict[str, str]) -> str:
    keys = sorted(key for key in params if key not in ("sign", "sign_type"))
    return "&".join(f"{key}={params[key]}" for key in keys)


def cert_sn(cert: x509.Certificate) -> str:
    issuer = cert.issuer.rfc4514_string()
    return hashlib.md5((issuer + str(cert.serial_number)).encode()).hexdigest()


def beijing_now() -> str:
    return datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class FakeTrade:
    out_trade_no: str
    total_amount: str
    subject: str
    product_code: str
    status: str = "WAIT_BUYER_PAY"
    trade_no: str = field(default_factory=lambda: "2026" + uuid.uuid4().hex[:24])
    refunds: dict[str, str] = field(default_factory=dict)
    paid_at: str | None = None
    time_expire: str | None = None


@dataclass
class FakeAlipay:
    merchant_key: rsa.RSAPublicKey
    app_id: str = APP_ID
    seller_id: str = SELLER_ID
    certificate_mode: bool = False
    trades: dict[str, FakeTrade] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    rejected_signatures: int = 0
    # Behaviours a test switches on.
    down: bool = False
    refund_rejection: str | None = None  # a sub_code, e.g. ACQ.SELLER_BALANCE_NOT_ENOUGH
    tamper_answers: bool = False
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.alipay_key = cached_key("fake-alipay")
        if self.certificate_mode:
            self.root_key = cached_key("fake-alipay-root")
            root_name = name("Fake Alipay Root CA", "Fake Ant")
            self.root_cert = certificate(root_name, self.root_key, ca=True, days=3650)
            self.alipay_cert = self._issue(self.alipay_key, "Fake Alipay Signer")
            self.app_key_cert: x509.Certificate | None = None
            self.certificates = {cert_sn(self.alipay_cert): self.alipay_cert}

    def _issue(self, key: rsa.RSAPrivateKey, common_name: str) -> x509.Certificate:
        return certificate(
            name(common_name, "Fake Ant"),
            key,
            issuer=self.root_cert.subject,
            issuer_key=self.root_key,
        )

    # --- set-up helpers -----------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/gateway.do"

    @property
    def alipay_public_key_pem(self) -> str:
        return public_pem(self.alipay_key)

    def certificate_files(self, directory: Path, app_key: rsa.RSAPrivateKey) -> dict[str, Path]:
        """Certificate mode: the app certificate (issued by the fake root for the merchant's
        key), the Alipay certificate and the root bundle, as the console hands them out."""
        assert self.certificate_mode
        self.app_key_cert = self._issue(app_key, f"app {self.app_id}")
        # The real root bundle also holds a non-RSA root; an RSA root signed with SHA-1 style
        # OIDs counts, others do not. One extra RSA root keeps the `_` join honest.
        other_root = certificate(name("Fake Other Root"), cached_key("fake-other-root"), ca=True)
        self.other_root = other_root
        return {
            "app_cert_file": write(directory, "appCertPublicKey.crt", cert_pem(self.app_key_cert)),
            "alipay_cert_file": write(
                directory, "alipayCertPublicKey_RSA2.crt", cert_pem(self.alipay_cert)
            ),
            "alipay_root_cert_file": write(
                directory, "alipayRootCert.crt", cert_pem(self.root_cert, other_root)
            ),
        }

    def rotate_certificate(self) -> str:
        """Alipay starts signing with a new certificate; returns its SN."""
        self.alipay_key = cached_key("fake-alipay-rotated")
        self.alipay_cert = self._issue(self.alipay_key, "Fake Alipay Signer 2")
        sn = cert_sn(self.alipay_cert)
        self.certificates[sn] = self.alipay_cert
        return sn

    def start(self, port: int = 0) -> FakeAlipay:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _reply(self, status: int, body: str, content_type: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
                status, body = fake.open_cashier(params)
                self._reply(status, body, "text/html; charset=utf-8")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = self.rfile.read(length).decode()
                params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
                params.update(dict(parse_qsl(form, keep_blank_values=True)))
                if fake.down:
                    self._reply(503, "Service Unavailable", "text/plain")
                    return
                self._reply(200, fake.handle(params), "text/html;charset=utf-8")

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

    # --- the gateway --------------------------------------------------------------------

    def _check(self, params: dict[str, str]) -> str | None:
        """None when the request is signed as documented, else Alipay's sub_code."""
        if params.get("app_id") != self.app_id:
            return "isv.invalid-app-id"
        if params.get("sign_type") != "RSA2" or params.get("charset", "").lower() != "utf-8":
            return "isv.invalid-signature-type"
        if params.get("version") != "1.0":
            return "isv.invalid-version"
        content = documented_request_content(params)
        if not _verifies(self.merchant_key, content, params.get("sign", "")):
            return "isv.invalid-signature"
        stamp = datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        if abs((datetime.now(UTC) - stamp).total_seconds()) > 1800:
            return "isv.invalid-timestamp"
        if self.certificate_mode:
            assert self.app_key_cert is not None
            root_sn = "_".join(cert_sn(cert) for cert in (self.root_cert, self.other_root))
            if params.get("app_cert_sn") != cert_sn(self.app_key_cert):
                return "isv.app-cert-sn-mismatch"
            if params.get("alipay_root_cert_sn") != root_sn:
                return "isv.root-cert-sn-mismatch"
        return None

    def _answer(self, method: str, node: dict[str, Any], *, signed: bool = True) -> str:
        node_name = method.replace(".", "_") + "_response"
        text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        if not signed:
            return f'{{"{node_name}":{text}}}'
        sign = _sign(self.alipay_key, text)
        if self.tamper_answers:
            text = text.replace('"code":"10000"', '"code":"10000","tampered":"1"')
        extra = ""
        if self.certificate_mode:
            extra = f',"alipay_cert_sn":"{cert_sn(self.alipay_cert)}"'
        return f'{{"{node_name}":{text},"sign":"{sign}"{extra}}}'

    def handle(self, params: dict[str, str]) -> str:
        method = params.get("method", "")
        problem = self._check(params)
        with self._lock:
            self.requests.append(params)
        if problem is not None:
            with self._lock:
                self.rejected_signatures += 1
            node = {"code": "40002", "msg": "Invalid Arguments", "sub_code": problem}
            return self._answer(method, node, signed=False)
        biz = json.loads(params.get("biz_content") or "{}")
        handler = {
            "alipay.trade.precreate": self._precreate,
            "alipay.trade.query": self._query,
            "alipay.trade.close": self._close,
            "alipay.trade.refund": self._refund,
            "alipay.trade.fastpay.refund.query": self._refund_query,
            "alipay.open.app.alipaycert.download": self._download,
        }.get(method)
        if handler is None:
            node = {"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-method"}
        else:
            with self._lock:
                node = handler(biz)
        return self._answer(method, node)

    @staticmethod
    def _ok(**fields: Any) -> dict[str, Any]:
        return {"code": "10000", "msg": "Success", **fields}

    @staticmethod
    def _fail(sub_code: str, sub_msg: str = "") -> dict[str, Any]:
        return {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}

    def _new_trade(self, biz: dict[str, Any]) -> FakeTrade:
        trade = FakeTrade(
            out_trade_no=biz["out_trade_no"],
            total_amount=biz["total_amount"],
            subject=biz["subject"],
            product_code=biz.get("product_code", ""),
            time_expire=biz.get("time_expire"),
        )
        self.trades[trade.out_trade_no] = trade
        return trade

    def _precreate(self, biz: dict[str, Any]) -> dict[str, Any]:
        existing = self.trades.get(biz["out_trade_no"])
        if existing is not None and existing.total_amount != biz["total_amount"]:
            return self._fail("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
        trade = existing or self._new_trade(biz)
        return self._ok(
            out_trade_no=trade.out_trade_no, qr_code=f"https://qr.alipay.com/{trade.trade_no}"
        )

    def _query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return self._fail("ACQ.TRADE_NOT_EXIST", "交易不存在")
        fields = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status,
            "total_amount": trade.total_amount,
            "buyer_logon_id": "159****5620",
        }
        if trade.paid_at:
            fields["send_pay_date"] = trade.paid_at
        return self._ok(**fields)

    def _close(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return self._fail("ACQ.TRADE_NOT_EXIST", "交易不存在")
        if trade.status != "WAIT_BUYER_PAY":
            return self._fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade.status = "TRADE_CLOSED"
        return self._ok(trade_no=trade.trade_no, out_trade_no=trade.out_trade_no)

    def _refund(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return self._fail("ACQ.TRADE_NOT_EXIST", "交易不存在")
        if trade.status not in ("TRADE_SUCCESS",):
            return self._fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        if self.refund_rejection:
            return self._fail(self.refund_rejection, "退款失败")
        request_no = biz["out_request_no"]
        amount = biz["refund_amount"]
        if request_no in trade.refunds:
            if trade.refunds[request_no] != amount:
                return self._fail("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额不一致")
            return self._ok(
                trade_no=trade.trade_no,
                out_trade_no=trade.out_trade_no,
                refund_fee=self._refunded(trade),
                fund_change="N",
            )
        remaining = Decimal(trade.total_amount) - Decimal(self._refunded(trade))
        if Decimal(amount) > remaining:
            return self._fail("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        trade.refunds[request_no] = amount
        if Decimal(self._refunded(trade)) == Decimal(trade.total_amount):
            trade.status = "TRADE_CLOSED"
        return self._ok(
            trade_no=trade.trade_no,
            out_trade_no=trade.out_trade_no,
            refund_fee=self._refunded(trade),
            fund_change="Y",
            gmt_refund_pay=beijing_now(),
        )

    @staticmethod
    def _refunded(trade: FakeTrade) -> str:
        return f"{sum((Decimal(v) for v in trade.refunds.values()), Decimal('0.00')):.2f}"

    def _refund_query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return self._fail("ACQ.TRADE_NOT_EXIST", "交易不存在")
        amount = trade.refunds.get(biz.get("out_request_no", ""))
        if amount is None:
            return self._ok(trade_no=trade.trade_no, out_trade_no=trade.out_trade_no)
        return self._ok(
            trade_no=trade.trade_no,
            out_trade_no=trade.out_trade_no,
            out_request_no=biz["out_request_no"],
            refund_amount=amount,
            total_amount=trade.total_amount,
            refund_status="REFUND_SUCCESS",
        )

    def _download(self, biz: dict[str, Any]) -> dict[str, Any]:
        if not self.certificate_mode:
            return self._fail("CERT_NOT_EXIST", "证书不存在")
        cert = self.certificates.get(biz.get("alipay_cert_sn", ""))
        if cert is None:
            return self._fail("CERT_NOT_EXIST", "证书不存在")
        content = base64.b64encode(cert_pem(cert).encode()).decode()
        return self._ok(alipay_cert_content=content)

    # --- the buyer's side ---------------------------------------------------------------

    def open_cashier(self, params: dict[str, str]) -> tuple[int, str]:
        """The buyer's browser arrives with a signed page/WAP pay request."""
        problem = self._check(params)
        if problem is not None:
            with self._lock:
                self.rejected_signatures += 1
            return 400, f"<h1>{problem}</h1>"
        method = params.get("method")
        if method not in ("alipay.trade.page.pay", "alipay.trade.wap.pay"):
            return 400, "<h1>not a page method</h1>"
        biz = json.loads(params["biz_content"])
        with self._lock:
            self.requests.append(params)
            if biz["out_trade_no"] not in self.trades:
                trade = self._new_trade(biz)
                trade.product_code = biz["product_code"]
        return 200, "<h1>支付宝收银台</h1>"

    def pay(self, out_trade_no: str) -> bytes:
        """The buyer pays: the trade succeeds and the notification Alipay would send is
        returned (form-encoded, signed)."""
        with self._lock:
            trade = self.trades[out_trade_no]
            trade.status = "TRADE_SUCCESS"
            trade.paid_at = beijing_now()
        return self.notification(out_trade_no)

    def notification(self, out_trade_no: str, **overrides: str) -> bytes:
        trade = self.trades[out_trade_no]
        params = {
            "notify_time": beijing_now(),
            "notify_type": "trade_status_sync",
            "notify_id": uuid.uuid4().hex,
            "app_id": self.app_id,
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "seller_id": self.seller_id,
            "buyer_id": "2088102122524333",
            "trade_status": trade.status,
            "total_amount": trade.total_amount,
            "receipt_amount": trade.total_amount,
            "buyer_pay_amount": trade.total_amount,
            "subject": trade.subject,
            "gmt_create": beijing_now(),
            "gmt_payment": trade.paid_at or "",
            "fund_bill_list": json.dumps(
                [{"amount": trade.total_amount, "fundChannel": "ALIPAYACCOUNT"}]
            ),
        }
        params.update(overrides)
        params["sign"] = _sign(self.alipay_key, documented_notify_content(params))
        return urlencode(params).encode()

    def refund_notification(self, out_trade_no: str, out_request_no: str) -> bytes:
        trade = self.trades[out_trade_no]
        return self.notification(
            out_trade_no,
            out_biz_no=out_request_no,
            refund_fee=self._refunded(trade),
            gmt_refund=beijing_now() + ".000",
        )
