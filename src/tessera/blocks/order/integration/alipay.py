"""Alipay open platform (`alipay.trade.*`), written from Alipay's published API documents.

Requests: the common parameters (`app_id`, `method`, `format`, `charset`, `sign_type`,
`timestamp`, `version`, `notify_url`, ...) plus `biz_content` (the business parameters as one
JSON string) are signed RSA2: every parameter but `sign` whose value is not empty, sorted by
name, joined `name=value&...` with raw (not URL-encoded) values, signed SHA256withRSA with the
application's private key, base64. Common parameters travel in the query string, `biz_content`
in the form body, as Alipay's SDKs send them.

Answers: `{"<method>_response": {...}, "sign": "..."}`; the signature covers the exact text of
the response node as it appears in the body (not a re-serialisation), so the node is cut out of
the raw body. `code` 10000 is success, 40004 a business failure (`sub_code` says which), 20000
and `ACQ.SYSTEM_ERROR` mean "unknown, retry".

Asynchronous notifications (`trade_status_sync`) are form posts: every parameter but `sign`
and `sign_type`, sorted, joined the same way (empty values included), verified with the Alipay
public key. Alipay retries until it reads exactly `success`.

Certificate mode: requests carry `app_cert_sn` and `alipay_root_cert_sn`; a certificate's SN
is the hex MD5 of its issuer's distinguished name (RFC 2253 form) followed by its serial number
in decimal; the root SN joins the SNs of the RSA-signed roots with `_`. Answers name the
`alipay_cert_sn` that signed them; when Alipay rotates its certificate, the new one is
downloaded (`alipay.open.app.alipaycert.download`) and accepted only if it chains to the
configured root and is within its validity.

Times (`timestamp`, `time_expire`) are Beijing time, `yyyy-MM-dd HH:mm:ss`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

import httpx
import structlog
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tessera.blocks.order.integration.base import (
    CallbackAnswer,
    CallbackEvent,
    CallbackRejected,
    Channel,
    Checkout,
    ConfigurationError,
    PaymentForm,
    ProviderRejected,
    ProviderUnavailable,
    RefundRequest,
    RefundStatus,
    TradeRequest,
    TradeState,
    TradeStatus,
    check_currency,
    parse_yuan,
    yuan_string,
)
from tessera.blocks.order.integration.crypto import (
    load_certificates,
    load_private_key,
    load_public_key,
    read_text,
    sign_sha256_rsa,
    verify_sha256_rsa,
)
from tessera.blocks.order.integration.http import unreachable
from tessera.lib.config import AlipaySettings

log = structlog.get_logger("tessera.order.alipay")

NAME: Final = "alipay"
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SUCCESS = "10000"
# Answers meaning "the outcome is unknown; ask again".
_RETRYABLE_CODES = {"20000", "20001"}
_RETRYABLE_SUB_CODES = {"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR", "isp.unknow-error"}
_PRODUCT_CODES: dict[str, str] = {
    "page": "FAST_INSTANT_TRADE_PAY",
    "wap": "QUICK_WAP_WAY",
    "qr": "FACE_TO_FACE_PAYMENT",
}
_TRADE_STATES: dict[str, TradeState] = {
    "WAIT_BUYER_PAY": "pending",
    "TRADE_SUCCESS": "paid",
    "TRADE_FINISHED": "paid",
    "TRADE_CLOSED": "closed",
}
# RSA signature algorithms (sha1WithRSA, sha256WithRSA, ...): the roots that count in the SN.
_RSA_SIGNATURE_OID_PREFIX = "1.2.840.113549.1.1"


# --- signing --------------------------------------------------------------------------------


def request_sign_content(params: Mapping[str, str]) -> str:
    """What a request signs: every parameter but `sign` with a non-empty value, sorted."""
    return "&".join(
        f"{name}={params[name]}" for name in sorted(params) if name != "sign" and params[name]
    )


def notification_sign_content(params: Mapping[str, str]) -> str:
    """What a notification signs: every parameter but `sign` and `sign_type`, sorted."""
    return "&".join(
        f"{name}={params[name]}" for name in sorted(params) if name not in ("sign", "sign_type")
    )


def extract_signed_node(body: str, node_name: str) -> tuple[str, dict[str, Any]]:
    """The raw text of the top-level member `node_name` (what Alipay signed) and the other
    top-level members (`sign`, `alipay_cert_sn`). Walks the top-level object with the JSON
    decoder itself, so braces and quotes inside strings cannot confuse it."""
    decoder = json.JSONDecoder()
    index = _skip_space(body, 0)
    if not body.startswith("{", index):
        raise ValueError("the answer is not a JSON object")
    index = _skip_space(body, index + 1)
    found: str | None = None
    others: dict[str, Any] = {}
    while not body.startswith("}", index):
        name, index = decoder.raw_decode(body, index)
        if not isinstance(name, str):
            raise ValueError("member name is not a string")
        index = _skip_space(body, index)
        if not body.startswith(":", index):
            raise ValueError("':' expected")
        start = _skip_space(body, index + 1)
        value, end = decoder.raw_decode(body, start)
        if name == node_name:
            found = body[start:end]
        else:
            others[name] = value
        index = _skip_space(body, end)
        if body.startswith(",", index):
            index = _skip_space(body, index + 1)
        elif not body.startswith("}", index):
            raise ValueError("',' or '}' expected")
    if _skip_space(body, index + 1) != len(body):
        raise ValueError("text after the JSON object")
    if found is None:
        raise ValueError(f"no {node_name} in the answer")
    return found, others


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


# --- certificate mode -----------------------------------------------------------------------

_RFC2253_KEYWORDS = {
    NameOID.COMMON_NAME: "CN",
    NameOID.COUNTRY_NAME: "C",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.STREET_ADDRESS: "STREET",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.USER_ID: "UID",
}


def _rfc2253_value(value: str) -> str:
    escaped = "".join("\\" + char if char in ',+"\\<>;' else char for char in value)
    if escaped.startswith(("#", " ")):
        escaped = "\\" + escaped
    if escaped.endswith(" ") and not escaped.endswith("\\ "):
        escaped = escaped[:-1] + "\\ "
    return escaped


def _der_string(attribute: x509.NameAttribute[Any]) -> str:
    """`#` + hex of the attribute value's DER, how RFC 2253 writes attributes without a
    keyword (e.g. emailAddress)."""
    raw = attribute.value.encode() if isinstance(attribute.value, str) else attribute.value
    asn1_type = getattr(attribute, "_type", None)
    tag = int(getattr(asn1_type, "value", 12))  # UTF8String unless the certificate says
    length = len(raw)
    if length < 0x80:
        header = bytes([tag, length])
    else:
        size = length.to_bytes((length.bit_length() + 7) // 8, "big")
        header = bytes([tag, 0x80 | len(size)]) + size
    return "#" + (header + raw).hex()


def rfc2253_name(name: x509.Name) -> str:
    """The distinguished name as Java's `X500Principal.getName()` prints it (RFC 2253): the
    most specific RDN first, known attribute keywords, other attributes as OID=#DER."""
    parts = []
    for rdn in reversed(name.rdns):
        values = []
        for attribute in rdn:
            keyword = _RFC2253_KEYWORDS.get(attribute.oid)
            if keyword is None:
                values.append(f"{attribute.oid.dotted_string}={_der_string(attribute)}")
            else:
                values.append(f"{keyword}={_rfc2253_value(str(attribute.value))}")
        parts.append("+".join(values))
    return ",".join(parts)


