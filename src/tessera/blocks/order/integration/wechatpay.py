"""WeChat Pay API v3 (direct merchants), written from WeChat Pay's published API documents.

Requests carry `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="...",nonce_str="...",
signature="...",timestamp="...",serial_no="..."`; the signature is SHA256withRSA with the
merchant API private key, base64, over `METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n` (URL: path
and query as sent; BODY empty for GET). `serial_no` is the merchant certificate's serial.

Answers and callbacks are signed by WeChat Pay: headers `Wechatpay-Timestamp`,
`Wechatpay-Nonce`, `Wechatpay-Serial`, `Wechatpay-Signature`, the signature over
`TIMESTAMP\\nNONCE\\nBODY\\n`, checked with the public key of the platform certificate that
`Wechatpay-Serial` names (or with the WeChat Pay public key, when one is configured and the
serial is its id). Timestamps more than five minutes away are refused (replays).
Platform certificates come from `GET /v3/certificates`, each encrypted with the API v3 key;
they are cached, refreshed every `certificate_refresh_seconds`, and fetched again (at most
once a minute) when a message names a serial not seen yet: that is how rotation arrives.

Callbacks (`TRANSACTION.SUCCESS`, `REFUND.SUCCESS|ABNORMAL|CLOSED`) carry a `resource`
encrypted AEAD_AES_256_GCM with the API v3 key (nonce and associated data beside it). A
callback must be answered within 5 seconds: 2xx with no body accepts it, 4xx/5xx with
`{"code": "FAIL", "message": ...}` asks for a retry.

Amounts are integer fen both ways; the only currency of domestic merchants is CNY.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final
from urllib.parse import quote, urlencode

import httpx
import structlog
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from tessera.blocks.order.integration.base import (
    CallbackAnswer,
    CallbackEvent,
    CallbackRejected,
    Channel,
    Checkout,
    ConfigurationError,
    ProviderRejected,
    ProviderUnavailable,
    RefundRequest,
    RefundState,
    RefundStatus,
    TradeRequest,
    TradeState,
    TradeStatus,
    check_currency,
)
from tessera.blocks.order.integration.crypto import (
    aes_gcm_decrypt,
    load_private_key,
    load_public_key,
    read_text,
    sign_sha256_rsa,
    verify_sha256_rsa,
)
from tessera.blocks.order.integration.http import unreachable
from tessera.lib.config import WechatPaySettings

log = structlog.get_logger("tessera.order.wechatpay")

NAME: Final = "wechatpay"
SCHEMA: Final = "WECHATPAY2-SHA256-RSA2048"
MAX_CLOCK_SKEW_SECONDS = 300
API_V3_KEY_BYTES = 32
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
USER_AGENT = "Tessera (+payments)"

_TRADE_STATES: dict[str, TradeState] = {
    "SUCCESS": "paid",
    "REFUND": "refunded",
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "CLOSED": "closed",
    "REVOKED": "closed",
    "PAYERROR": "failed",
}
_REFUND_STATES: dict[str, RefundState] = {
    "SUCCESS": "succeeded",
    "PROCESSING": "pending",
    "CLOSED": "failed",
    "ABNORMAL": "failed",
}
# Error codes that mean "unknown, ask again later" rather than "no".
_RETRYABLE_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "BANK_ERROR", "SYSTEMERROR"}
_PREPAY_PATHS: dict[str, str] = {
    "native": "/v3/pay/transactions/native",
    "jsapi": "/v3/pay/transactions/jsapi",
    "h5": "/v3/pay/transactions/h5",
}


# --- signatures -----------------------------------------------------------------------------


def request_message(method: str, url: str, timestamp: int, nonce: str, body: str) -> str:
    return f"{method}\n{url}\n{timestamp}\n{nonce}\n{body}\n"


def response_message(timestamp: str, nonce: str, body: str) -> str:
    return f"{timestamp}\n{nonce}\n{body}\n"


def authorization_header(
    *, mch_id: str, serial_no: str, nonce: str, timestamp: int, signature: str
) -> str:
    return (
        f'{SCHEMA} mchid="{mch_id}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def jsapi_message(app_id: str, timestamp: str, nonce: str, package: str) -> str:
    """What the JSAPI payment sheet's `paySign` signs."""
    return f"{app_id}\n{timestamp}\n{nonce}\n{package}\n"


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value.strip()
    return ""


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        return None


