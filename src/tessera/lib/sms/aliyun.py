"""Aliyun SMS (dysms `SendSms`, API version 2017-05-25) over a hand-signed HTTPS call.

Signature: Aliyun's RPC "signature v1": the query parameters (without `Signature`) sorted by
name, each name and value percent-encoded per RFC 3986 (`~` kept, space as `%20`), joined as
`k=v&...`; the string to sign is `GET&%2F&` + percent-encode(that query); the signature is
base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)). No SDK: this is all it needs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

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
from tessera.lib.sms.phone import national_number

API_VERSION = "2017-05-25"

_THROTTLED = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling.User"}
_INVALID_NUMBER = {"isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT"}
_TEMPLATE = {
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.INVALID_JSON_PARAM",
    "isv.PARAM_LENGTH_LIMIT",
    "isv.TEMPLATE_PARAMS_ILLEGAL",
    "isv.SMS_SIGN_ILLEGAL",
}
_CONFIGURATION = {
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId.NotFound",
    "InvalidAccessKeyId.Inactive",
    "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL",
    "isv.AMOUNT_NOT_ENOUGH",
    "isv.PRODUCT_UN_SUBSCRIPT",
}


def percent_encode(value: str) -> str:
    return quote(value, safe="~")


def string_to_sign(params: dict[str, str], method: str = "GET") -> str:
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(params[key])}" for key in sorted(params)
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def sign(params: dict[str, str], access_key_secret: str, method: str = "GET") -> str:
    digest = hmac.new(
        (access_key_secret + "&").encode(),
        string_to_sign(params, method).encode(),
        hashlib.sha1,
    ).digest()
    return base64.b64encode(digest).decode()


def aliyun_phone(phone: str) -> str:
    """Mainland numbers as 11 digits; others as country code + number, without `+`."""
    country, national = national_number(phone)
    return national if country == 86 else f"{country}{national}"


def classify(code: str, message: str) -> SmsError:
    detail = f"aliyun {code}: {message}"
    if code in _THROTTLED:
        return SmsThrottled(detail, provider_code=code)
    if code in _INVALID_NUMBER:
        return SmsInvalidNumber(detail, provider_code=code)
    if code in _TEMPLATE:
        return SmsTemplateRejected(detail, provider_code=code)
    if code in _CONFIGURATION:
        return SmsConfigurationError(detail, provider_code=code)
    # Unknown codes (including ServiceUnavailable, InternalError) are retried.
    return SmsUnavailable(detail, provider_code=code)


class AliyunSms:
    def __init__(self, settings: SmsSettings, *, client: httpx.AsyncClient | None = None) -> None:
        if not settings.aliyun_access_key_id or settings.aliyun_access_key_secret is None:
            raise ValueError("sms.backend=aliyun needs aliyun_access_key_id and _secret")
        self.settings = settings
        self.access_key_id = settings.aliyun_access_key_id
        self._secret = settings.aliyun_access_key_secret.get_secret_value()
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds)

    def signed_params(self, message: SmsMessage, template_code: str) -> dict[str, str]:
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": aliyun_phone(message.phone),
            "RegionId": self.settings.aliyun_region,
            "SignName": self.settings.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
        }
        params["Signature"] = sign(params, self._secret)
        return params

    async def send(self, message: SmsMessage) -> str:
        template_code = self.settings.templates.get(message.message_type)
        if not template_code:
            raise SmsConfigurationError(f"no sms.templates entry for {message.message_type!r}")
        params = self.signed_params(message, template_code)
        try:
            response = await self._client.get(self.settings.aliyun_endpoint + "/", params=params)
        except httpx.HTTPError as exc:
            raise SmsUnavailable(f"aliyun unreachable: {exc!r}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise SmsUnavailable(f"aliyun answered {response.status_code}, not JSON") from exc
        code = str(body.get("Code", ""))
        if code == "OK":
            return str(body.get("BizId") or body.get("RequestId") or "")
        raise classify(code or f"HTTP{response.status_code}", str(body.get("Message", "")))

    async def close(self) -> None:
        await self._client.aclose()