def certificate_sn(certificate: x509.Certificate) -> str:
    """Alipay's certificate SN: md5(issuer DN + serial number in decimal), 32 hex digits."""
    material = rfc2253_name(certificate.issuer) + str(certificate.serial_number)
    return hashlib.md5(material.encode(), usedforsecurity=False).hexdigest()


def root_certificate_sn(certificates: list[x509.Certificate]) -> str:
    """The SNs of the RSA-signed roots of Alipay's root bundle, joined with `_`."""
    sns = [
        certificate_sn(cert)
        for cert in certificates
        if cert.signature_algorithm_oid.dotted_string.startswith(_RSA_SIGNATURE_OID_PREFIX)
    ]
    if not sns:
        raise ConfigurationError("the Alipay root certificate bundle holds no RSA root")
    return "_".join(sns)


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def chains_to(
    chain: list[x509.Certificate], roots: list[x509.Certificate], *, now: datetime
) -> bool:
    """True when `chain[0]` leads, through the other certificates of `chain`, to one of
    `roots`, every certificate on the way valid now and signed by the next."""
    current = chain[0]
    rest = list(chain[1:])
    while True:
        if not current.not_valid_before_utc <= now <= current.not_valid_after_utc:
            return False
        if any(_issued_by(current, root) for root in roots):
            return True
        parent = next((cert for cert in rest if _issued_by(current, cert)), None)
        if parent is None:
            return False
        rest.remove(parent)
        current = parent