# --- platform keys --------------------------------------------------------------------------


@dataclass
class _PlatformKey:
    key: rsa.RSAPublicKey
    not_after: datetime | None


class PlatformKeys:
    """The keys WeChat Pay signs with, by serial: downloaded platform certificates (cached,
    refreshed, re-fetched when an unknown serial shows up) and an optional public key."""

    def __init__(
        self,
        *,
        refresh_seconds: int,
        min_refresh_seconds: int,
        clock: Callable[[], datetime],
        public_key_id: str | None = None,
        public_key: rsa.RSAPublicKey | None = None,
    ) -> None:
        self.refresh_seconds = refresh_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self._clock = clock
        self._keys: dict[str, _PlatformKey] = {}
        if public_key_id and public_key is not None:
            self._keys[public_key_id] = _PlatformKey(public_key, None)
        self.public_key_id = public_key_id
        self.fetched_at: datetime | None = None
        self._lock = asyncio.Lock()

    @property
    def serials(self) -> list[str]:
        return sorted(self._keys)

    def known(self, serial: str) -> rsa.RSAPublicKey | None:
        entry = self._keys.get(serial)
        if entry is None:
            return None
        if entry.not_after is not None and entry.not_after < self._clock():
            return None
        return entry.key

    def replace_certificates(self, certificates: dict[str, x509.Certificate]) -> None:
        keys = {
            serial: _PlatformKey(cert.public_key(), cert.not_valid_after_utc)  # type: ignore[arg-type]
            for serial, cert in certificates.items()
        }
        if self.public_key_id and self.public_key_id in self._keys:
            keys[self.public_key_id] = self._keys[self.public_key_id]
        self._keys = keys
        self.fetched_at = self._clock()

    def stale(self) -> bool:
        if self.fetched_at is None:
            return True
        return (self._clock() - self.fetched_at).total_seconds() >= self.refresh_seconds

    def may_refetch(self) -> bool:
        if self.fetched_at is None:
            return True
        return (self._clock() - self.fetched_at).total_seconds() >= self.min_refresh_seconds

    @property
    def lock(self) -> asyncio.Lock:
        return self._lock

    @property
    def certificate_mode(self) -> bool:
        """False when only the WeChat Pay public key is configured and no certificate is
        needed; certificates are still fetched on demand if a message names another serial."""
        return self.public_key_id is None


# --- the gateway ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> dict[str, Any]:
        try:
            value = json.loads(self.text) if self.text else {}
        except ValueError as exc:
            raise ProviderUnavailable("wechatpay answer is not JSON", provider=NAME) from exc
        if not isinstance(value, dict):
            raise ProviderUnavailable("wechatpay answer is not an object", provider=NAME)
        return value


