"""Local fakes of Aliyun dysms and Tencent Cloud SMS that check request signatures.

Each verifies the signature with its own implementation written from the provider's
documentation (not Tessera's code), then answers like the real API: success, or the
provider's error code for a few magic inputs (see `behaviour`). Messages are recorded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

THROTTLED_NUMBER = "13800000001"
INVALID_NUMBER = "13800000002"
REJECTED_TEMPLATE = "TPL_REJECTED"
UNRESPONSIVE_NUMBER = "13800000003"  # answers 503


def _rfc3986(value: str) -> str:
    unreserved = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
    out = []
    for byte in value.encode("utf-8"):
        char = chr(byte)
        out.append(char if char in unreserved else f"%{byte:02X}")
    return "".join(out)


def aliyun_expected_signature(params: dict[str, str], secret: str) -> str:
    pairs = sorted((_rfc3986(k), _rfc3986(v)) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{k}={v}" for k, v in pairs)
    string_to_sign = "GET&%2F&" + _rfc3986(canonical)
    mac = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def tencent_expected_authorization(
    *, secret_id: str, secret_key: str, host: str, content_type: str, body: bytes, timestamp: int
) -> str:
    date = datetime.fromtimestamp(timestamp, tz=UTC).date().isoformat()
    hashed_body = hashlib.sha256(body).hexdigest()
    canonical = (
        f"POST\n/\n\ncontent-type:{content_type}\nhost:{host}\n\ncontent-type;host\n{hashed_body}"
    )
    scope = f"{date}/sms/tc3_request"
    string_to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    )

    def sign(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()

    secret_date = sign(("TC3" + secret_key).encode("utf-8"), date)
    secret_service = sign(secret_date, "sms")
    secret_signing = sign(secret_service, "tc3_request")
    signature = hmac.new(secret_signing, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


@dataclass
class FakeSmsProvider:
    kind: str  # "aliyun" | "tencent"
    key_id: str = "fake-key-id"
    secret: str = "fake-secret-" + "s" * 20
    app_id: str = "1400000000"
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected_signatures: int = 0
    _nonces: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeSmsProvider:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                return

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                status, body = fake.handle_aliyun(dict(parse_qsl(urlsplit(self.path).query)))
                self._answer(status, body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status, answer = fake.handle_tencent(dict(self.headers.items()), body)
                self._answer(status, answer)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def codes_to(self, phone_digits: str) -> list[str]:
        with self._lock:
            return [
                item["params"].get("code", "")
                for item in self.received
                if item["phone"] == phone_digits
            ]

    # --- Aliyun ---------------------------------------------------------------------------

    def handle_aliyun(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        request_id = uuid.uuid4().hex
        if params.get("AccessKeyId") != self.key_id:
            return 404, {
                "Code": "InvalidAccessKeyId.NotFound",
                "Message": "bad key",
                "RequestId": request_id,
            }
        expected = aliyun_expected_signature(params, self.secret)
        nonce = params.get("SignatureNonce", "")
        stamp = params.get("Timestamp", "")
        if (
            params.get("Signature") != expected
            or params.get("SignatureMethod") != "HMAC-SHA1"
            or params.get("SignatureVersion") != "1.0"
            or params.get("Version") != "2017-05-25"
            or params.get("Action") != "SendSms"
        ):
            with self._lock:
                self.rejected_signatures += 1
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "mismatch",
                "RequestId": request_id,
            }
        with self._lock:
            if nonce in self._nonces:
                return 400, {
                    "Code": "SignatureNonceUsed",
                    "Message": "replay",
                    "RequestId": request_id,
                }
            self._nonces.add(nonce)
        when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs(time.time() - when.timestamp()) > 900:
            return 400, {
                "Code": "InvalidTimeStamp.Expired",
                "Message": "old",
                "RequestId": request_id,
            }
        phone = params["PhoneNumbers"]
        template = params["TemplateCode"]
        if phone == UNRESPONSIVE_NUMBER:
            return 503, {
                "Code": "ServiceUnavailable",
                "Message": "try later",
                "RequestId": request_id,
            }
        if phone == THROTTLED_NUMBER:
            return 200, {
                "Code": "isv.BUSINESS_LIMIT_CONTROL",
                "Message": "limit",
                "RequestId": request_id,
            }
        if phone == INVALID_NUMBER:
            return 200, {
                "Code": "isv.MOBILE_NUMBER_ILLEGAL",
                "Message": "bad number",
                "RequestId": request_id,
            }
        if template == REJECTED_TEMPLATE:
            return 200, {
                "Code": "isv.SMS_TEMPLATE_ILLEGAL",
                "Message": "template",
                "RequestId": request_id,
            }
        biz_id = f"{uuid.uuid4().int % 10**18}^0"
        with self._lock:
            self.received.append(
                {
                    "phone": phone,
                    "template": template,
                    "sign_name": params["SignName"],
                    "params": json.loads(params.get("TemplateParam") or "{}"),
                    "id": biz_id,
                }
            )
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}

    # --- Tencent --------------------------------------------------------------------------

    def handle_tencent(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        request_id = str(uuid.uuid4())
        lower = {key.lower(): value for key, value in headers.items()}

        def error(code: str, message: str) -> tuple[int, dict[str, Any]]:
            return 200, {
                "Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}
            }

        try:
            timestamp = int(lower["x-tc-timestamp"])
        except (KeyError, ValueError):
            return error("MissingParameter", "X-TC-Timestamp")
        if abs(time.time() - timestamp) > 300:
            return error("AuthFailure.SignatureExpire", "expired")
        if lower.get("x-tc-action") != "SendSms" or lower.get("x-tc-version") != "2021-01-11":
            return error("InvalidAction", "action/version")
        expected = tencent_expected_authorization(
            secret_id=self.key_id,
            secret_key=self.secret,
            host=lower.get("host", ""),
            content_type=lower.get("content-type", ""),
            body=body,
            timestamp=timestamp,
        )
        if lower.get("authorization") != expected:
            with self._lock:
                self.rejected_signatures += 1
            return error("AuthFailure.SignatureFailure", "signature mismatch")
        data = json.loads(body)
        if data.get("SmsSdkAppId") != self.app_id:
            return error("InvalidParameterValue.SdkAppIdNotExist", "app id")
        phone = data["PhoneNumberSet"][0]
        digits = phone.removeprefix("+86")
        if data["TemplateId"] == REJECTED_TEMPLATE:
            return error("FailedOperation.TemplateIncorrectOrUnapproved", "template")
        status_code, message = "Ok", "send success"
        if digits == THROTTLED_NUMBER:
            status_code, message = "LimitExceeded.PhoneNumberThirtySecondLimit", "30s limit"
        elif digits == INVALID_NUMBER:
            status_code, message = "InvalidParameterValue.IncorrectPhoneNumber", "bad number"
        serial = f"2645:{uuid.uuid4().int % 10**20}"
        if status_code == "Ok":
            with self._lock:
                self.received.append(
                    {
                        "phone": digits,
                        "template": data["TemplateId"],
                        "sign_name": data["SignName"],
                        "params": {"code": (data.get("TemplateParamSet") or [""])[0]},
                        "param_list": data.get("TemplateParamSet") or [],
                        "id": serial,
                    }
                )
        return 200, {
            "Response": {
                "SendStatusSet": [
                    {
                        "SerialNo": serial,
                        "PhoneNumber": phone,
                        "Fee": 1,
                        "SessionContext": "",
                        "Code": status_code,
                        "Message": message,
                        "IsoCode": "CN",
                    }
                ],
                "RequestId": request_id,
            }
        }