# --- configuration --------------------------------------------------------------------------


@dataclass
class AlipayKeys:
    """Everything that signs and verifies, loaded once at start-up."""

    app_id: str
    private_key: rsa.RSAPrivateKey
    # Keys that may sign Alipay's answers and notifications, by alipay_cert_sn ("" in key mode).
    alipay_keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)
    app_cert_sn: str | None = None
    root_cert_sn: str | None = None
    root_certificates: list[x509.Certificate] = field(default_factory=list)

    @property
    def certificate_mode(self) -> bool:
        return self.app_cert_sn is not None

    @classmethod
    def from_settings(cls, settings: AlipaySettings) -> AlipayKeys:
        if not settings.app_id:
            raise ConfigurationError("order.payments.alipay.app_id is not configured")
        secret = settings.private_key.get_secret_value() if settings.private_key else None
        private_key = load_private_key(
            read_text(secret, settings.private_key_file, what="alipay private_key"),
            what="alipay private_key",
        )
        if settings.app_cert_file or settings.alipay_cert_file or settings.alipay_root_cert_file:
            app_cert = load_certificates(
                read_text(None, settings.app_cert_file, what="alipay app_cert_file"),
                what="alipay app_cert_file",
            )[0]
            alipay_chain = load_certificates(
                read_text(None, settings.alipay_cert_file, what="alipay alipay_cert_file"),
                what="alipay alipay_cert_file",
            )
            roots = load_certificates(
                read_text(None, settings.alipay_root_cert_file, what="alipay root cert"),
                what="alipay alipay_root_cert_file",
            )
            alipay_cert = alipay_chain[0]
            public_key = alipay_cert.public_key()
            if not isinstance(public_key, rsa.RSAPublicKey):
                raise ConfigurationError("alipay_cert_file does not hold an RSA certificate")
            return cls(
                app_id=settings.app_id,
                private_key=private_key,
                alipay_keys={certificate_sn(alipay_cert): public_key},
                app_cert_sn=certificate_sn(app_cert),
                root_cert_sn=root_certificate_sn(roots),
                root_certificates=roots,
            )
        alipay_key = load_public_key(
            read_text(
                settings.alipay_public_key,
                settings.alipay_public_key_file,
                what="alipay alipay_public_key",
            ),
            what="alipay alipay_public_key",
        )
        return cls(app_id=settings.app_id, private_key=private_key, alipay_keys={"": alipay_key})


def _beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime(TIME_FORMAT)


def _parse_beijing(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=BEIJING).astimezone(UTC)
    except ValueError:
        return None


# --- the gateway ----------------------------------------------------------------------------


