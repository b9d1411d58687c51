"""Tencent Cloud SMS (`SendSms`, API version 2021-01-11) over a hand-signed HTTPS call.

Signature: TC3-HMAC-SHA256 (Tencent Cloud API 3.0). Canonical request =
`POST\n/\n\ncontent-type:<ct>\nhost:<host>\n\ncontent-type;host\n<sha256(body)>`; string to
sign = `TC3-HMAC-SHA256\n<timestamp>\n<date>/sms/tc3_request\n<sha256(canonical request)>`;
the key is derived as HMAC chains `TC3<SecretKey>` → date → "sms" → "tc3_request".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from tessera.lib.config import SmsSettings
from tessera.lib.sms.base import (
    SmsConfigurationError,
    SmsError,
    SmsInvalidNumber,
    SmsMessage,
    SmsTemplateRejected,
    SmsThrottled,
    SmsUnavailable,
)

API_VERSION = "2021-01-11"
SERVICE = "sms"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signature(
    *, secret_key: str, host: str, body: bytes, timestamp: int, service: str = SERVICE
) -> tuple[str, str]:
    """(credential scope, hex signature) for a POST of `body` to `host` at `timestamp`."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(
        [ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(("TC3" + secret_key).encode(), date)
    key = _hmac(key, service)
    key = _hmac(key, "tc3_request")
    return scope, hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def classify(code: str, message: str) -> SmsError:
    detail = f"tencent {code}: {message}"
    if code.startswith("LimitExceeded") or code == "RequestLimitExceeded":
        return SmsThrottled(detail, provider_code=code)
    if code.startswith(
        ("InvalidParameterValue.IncorrectPhoneNumber", "UnsupportedOperation.Unsupported")
    ) or code in {"FailedOperation.PhoneNumberInBlacklist", "FailedOperation.PhoneNumberParseFail"}:
        return SmsInvalidNumber(detail, provider_code=code)
    if (
        "Template" in code
        or ("Sign" in code and not code.startswith("AuthFailure"))
        or code == "InvalidParameterValue.ContentLengthLimit"
    ):
        return SmsTemplateRejected(detail, provider_code=code)
    if code.startswith(
        ("AuthFailure", "UnauthorizedOperation", "FailedOperation.InsufficientBalance")
    ):
        return SmsConfigurationError(detail, provider_code=code)
    return SmsUnavailable(detail, provider_code=code)


class TencentSms:
    def __init__(self, settings: SmsSettings, *, client: httpx.AsyncClient | None = None) -> None:
        if (
            not settings.tencent_secret_id
            or settings.tencent_secret_key is None
            or not settings.tencent_sdk_app_id
        ):
            raise ValueError(
                "sms.backend=tencent needs tencent_secret_id, tencent_secret_key and "
                "tencent_sdk_app_id"
            )
        self.settings = settings
        self.secret_id = settings.tencent_secret_id
        self._secret_key = settings.tencent_secret_key.get_secret_value()
        self.host = urlsplit(settings.tencent_endpoint).netloc
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds)

    def signed_request(self, message: SmsMessage, template_id: str) -> tuple[dict[str, str], bytes]:
        body = json.dumps(
            {
                "PhoneNumberSet": [message.phone],
                "SmsSdkAppId": self.settings.tencent_sdk_app_id,
                "SignName": self.settings.sign_name,
                "TemplateId": template_id,
                "TemplateParamSet": list(message.params.values()),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = int(time.time())
        scope, sig = signature(
            secret_key=self._secret_key, host=self.host, body=body, timestamp=timestamp
        )
        headers = {
            "Authorization": (
                f"{ALGORITHM} Credential={self.secret_id}/{scope}, "
                f"SignedHeaders=content-type;host, Signature={sig}"
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
            "X-TC-Region": self.settings.tencent_region,
        }
        return headers, body

    async def send(self, message: SmsMessage) -> str:
        template_id = self.settings.templates.get(message.message_type)
        if not template_id:
            raise SmsConfigurationError(f"no sms.templates entry for {message.message_type!r}")
        headers, body = self.signed_request(message, template_id)
        try:
            response = await self._client.post(
                self.settings.tencent_endpoint, content=body, headers=headers
            )
        except httpx.HTTPError as exc:
            raise SmsUnavailable(f"tencent unreachable: {exc!r}") from exc
        try:
            data = response.json()["Response"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SmsUnavailable(f"tencent answered {response.status_code}, not JSON") from exc
        error = data.get("Error")
        if error:
            raise classify(str(error.get("Code", "")), str(error.get("Message", "")))
        statuses = data.get("SendStatusSet") or []
        if not statuses:
            raise SmsUnavailable("tencent answered without a send status")
        status = statuses[0]
        if str(status.get("Code")) != "Ok":
            raise classify(str(status.get("Code", "")), str(status.get("Message", "")))
        return str(status.get("SerialNo") or data.get("RequestId") or "")

    async def close(self) -> None:
        await self._client.aclose()