class WechatPayGateway:
    """WeChat Pay Native, JSAPI and H5 prepay, query, close, refund, callbacks."""

    name = NAME
    channels: tuple[Channel, ...] = ("native", "jsapi", "h5")

    def __init__(
        self,
        settings: WechatPaySettings,
        *,
        notify_url: str,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        for key in ("mch_id", "app_id", "merchant_serial_no"):
            if not getattr(settings, key):
                raise ConfigurationError(f"order.payments.wechatpay.{key} is not configured")
        self.settings = settings
        self.mch_id: str = settings.mch_id or ""
        self.app_id: str = settings.app_id or ""
        self.serial_no: str = settings.merchant_serial_no or ""
        self.notify_url = notify_url
        secret = settings.private_key.get_secret_value() if settings.private_key else None
        self._private_key = load_private_key(
            read_text(secret, settings.private_key_file, what="wechatpay private_key"),
            what="wechatpay private_key",
        )
        v3 = settings.api_v3_key.get_secret_value() if settings.api_v3_key else None
        self._api_v3_key = read_text(v3, settings.api_v3_key_file, what="wechatpay api_v3_key")
        if len(self._api_v3_key.encode()) != API_V3_KEY_BYTES:
            raise ConfigurationError(
                f"order.payments.wechatpay.api_v3_key must be {API_V3_KEY_BYTES} bytes"
            )
        self._clock = clock or (lambda: datetime.now(UTC))
        public_key = None
        if settings.platform_public_key_file is not None:
            public_key = load_public_key(
                read_text(None, settings.platform_public_key_file, what="wechatpay public key"),
                what="wechatpay platform_public_key_file",
            )
        self.platform = PlatformKeys(
            refresh_seconds=settings.certificate_refresh_seconds,
            min_refresh_seconds=settings.certificate_min_refresh_seconds,
            clock=self._clock,
            public_key_id=settings.platform_public_key_id,
            public_key=public_key,
        )
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds)

    # -- requests

    def authorization(self, method: str, url: str, body: str) -> str:
        timestamp = int(self._clock().timestamp())
        nonce = secrets.token_hex(16).upper()
        message = request_message(method, url, timestamp, nonce, body)
        signature = sign_sha256_rsa(self._private_key, message.encode())
        return authorization_header(
            mch_id=self.mch_id,
            serial_no=self.serial_no,
            nonce=nonce,
            timestamp=timestamp,
            signature=signature,
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        payload: Mapping[str, Any] | None = None,
        verify: bool = True,
    ) -> _Answer:
        url = path + ("?" + urlencode(query) if query else "")
        body = "" if payload is None else json.dumps(payload, ensure_ascii=False)
        headers = {
            "Authorization": self.authorization(method, url, body),
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = await self._client.request(
                method, self.settings.base_url + url, content=body.encode(), headers=headers
            )
        except httpx.HTTPError as exc:
            raise unreachable(NAME, exc) from exc
        answer = _Answer(response.status_code, dict(response.headers), response.text)
        if answer.status >= 500:
            raise ProviderUnavailable(
                f"wechatpay answered HTTP {answer.status} {self._code(answer)}".strip(),
                provider=NAME,
            )
        if verify:
            await self._verify_answer(answer)
        return answer

    @staticmethod
    def _code(answer: _Answer) -> str:
        try:
            value = json.loads(answer.text)
        except ValueError:
            return ""
        return str(value.get("code", "")) if isinstance(value, dict) else ""

    async def _verify_answer(self, answer: _Answer) -> None:
        if not _header(answer.headers, "Wechatpay-Signature"):
            code = self._code(answer)
            raise ProviderUnavailable(
                f"wechatpay answered HTTP {answer.status} {code} unsigned".strip(), provider=NAME
            )
        try:
            await self.verify_signature(answer.headers, answer.text.encode())
        except CallbackRejected as exc:
            raise ProviderUnavailable(
                f"wechatpay answer not verified: {exc}", provider=NAME
            ) from exc

    def _raise_for(self, answer: _Answer, action: str) -> None:
        """Turn a verified 4xx answer into an error the caller can act on."""
        body = answer.json()
        code = str(body.get("code", "")) or f"HTTP{answer.status}"
        message = f"wechatpay {action}: {code} {body.get('message', '')}".strip()
        if code in _RETRYABLE_CODES:
            raise ProviderUnavailable(message, provider=NAME)
        raise ProviderRejected(message, provider=NAME, code=code)

    # -- verification

    async def verify_signature(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise CallbackRejected unless WeChat Pay signed `body` with these headers."""
        timestamp = _header(headers, "Wechatpay-Timestamp")
        nonce = _header(headers, "Wechatpay-Nonce")
        serial = _header(headers, "Wechatpay-Serial")
        signature = _header(headers, "Wechatpay-Signature")
        kind = _header(headers, "Wechatpay-Signature-Type")
        if not (timestamp and nonce and serial and signature):
            raise CallbackRejected("signature headers missing", provider=NAME)
        if kind and kind != SCHEMA:
            raise CallbackRejected(f"signature type {kind} not accepted", provider=NAME)
        try:
            seconds = int(timestamp)
        except ValueError as exc:
            raise CallbackRejected("Wechatpay-Timestamp is not a number", provider=NAME) from exc
        if abs(self._clock().timestamp() - seconds) > MAX_CLOCK_SKEW_SECONDS:
            raise CallbackRejected("Wechatpay-Timestamp too far from now", provider=NAME)
        key = await self._platform_key(serial)
        if key is None:
            raise CallbackRejected(f"unknown platform serial {serial}", provider=NAME)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CallbackRejected("body is not UTF-8", provider=NAME) from exc
        message = response_message(timestamp, nonce, text).encode()
        if not verify_sha256_rsa(key, message, signature):
            raise CallbackRejected("signature does not verify", provider=NAME)

    async def _platform_key(self, serial: str) -> rsa.RSAPublicKey | None:
        key = self.platform.known(serial)
        if key is not None and not self.platform.stale():
            return key
        if key is not None and not self.platform.certificate_mode:
            return key
        async with self.platform.lock:
            key = self.platform.known(serial)
            needs = key is None or (self.platform.certificate_mode and self.platform.stale())
            if needs and self.platform.may_refetch():
                try:
                    await self.refresh_certificates()
                except ProviderUnavailable as exc:
                    log.warning("wechatpay_certificates_unavailable", error=str(exc))
                key = self.platform.known(serial)
        return key

    async def refresh_certificates(self) -> list[str]:
        """Download the platform certificates; trust them because only WeChat Pay and this
        merchant hold the API v3 key they are encrypted with, and the listing is signed by
        one of them. Returns the serials now known."""
        answer = await self._send("GET", "/v3/certificates", verify=False)
        if answer.status != 200:
            raise ProviderUnavailable(
                f"wechatpay certificates: HTTP {answer.status} {self._code(answer)}".strip(),
                provider=NAME,
            )
        certificates: dict[str, x509.Certificate] = {}
        now = self._clock()
        for item in answer.json().get("data", []):
            try:
                encrypted = item["encrypt_certificate"]
                pem = aes_gcm_decrypt(
                    self._api_v3_key.encode(),
                    nonce=str(encrypted["nonce"]),
                    associated_data=str(encrypted.get("associated_data", "")),
                    ciphertext=str(encrypted["ciphertext"]),
                )
                certificate = x509.load_pem_x509_certificate(pem)
                serial = str(item["serial_no"])
                same_serial = int(serial, 16) == certificate.serial_number
            except (KeyError, TypeError, ValueError) as exc:
                raise ProviderUnavailable(
                    f"wechatpay certificate unreadable: {exc!r}", provider=NAME
                ) from exc
            if not same_serial or not isinstance(certificate.public_key(), rsa.RSAPublicKey):
                raise ProviderUnavailable("wechatpay certificate serial mismatch", provider=NAME)
            if certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
                certificates[serial] = certificate
        if not certificates:
            raise ProviderUnavailable("wechatpay listed no valid certificate", provider=NAME)
        signer = certificates.get(_header(answer.headers, "Wechatpay-Serial"))
        message = response_message(
            _header(answer.headers, "Wechatpay-Timestamp"),
            _header(answer.headers, "Wechatpay-Nonce"),
            answer.text,
        ).encode()
        public_key = signer.public_key() if signer is not None else None
        if not isinstance(public_key, rsa.RSAPublicKey) or not verify_sha256_rsa(
            public_key, message, _header(answer.headers, "Wechatpay-Signature")
        ):
            raise ProviderUnavailable("wechatpay certificate listing not verified", provider=NAME)
        self.platform.replace_certificates(certificates)
        log.info("wechatpay_certificates_loaded", serials=sorted(certificates))
        return self.platform.serials

    # -- the gateway protocol

    async def create_trade(self, request: TradeRequest) -> Checkout:
        check_currency(request.currency, NAME)
        payload: dict[str, Any] = {
            "appid": self.app_id,
            "mchid": self.mch_id,
            "description": request.subject[:127],
            "out_trade_no": request.out_trade_no,
            "time_expire": _rfc3339(request.expires_at),
            "notify_url": self.notify_url,
            "amount": {"total": request.amount_fen, "currency": request.currency},
        }
        if request.channel == "jsapi":
            if not request.openid:
                raise ProviderRejected("JSAPI pay needs the payer's openid", code="PARAM_ERROR")
            payload["payer"] = {"openid": request.openid}
        elif request.channel == "h5":
            if not request.client_ip:
                raise ProviderRejected("H5 pay needs the payer's address", code="PARAM_ERROR")
            payload["scene_info"] = {
                "payer_client_ip": request.client_ip,
                "h5_info": {"type": self.settings.h5_type},
            }
        answer = await self._send("POST", _PREPAY_PATHS[request.channel], payload=payload)
        if answer.status != 200:
            self._raise_for(answer, "prepay")
        body = answer.json()
        if request.channel == "native":
            return Checkout(
                request.out_trade_no, "native", qr_code_url=self._field(body, "code_url")
            )
        if request.channel == "h5":
            return Checkout(request.out_trade_no, "h5", redirect_url=self._field(body, "h5_url"))
        prepay_id = self._field(body, "prepay_id")
        return Checkout(
            request.out_trade_no, "jsapi", prepay_id=prepay_id, jsapi=self.jsapi_params(prepay_id)
        )

    @staticmethod
    def _field(body: Mapping[str, Any], name: str) -> str:
        value = body.get(name)
        if not isinstance(value, str) or not value:
            raise ProviderUnavailable(f"wechatpay answered no {name}", provider=NAME)
        return value

    def jsapi_params(self, prepay_id: str) -> dict[str, str]:
        """The parameters of `WeixinJSBridge.invoke('getBrandWCPayRequest', ...)`."""
        timestamp = str(int(self._clock().timestamp()))
        nonce = secrets.token_hex(16).upper()
        package = f"prepay_id={prepay_id}"
        pay_sign = sign_sha256_rsa(
            self._private_key, jsapi_message(self.app_id, timestamp, nonce, package).encode()
        )
        return {
            "appId": self.app_id,
            "timeStamp": timestamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": pay_sign,
        }

    async def query_trade(self, out_trade_no: str) -> TradeStatus:
        answer = await self._send(
            "GET",
            f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}",
            query={"mchid": self.mch_id},
        )
        if answer.status == 404 and self._code(answer) == "ORDER_NOT_EXIST":
            return TradeStatus(out_trade_no, "not_found")
        if answer.status != 200:
            self._raise_for(answer, "query")
        body = answer.json()
        state = _TRADE_STATES.get(str(body.get("trade_state", "")))
        if state is None or body.get("out_trade_no") != out_trade_no:
            raise ProviderUnavailable(
                f"wechatpay query answered {body.get('trade_state')!r} for "
                f"{body.get('out_trade_no')!r}",
                provider=NAME,
            )
        amount = body.get("amount") or {}
        total = amount.get("total") if isinstance(amount, dict) else None
        return TradeStatus(
            out_trade_no,
            state,
            transaction_id=body.get("transaction_id") or None,
            amount_fen=total if isinstance(total, int) else None,
            currency=amount.get("currency") if isinstance(amount, dict) else None,
            paid_at=_parse_time(body.get("success_time")),
        )

    async def close_trade(self, out_trade_no: str) -> None:
        answer = await self._send(
            "POST",
            f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no, safe='')}/close",
            payload={"mchid": self.mch_id},
        )
        if answer.status in (200, 204):
            return
        if self._code(answer) == "ORDER_NOT_EXIST":
            return
        self._raise_for(answer, "close")

    async def refund(self, request: RefundRequest) -> RefundStatus:
        check_currency(request.currency, NAME)
        payload: dict[str, Any] = {
            "out_trade_no": request.out_trade_no,
            "out_refund_no": request.out_refund_no,
            "notify_url": self.notify_url,
            "amount": {
                "refund": request.amount_fen,
                "total": request.total_fen,
                "currency": request.currency,
            },
        }
        if request.reason:
            payload["reason"] = request.reason[:80]
        answer = await self._send("POST", "/v3/refund/domestic/refunds", payload=payload)
        if answer.status != 200:
            try:
                self._raise_for(answer, "refund")
            except ProviderRejected as exc:
                return RefundStatus(request.out_refund_no, "failed", detail=str(exc))
        return self._refund_status(answer.json(), request.out_refund_no)

    async def query_refund(self, *, out_trade_no: str, out_refund_no: str) -> RefundStatus:
        answer = await self._send(
            "GET", f"/v3/refund/domestic/refunds/{quote(out_refund_no, safe='')}"
        )
        if answer.status == 404 and self._code(answer) == "RESOURCE_NOT_EXISTS":
            return RefundStatus(out_refund_no, "failed", detail="refund not found at wechatpay")
        if answer.status != 200:
            self._raise_for(answer, "refund query")
        return self._refund_status(answer.json(), out_refund_no)

    @staticmethod
    def _refund_status(body: Mapping[str, Any], out_refund_no: str) -> RefundStatus:
        state = _REFUND_STATES.get(str(body.get("status", "")))
        if state is None or body.get("out_refund_no") != out_refund_no:
            raise ProviderUnavailable(
                f"wechatpay refund answered {body.get('status')!r}", provider=NAME
            )
        amount = body.get("amount") or {}
        refund = amount.get("refund") if isinstance(amount, dict) else None
        return RefundStatus(
            out_refund_no,
            state,
            refund_id=body.get("refund_id") or None,
            amount_fen=refund if isinstance(refund, int) else None,
            detail=None if state != "failed" else f"refund {body.get('status')}",
        )

    async def parse_callback(self, *, headers: Mapping[str, str], body: bytes) -> CallbackEvent:
        await self.verify_signature(headers, body)
        # Verified: now the body may be read.
        try:
            notice = json.loads(body)
            resource = notice["resource"]
            event_type = str(notice["event_type"])
            event_id = str(notice["id"])
            if resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise CallbackRejected("resource algorithm not supported", provider=NAME)
            plain = aes_gcm_decrypt(
                self._api_v3_key.encode(),
                nonce=str(resource["nonce"]),
                associated_data=str(resource.get("associated_data") or ""),
                ciphertext=str(resource["ciphertext"]),
            )
            data = json.loads(plain)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CallbackRejected(f"callback unreadable: {exc}", provider=NAME) from exc
        if not isinstance(data, dict) or data.get("mchid") != self.mch_id:
            raise CallbackRejected("callback for another merchant", provider=NAME)
        if event_type.startswith("TRANSACTION."):
            if data.get("appid") != self.app_id:
                raise CallbackRejected("callback for another app", provider=NAME)
            amount = data.get("amount") or {}
            total = amount.get("total") if isinstance(amount, dict) else None
            return CallbackEvent(
                kind="payment",
                event_id=event_id,
                out_trade_no=data.get("out_trade_no") or None,
                transaction_id=data.get("transaction_id") or None,
                state=_TRADE_STATES.get(str(data.get("trade_state", ""))),
                amount_fen=total if isinstance(total, int) else None,
                currency=amount.get("currency") if isinstance(amount, dict) else None,
                paid_at=_parse_time(data.get("success_time")),
                raw=data,
            )
        if event_type.startswith("REFUND."):
            amount = data.get("amount") or {}
            refund = amount.get("refund") if isinstance(amount, dict) else None
            state = _REFUND_STATES.get(str(data.get("refund_status", "")), "pending")
            return CallbackEvent(
                kind="refund",
                event_id=event_id,
                out_trade_no=data.get("out_trade_no") or None,
                transaction_id=data.get("transaction_id") or None,
                refund=RefundStatus(
                    str(data.get("out_refund_no", "")),
                    state,
                    refund_id=data.get("refund_id") or None,
                    amount_fen=refund if isinstance(refund, int) else None,
                    detail=None if state != "failed" else str(data.get("refund_status")),
                ),
                raw=data,
            )
        return CallbackEvent(kind="other", event_id=event_id, raw=data)

    def answer_callback(
        self, *, accepted: bool, message: str = "", status_code: int = 400
    ) -> CallbackAnswer:
        if accepted:
            return CallbackAnswer(204, "application/json", b"")
        body = json.dumps({"code": "FAIL", "message": message or "rejected"}, ensure_ascii=False)
        return CallbackAnswer(status_code, "application/json", body.encode())

    async def aclose(self) -> None:
        await self._client.aclose()