class AlipayGateway:
    """Alipay page pay, WAP pay and pre-create (QR), query, close, refund, notifications."""

    name = NAME
    channels: tuple[Channel, ...] = ("page", "wap", "qr")

    def __init__(
        self,
        settings: AlipaySettings,
        *,
        notify_url: str,
        keys: AlipayKeys | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.keys = keys or AlipayKeys.from_settings(settings)
        self.notify_url = notify_url
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds)
        self._clock = clock or (lambda: datetime.now(UTC))

    # -- requests

    def _common(self, method: str) -> dict[str, str]:
        params = {
            "app_id": self.keys.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": _beijing(self._clock()),
            "version": "1.0",
        }
        if self.keys.certificate_mode:
            params["app_cert_sn"] = self.keys.app_cert_sn or ""
            params["alipay_root_cert_sn"] = self.keys.root_cert_sn or ""
        return params

    def signed_params(
        self, method: str, biz: Mapping[str, Any], **extra: str | None
    ) -> dict[str, str]:
        params = self._common(method)
        params.update({name: value for name, value in extra.items() if value})
        params["biz_content"] = json.dumps(biz, ensure_ascii=False, separators=(",", ":"))
        params["sign"] = sign_sha256_rsa(
            self.keys.private_key, request_sign_content(params).encode()
        )
        return params

    async def _post(self, method: str, biz: Mapping[str, Any], **extra: str | None) -> str:
        params = self.signed_params(method, biz, **extra)
        body = {"biz_content": params.pop("biz_content")}
        try:
            response = await self._client.post(
                self.settings.gateway_url,
                params=params,
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            raise unreachable(NAME, exc) from exc
        if response.status_code != 200:
            raise ProviderUnavailable(f"alipay answered HTTP {response.status_code}", provider=NAME)
        return response.text

    async def _call(
        self, method: str, biz: Mapping[str, Any], *, notify: bool = False
    ) -> dict[str, Any]:
        """One gateway call; the verified response node (code 10000), or an error."""
        text = await self._post(method, biz, notify_url=self.notify_url if notify else None)
        node = await self._verified_node(method, text)
        code = str(node.get("code", ""))
        if code == SUCCESS:
            return node
        sub_code = str(node.get("sub_code", ""))
        message = " ".join(
            str(part) for part in (code, node.get("msg"), sub_code, node.get("sub_msg")) if part
        )
        message = f"alipay {method}: {message}"
        if code in _RETRYABLE_CODES or sub_code in _RETRYABLE_SUB_CODES:
            raise ProviderUnavailable(message, provider=NAME)
        raise ProviderRejected(message, provider=NAME, code=sub_code or code)

    async def _verified_node(self, method: str, text: str) -> dict[str, Any]:
        node_name = method.replace(".", "_") + "_response"
        try:
            try:
                raw, others = extract_signed_node(text, node_name)
            except ValueError:
                raw, others = extract_signed_node(text, "error_response")
            node = json.loads(raw)
        except ValueError as exc:
            raise ProviderUnavailable(f"alipay answer unreadable: {exc}", provider=NAME) from exc
        if not isinstance(node, dict):
            raise ProviderUnavailable("alipay answer is not an object", provider=NAME)
        sign = others.get("sign")
        if not isinstance(sign, str) or not sign:
            # Unsigned answers come only with gateway errors (bad app id, bad signature); they
            # decide nothing, but their code helps whoever reads the log.
            raise ProviderUnavailable(
                f"alipay answered unsigned: {node.get('code')} {node.get('sub_code', '')} "
                f"{node.get('sub_msg', node.get('msg', ''))}".strip(),
                provider=NAME,
            )
        cert_sn = others.get("alipay_cert_sn")
        key = await self._alipay_key(cert_sn if isinstance(cert_sn, str) else "")
        if not verify_sha256_rsa(key, raw.encode(), sign):
            raise ProviderUnavailable("alipay answer failed signature verification", provider=NAME)
        return node

    async def _alipay_key(self, cert_sn: str) -> rsa.RSAPublicKey:
        keys = self.keys.alipay_keys
        if not self.keys.certificate_mode:
            return keys[""]
        if not cert_sn:
            raise ProviderUnavailable("alipay answer names no alipay_cert_sn", provider=NAME)
        if cert_sn not in keys:
            await self._download_alipay_cert(cert_sn)
        return keys[cert_sn]

    async def _download_alipay_cert(self, cert_sn: str) -> None:
        """Alipay rotated its certificate: fetch the new one, trust it only if it chains to
        the configured root, is valid now, has the SN asked for, and signed this answer."""
        method = "alipay.open.app.alipaycert.download"
        text = await self._post(method, {"alipay_cert_sn": cert_sn})
        try:
            raw, others = extract_signed_node(text, method.replace(".", "_") + "_response")
            node = json.loads(raw)
            content = base64.b64decode(str(node["alipay_cert_content"]), validate=True).decode()
        except (ValueError, KeyError, binascii.Error) as exc:
            raise ProviderUnavailable(
                f"alipay certificate download failed: {exc!r}", provider=NAME
            ) from exc
        chain = load_certificates(content, what="downloaded alipay certificate")
        if certificate_sn(chain[0]) != cert_sn or not chains_to(
            chain, self.keys.root_certificates, now=self._clock()
        ):
            raise ProviderUnavailable(
                f"alipay certificate {cert_sn} does not chain to the configured root",
                provider=NAME,
            )
        public_key = chain[0].public_key()
        sign = others.get("sign")
        if (
            not isinstance(public_key, rsa.RSAPublicKey)
            or not isinstance(sign, str)
            or not verify_sha256_rsa(public_key, raw.encode(), sign)
        ):
            raise ProviderUnavailable(
                "alipay certificate download failed verification", provider=NAME
            )
        self.keys.alipay_keys[cert_sn] = public_key
        log.info("alipay_certificate_rotated", alipay_cert_sn=cert_sn)

    # -- the gateway protocol

    async def create_trade(self, request: TradeRequest) -> Checkout:
        check_currency(request.currency, NAME)
        biz: dict[str, Any] = {
            "out_trade_no": request.out_trade_no,
            "total_amount": yuan_string(request.amount_fen),
            "subject": request.subject[:256],
            "product_code": _PRODUCT_CODES[request.channel],
            "time_expire": _beijing(request.expires_at),
        }
        if request.channel == "qr":
            node = await self._call("alipay.trade.precreate", biz, notify=True)
            qr_code = node.get("qr_code")
            if not isinstance(qr_code, str) or not qr_code:
                raise ProviderUnavailable("alipay precreate answered no qr_code", provider=NAME)
            return Checkout(request.out_trade_no, request.channel, qr_code_url=qr_code)
        if request.channel == "wap" and self.settings.quit_url:
            biz["quit_url"] = self.settings.quit_url
        method = "alipay.trade.page.pay" if request.channel == "page" else "alipay.trade.wap.pay"
        # Page and WAP pay make no server call: the buyer's browser carries the signed request
        # to Alipay, which creates the trade when the buyer opens it.
        params = self.signed_params(
            method,
            biz,
            notify_url=self.notify_url,
            return_url=request.return_url or self.settings.return_url,
        )
        gateway = self.settings.gateway_url
        return Checkout(
            request.out_trade_no,
            request.channel,
            redirect_url=f"{gateway}?{urlencode(params)}",
            form=PaymentForm(action=f"{gateway}?charset=utf-8", method="POST", fields=params),
        )

    async def query_trade(self, out_trade_no: str) -> TradeStatus:
        try:
            node = await self._call("alipay.trade.query", {"out_trade_no": out_trade_no})
        except ProviderRejected as exc:
            if exc.code == "ACQ.TRADE_NOT_EXIST":
                # Page/WAP trades exist once the buyer opens them; QR ones once scanned.
                return TradeStatus(out_trade_no, "not_found")
            raise
        state = _TRADE_STATES.get(str(node.get("trade_status", "")))
        if state is None:
            raise ProviderUnavailable(
                f"alipay trade_status {node.get('trade_status')!r} unknown", provider=NAME
            )
        if str(node.get("out_trade_no", out_trade_no)) != out_trade_no:
            raise ProviderUnavailable("alipay answered about another trade", provider=NAME)
        return TradeStatus(
            out_trade_no,
            state,
            transaction_id=_text(node.get("trade_no")),
            amount_fen=_fen(node.get("total_amount")),
            currency="CNY",
            paid_at=_parse_beijing(node.get("send_pay_date")),
        )

    async def close_trade(self, out_trade_no: str) -> None:
        try:
            await self._call("alipay.trade.close", {"out_trade_no": out_trade_no})
        except ProviderRejected as exc:
            if exc.code == "ACQ.TRADE_NOT_EXIST":
                return  # never opened: time_expire keeps it from being paid later
            raise

    async def refund(self, request: RefundRequest) -> RefundStatus:
        check_currency(request.currency, NAME)
        biz: dict[str, Any] = {
            "out_trade_no": request.out_trade_no,
            "refund_amount": yuan_string(request.amount_fen),
            "out_request_no": request.out_refund_no,
        }
        if request.reason:
            biz["refund_reason"] = request.reason[:256]
        try:
            node = await self._call("alipay.trade.refund", biz)
        except ProviderRejected as exc:
            return RefundStatus(request.out_refund_no, "failed", detail=str(exc))
        if node.get("fund_change") == "Y":
            return RefundStatus(
                request.out_refund_no,
                "succeeded",
                refund_id=_text(node.get("trade_no")),
                amount_fen=request.amount_fen,
            )
        # "N": this request changed no money now (a repeat, or still settling): ask.
        return await self.query_refund(
            out_trade_no=request.out_trade_no, out_refund_no=request.out_refund_no
        )

    async def query_refund(self, *, out_trade_no: str, out_refund_no: str) -> RefundStatus:
        try:
            node = await self._call(
                "alipay.trade.fastpay.refund.query",
                {
                    "out_trade_no": out_trade_no,
                    "out_request_no": out_refund_no,
                    "query_options": ["gmt_refund_pay"],
                },
            )
        except ProviderRejected as exc:
            if exc.code == "ACQ.TRADE_NOT_EXIST":
                return RefundStatus(out_refund_no, "failed", detail="trade does not exist")
            raise
        if node.get("refund_status") == "REFUND_SUCCESS":
            return RefundStatus(
                out_refund_no,
                "succeeded",
                refund_id=_text(node.get("trade_no")),
                amount_fen=_fen(node.get("refund_amount")),
            )
        if not node.get("out_request_no"):
            # Alipay has no refund under this number: the request never took effect.
            return RefundStatus(out_refund_no, "failed", detail="refund not found at alipay")
        return RefundStatus(out_refund_no, "pending", refund_id=_text(node.get("trade_no")))

    async def parse_callback(self, *, headers: Mapping[str, str], body: bytes) -> CallbackEvent:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise CallbackRejected("not a form-encoded notification", provider=NAME) from exc
        params = dict(pairs)
        if len(params) != len(pairs):
            raise CallbackRejected("a parameter appears twice", provider=NAME)
        sign = params.get("sign", "")
        if params.get("sign_type") != "RSA2" or not sign:
            raise CallbackRejected("missing or non-RSA2 signature", provider=NAME)
        content = notification_sign_content(params).encode()
        if not any(verify_sha256_rsa(key, content, sign) for key in self.keys.alipay_keys.values()):
            raise CallbackRejected("signature does not verify", provider=NAME)
        # Verified: now the fields may be read.
        if params.get("app_id") != self.keys.app_id:
            raise CallbackRejected("notification for another app_id", provider=NAME)
        if self.settings.seller_id and params.get("seller_id") != self.settings.seller_id:
            raise CallbackRejected("notification for another seller", provider=NAME)
        event_id = params.get("notify_id", "")
        out_trade_no = params.get("out_trade_no") or None
        trade_no = params.get("trade_no") or None
        try:
            amount = parse_yuan(params["total_amount"]) if params.get("total_amount") else None
        except ValueError as exc:
            raise CallbackRejected("total_amount is not an amount", provider=NAME) from exc
        if params.get("out_biz_no") and params.get("gmt_refund"):
            # A refund of this trade went through (partial: TRADE_SUCCESS, full: TRADE_CLOSED).
            return CallbackEvent(
                kind="refund",
                event_id=event_id,
                out_trade_no=out_trade_no,
                transaction_id=trade_no,
                amount_fen=amount,
                currency="CNY",
                refund=RefundStatus(params["out_biz_no"], "succeeded", refund_id=trade_no),
                raw=params,
            )
        state = _TRADE_STATES.get(params.get("trade_status", ""))
        return CallbackEvent(
            kind="payment" if state is not None else "other",
            event_id=event_id,
            out_trade_no=out_trade_no,
            transaction_id=trade_no,
            state=state,
            amount_fen=amount,
            currency="CNY",
            paid_at=_parse_beijing(params.get("gmt_payment")),
            raw=params,
        )

    def answer_callback(
        self, *, accepted: bool, message: str = "", status_code: int = 400
    ) -> CallbackAnswer:
        # Alipay reads the body: exactly "success" stops its retries, anything else retries.
        if accepted:
            return CallbackAnswer(200, "text/plain", b"success")
        return CallbackAnswer(status_code, "text/plain", b"fail")

    async def aclose(self) -> None:
        await self._client.aclose()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _fen(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_yuan(value)
    except ValueError:
        return None
