"""Settings: `config/application.yml` + `config/database.yml`, overridden by `TESSERA_*` env vars.

Precedence (highest first): explicit arguments, environment (`TESSERA_<SECTION>__<KEY>`),
the YAML files, then the embedded defaults below, which need no server at all. Keys that
moved to another section keep working under their old names (`MOVED_TO_USER`), with a
`deprecated_setting` warning in the log.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from datetime import UTC, tzinfo
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

log = structlog.get_logger("tessera.config")

Environment = Literal["development", "test", "production"]

MIN_SECRET_BYTES = 32
MIN_SECRET_DISTINCT_CHARS = 12
_PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "tessera", "please-change-me"}


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    blocks: list[str] = Field(default_factory=lambda: ["all"])
    # Requests whose direct peer is one of these may set X-Forwarded-For/Proto.
    trusted_proxies: list[str] = Field(default_factory=list)
    cors_origins: list[str] = Field(default_factory=list)
    max_json_body_bytes: int = Field(1024 * 1024, ge=1024)
    hsts_max_age_seconds: int = 63072000
    # /readyz gives each probe (database, cache, storage) this long, all probed at once, so a
    # frozen backend makes the instance unready quickly instead of hanging the probe.
    readiness_timeout_seconds: float = Field(2.0, gt=0, le=30)

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            if item != "*":
                ipaddress.ip_network(item, strict=False)
        return value


class DatabaseSettings(BaseModel):
    url: str = "sqlite+aiosqlite:///var/tessera.db"
    pool_size: int = Field(10, ge=1)
    max_overflow: int = Field(10, ge=0)
    pool_timeout_seconds: float = 30.0
    pool_recycle_seconds: int = 1800
    echo: bool = False
    # MySQL/MariaDB only; READ COMMITTED avoids gap-lock deadlocks on hot rows.
    isolation_level: str = "READ COMMITTED"
    sqlite_busy_timeout_ms: int = 30000

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


class CacheSettings(BaseModel):
    # Empty: an in-process Redis-compatible store (embedded mode, one process only).
    url: str | None = None
    # Keys are `<key_prefix>:<installation id>:...`; the installation id comes from the
    # database, so installations sharing a Redis never share keys even with one prefix.
    key_prefix: str = "tessera"
    default_ttl_seconds: int = 300
    ttl_jitter_ratio: float = Field(0.1, ge=0, le=0.5)
    # Connections per process; a command beyond them waits up to pool_timeout_seconds.
    max_connections: int = Field(256, ge=1)
    pool_timeout_seconds: float = Field(5.0, gt=0)
    connect_timeout_seconds: float = Field(2.0, gt=0)
    socket_timeout_seconds: float = Field(5.0, gt=0)
    # A pooled connection idle this long is checked (PING) before it is used again.
    health_check_interval_seconds: int = Field(5, ge=0)
    # A command that fails on a dead connection is retried on a new one this many times
    # (with a short backoff): after a Redis restart, stale pooled connections cost a
    # reconnect, never an error.
    retries: int = Field(3, ge=0, le=10)


class SecuritySettings(BaseModel):
    jwt_secret: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512", "RS256", "EdDSA"] = "HS256"
    jwt_private_key_file: Path | None = None
    jwt_public_key_file: Path | None = None
    jwt_key_id: str | None = None
    jwt_issuer: str = "tessera"
    jwt_audience: str = "tessera-api"
    access_token_ttl_seconds: int = Field(900, ge=30, le=86400)
    refresh_token_ttl_seconds: int = Field(14 * 86400, ge=300)
    # argon2id parameters (RFC 9106 second recommended option by default).
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65536, ge=1024)
    argon2_parallelism: int = Field(4, ge=1)
    user_cache_ttl_seconds: int = Field(60, ge=1)
    # How long Redis may answer "this session is active" before the database is asked again
    # (revocations are written to Redis at once; this bounds a revocation whose Redis write
    # was lost).
    session_cache_ttl_seconds: int = Field(60, ge=1, le=3600)
    # Keys (e.g. "mail.backend") whose production safety check is waived on purpose; see
    # `Settings._production_refuses_unsafe_settings` for what is checked.
    allow_unsafe_settings: list[str] = Field(default_factory=list)


class MetricsSettings(BaseModel):
    """Who may read `/metrics`: it names every route and its traffic, so not everyone."""

    enabled: bool = True
    # Scrapers connecting directly (no X-Forwarded-For / Forwarded header) from these
    # networks need no token: the host itself by default.
    allow_from: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    # A scraper elsewhere sends `Authorization: Bearer <token>`.
    token: SecretStr | None = None

    @field_validator("allow_from")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value


class RateLimitSettings(BaseModel):
    """The switch for every rate limit; the limits themselves live in their block's section."""

    enabled: bool = True


class TasksSettings(BaseModel):
    # auto: the outbox worker runs inside `tessera serve` in embedded mode only; with a
    # server database run `tessera worker` separately (or set "on").
    worker_in_process: Literal["auto", "on", "off"] = "auto"
    poll_interval_seconds: float = Field(1.0, gt=0)
    batch_size: int = Field(50, ge=1, le=1000)
    # Events delivered at once by one worker (events of one aggregate stay in order).
    concurrency: int = Field(8, ge=1, le=64)
    max_attempts: int = Field(8, ge=1)
    backoff_base_seconds: float = Field(2.0, gt=0)
    backoff_max_seconds: float = Field(600.0, gt=0)
    lease_seconds: int = Field(120, ge=5)


class AlipaySettings(BaseModel):
    """Alipay open platform (alipay.trade.*). Secrets come inline (better: from the
    environment, `TESSERA_ORDER__PAYMENTS__ALIPAY__PRIVATE_KEY`) or from `*_file` paths.

    Signature verification uses either the Alipay public key (key mode) or the three
    certificates of certificate mode (`app_cert_file`, `alipay_cert_file`,
    `alipay_root_cert_file`); set one of the two, not both.
    """

    app_id: str | None = None
    gateway_url: str = "https://openapi.alipay.com/gateway.do"
    # The application's RSA private key (PKCS#8 or PKCS#1, PEM or the bare base64 that
    # Alipay's key tool prints); requests are signed RSA2 (SHA256withRSA) with it.
    private_key: SecretStr | None = None
    private_key_file: Path | None = None
    # Key mode: the Alipay public key shown in the open platform console.
    alipay_public_key: str | None = None
    alipay_public_key_file: Path | None = None
    # Certificate mode.
    app_cert_file: Path | None = None
    alipay_cert_file: Path | None = None
    alipay_root_cert_file: Path | None = None
    # The merchant's Alipay user id (2088...); when set, notifications for another
    # seller are refused.
    seller_id: str | None = None
    # Where Alipay posts notifications; default: <callback_base_url>/api/v1/payments/alipay/callback
    notify_url: str | None = None
    # Where the buyer's browser returns after page and WAP pay.
    return_url: str | None = None
    quit_url: str | None = None
    timeout_seconds: float = Field(10.0, gt=0)


class WechatPaySettings(BaseModel):
    """WeChat Pay API v3 (direct merchant). Secrets inline (better: environment) or `*_file`.

    Callbacks and answers are verified against the platform certificates, downloaded from
    `/v3/certificates`, cached and refreshed; or, for merchants moved to it, against the
    WeChat Pay public key (`platform_public_key_file` + `platform_public_key_id`).
    """

    mch_id: str | None = None
    app_id: str | None = None
    # The merchant API private key (apiclient_key.pem) and its certificate's serial number.
    private_key: SecretStr | None = None
    private_key_file: Path | None = None
    merchant_serial_no: str | None = None
    # The API v3 key (32 bytes) set in the merchant platform.
    api_v3_key: SecretStr | None = None
    api_v3_key_file: Path | None = None
    platform_public_key_file: Path | None = None
    platform_public_key_id: str | None = None
    base_url: str = "https://api.mch.weixin.qq.com"
    # Default: <callback_base_url>/api/v1/payments/wechatpay/callback (refunds use the same).
    notify_url: str | None = None
    certificate_refresh_seconds: int = Field(12 * 3600, ge=60)
    # A callback signed by an unknown serial triggers a download at most this often.
    certificate_min_refresh_seconds: int = Field(60, ge=1)
    h5_type: Literal["Wap", "iOS", "Android"] = "Wap"
    timeout_seconds: float = Field(10.0, gt=0)


class PaymentSettings(BaseModel):
    # Public base URL the providers call back (https://shop.example.com); each provider's
    # notify URL defaults to it + /api/v1/payments/<provider>/callback.
    callback_base_url: str | None = None
    alipay: AlipaySettings = Field(default_factory=AlipaySettings)
    wechatpay: WechatPaySettings = Field(default_factory=WechatPaySettings)
    # The reconciliation job: queries started trades whose callback has not come, closes
    # trades of orders that expired or were cancelled, refunds payments that came too late.
    reconcile_interval_seconds: float = Field(60.0, gt=0)
    # A trade younger than this is left to its callback.
    reconcile_grace_seconds: int = Field(60, ge=0)
    reconcile_batch_size: int = Field(50, ge=1, le=1000)
    # Expiry asks the provider about an order's open trade before cancelling it; when the
    # provider cannot be asked, it waits this long past the deadline, then cancels anyway
    # (stock must not stay reserved for ever; a payment arriving later is refunded).
    expiry_provider_patience_seconds: int = Field(3600, ge=0)


class OrderSettings(BaseModel):
    default_currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    # Unpaid orders are cancelled (stock restored) after this long.
    payment_timeout_seconds: int = Field(1800, ge=10)
    expire_check_interval_seconds: float = Field(30.0, gt=0)
    # Methods accepted by POST /orders/{id}/pay. `sandbox` pays at once: demos and tests only.
    payment_methods: list[str] = Field(default_factory=lambda: ["sandbox"])
    # HMAC-SHA256 secrets of payment providers' webhooks, by provider name.
    payment_webhook_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    # Alipay and WeChat Pay (methods `alipay.page`, `alipay.wap`, `alipay.qr`,
    # `wechatpay.native`, `wechatpay.jsapi`, `wechatpay.h5` in payment_methods).
    payments: PaymentSettings = Field(default_factory=PaymentSettings)
    product_cache_ttl_seconds: int = Field(300, ge=1)
    order_cache_ttl_seconds: int = Field(120, ge=1)


class FastDFSSettings(BaseModel):
    trackers: list[str] = Field(default_factory=lambda: ["127.0.0.1:22122"])
    group: str | None = None
    connect_timeout_seconds: float = 5.0
    network_timeout_seconds: float = 30.0
    pool_size: int = Field(10, ge=1)


class S3Settings(BaseModel):
    bucket: str = "tessera"
    endpoint_url: str | None = None  # e.g. http://127.0.0.1:9000 for MinIO
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    multipart_threshold_bytes: int = Field(8 * 1024 * 1024, ge=5 * 1024 * 1024)
    part_size_bytes: int = Field(8 * 1024 * 1024, ge=5 * 1024 * 1024)
    connect_timeout_seconds: float = Field(5.0, gt=0)
    read_timeout_seconds: float = Field(60.0, gt=0)


DEFAULT_ALLOWED_TYPES = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/zip",
    "text/plain",
]


class StorageSettings(BaseModel):
    backend: Literal["local", "fastdfs", "s3"] = "local"
    # Empty: `<var_dir>/files`, next to the embedded database.
    local_root: Path | None = None
    fastdfs: FastDFSSettings = Field(default_factory=FastDFSSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1)
    max_avatar_bytes: int = Field(2 * 1024 * 1024, ge=1)
    # Types recognised by content sniffing (never the client's header or extension).
    allowed_types: list[str] = Field(default_factory=lambda: list(DEFAULT_ALLOWED_TYPES))
    # Decoded avatars larger than this many pixels are refused (decompression bombs).
    max_avatar_pixels: int = Field(4096 * 4096, ge=64 * 64)
    # FastDFS uploads of unknown size are sent in parts of this size (held in memory).
    fastdfs_part_size_bytes: int = Field(8 * 1024 * 1024, ge=64 * 1024)
    # `tessera files sweep` treats unfinished uploads older than this as crashed.
    sweep_grace_seconds: int = Field(3600, ge=0)


class MailSettings(BaseModel):
    backend: Literal["file", "console", "smtp"] = "file"
    from_address: str = "Tessera <no-reply@localhost>"
    file_dir: Path = Path("var/outbox-mail")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_implicit_tls: bool = False
    smtp_timeout_seconds: float = 15.0
    # Extra CA bundle to trust (a private relay's certificate); None = the system store.
    smtp_ca_file: Path | None = None
    # Base URL of the front end, used in links (verification, password reset).
    public_base_url: str = "http://127.0.0.1:8000"


class SmsSettings(BaseModel):
    backend: Literal["file", "console", "aliyun", "tencent"] = "file"
    file_path: Path = Path("var/outbox-sms.log")
    sign_name: str = "Tessera"
    # message type (e.g. "verification_code", "order_shipped") -> provider template id
    templates: dict[str, str] = Field(default_factory=dict)
    aliyun_access_key_id: str | None = None
    aliyun_access_key_secret: SecretStr | None = None
    aliyun_endpoint: str = "https://dysmsapi.aliyuncs.com"
    tencent_secret_id: str | None = None
    tencent_secret_key: SecretStr | None = None
    tencent_sdk_app_id: str | None = None
    tencent_region: str = "ap-guangzhou"
    tencent_endpoint: str = "https://sms.tencentcloudapi.com"
    timeout_seconds: float = 10.0
    # Aliyun's RegionId; dysms is served from cn-hangzhou for every account.
    aliyun_region: str = "cn-hangzhou"
    # Region used to read numbers written without a country code ("138..." -> +86 138...).
    default_region: str = "CN"


class UserSettings(BaseModel):
    """Identity (the user block): every limit and lifetime of sign-in, registration, one-time
    codes, email verification, password reset and two-factor sign-in."""

    # Sign-in lock-out (README "Sign-in lock-out" has the reasons). Per account: a few
    # tries, then a lock that doubles with each lock-out within a day.
    login_failures_per_account: int = Field(5, ge=1)
    login_lockout_base_seconds: int = Field(60, ge=1)
    login_lockout_max_seconds: int = Field(3600, ge=1)
    # Per address: many people may share one (office NAT, mobile carrier): a much higher
    # budget, still a hard cap on passwords one address can try per window.
    login_failures_per_ip: int = Field(100, ge=1)
    login_window_seconds: int = Field(900, ge=1)
    register_per_ip: int = Field(30, ge=1)
    register_window_seconds: int = Field(3600, ge=1)
    # Registration says when an email is taken (sign-in works at once, so hiding it would
    # only move the answer to the sign-in); an address gets this many such answers per
    # register window, which makes probing for registered emails slow.
    register_conflicts_per_ip: int = Field(5, ge=1)
    # SMS codes: lifetime, wrong tries per code, sends per number and per IP, checks per IP.
    code_ttl_seconds: int = Field(300, ge=1)
    code_max_attempts: int = Field(5, ge=1)
    sms_per_phone_interval_seconds: int = Field(60, ge=1)
    sms_per_phone_per_day: int = Field(10, ge=1)
    sms_per_ip_per_hour: int = Field(30, ge=1)
    code_checks_per_ip: int = Field(60, ge=1)
    code_check_window_seconds: int = Field(900, ge=1)
    # Email verification links.
    email_verify_ttl_seconds: int = Field(3 * 86400, ge=1)
    email_resend_interval_seconds: int = Field(60, ge=1)
    email_resend_per_day: int = Field(10, ge=1)
    # Password reset (links and SMS codes).
    password_reset_ttl_seconds: int = Field(1800, ge=1)
    password_reset_per_ip_per_hour: int = Field(30, ge=1)
    password_reset_per_email_per_hour: int = Field(5, ge=1)
    # Two-factor sign-in: the mfa_token's lifetime and tries, tries per user across tokens
    # (default 4 x mfa_max_attempts), and tries at confirming or turning off an authenticator.
    mfa_token_ttl_seconds: int = Field(300, ge=1)
    mfa_max_attempts: int = Field(5, ge=1)
    mfa_attempts_per_user_per_hour: int = Field(20, ge=1)
    mfa_setup_attempts: int = Field(10, ge=1)
    mfa_setup_window_seconds: int = Field(900, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _per_user_mfa_budget_follows_per_token(cls, data: Any) -> Any:
        if isinstance(data, dict) and "mfa_attempts_per_user_per_hour" not in data:
            per_token = data.get("mfa_max_attempts")
            if per_token is not None:
                data = {**data, "mfa_attempts_per_user_per_hour": 4 * int(per_token)}
        return data


class NotifySettings(BaseModel):
    """Delivery of mail and SMS (the notify block)."""

    # Locale of messages to users whose locale has no templates, and to unknown recipients.
    default_locale: str = "en"


class ReportSettings(BaseModel):
    """Excel and PDF documents (the report block)."""

    # tessera: our streaming SpreadsheetML writer; xlsxwriter: XlsxWriter constant_memory.
    xlsx_engine: Literal["tessera", "xlsxwriter"] = "tessera"
    # Dates in sheets and documents are shown in this zone (Excel dates carry none).
    timezone: str = "UTC"
    # Direct downloads (GET .../export.xlsx) above this many rows are refused: use a job.
    direct_export_max_rows: int = Field(10_000, ge=1, le=1_048_575)
    # Rows read from the database per keyset page (and handed to the writer per batch).
    batch_rows: int = Field(2000, ge=100, le=50_000)
    # Job files (exports, annotated imports) are deleted this long after they were made.
    file_ttl_days: float = Field(7, gt=0)
    expire_check_interval_seconds: float = Field(3600.0, gt=0)
    job_poll_interval_seconds: float = Field(5.0, gt=0)
    # A running job renews its lease while it works; a job whose lease ran out (its worker
    # died) is started again from the beginning, at most job_max_attempts times.
    job_lease_seconds: int = Field(120, ge=5)
    job_max_attempts: int = Field(3, ge=1)
    max_concurrent_jobs: int = Field(1, ge=1, le=16)
    # Imports: the upload, what it may inflate to, and the sheet's size.
    import_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    import_max_uncompressed_bytes: int = Field(200 * 1024 * 1024, ge=1024 * 1024)
    import_max_compression_ratio: float = Field(100.0, ge=2)
    import_max_rows: int = Field(100_000, ge=1)
    import_max_columns: int = Field(50, ge=1, le=16_384)
    # Uploads up to this size are imported in the request; larger ones run as a job.
    import_inline_max_bytes: int = Field(512 * 1024, ge=0)
    # Invoices: who sells, and the tax contained in prices (0.13 = 13% VAT included).
    seller_name: str = "Tessera"
    seller_lines: list[str] = Field(default_factory=list)
    invoice_tax_rate: Decimal = Field(Decimal("0"), ge=0, le=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)  # raises for an unknown zone name
        return value

    @property
    def zone(self) -> tzinfo:
        from zoneinfo import ZoneInfo

        return UTC if self.timezone in ("UTC", "Etc/UTC") else ZoneInfo(self.timezone)


# Keys that moved to `user:`; old configurations keep working, with a warning at load time.
MOVED_TO_USER: dict[str, tuple[str, ...]] = {
    "ratelimit": (
        "login_failures_per_account",
        "login_failures_per_ip",
        "login_window_seconds",
        "register_per_ip",
        "register_window_seconds",
    ),
    "notify": (
        "code_ttl_seconds",
        "code_max_attempts",
        "sms_per_phone_interval_seconds",
        "sms_per_phone_per_day",
        "sms_per_ip_per_hour",
        "email_verify_ttl_seconds",
        "email_resend_interval_seconds",
        "password_reset_ttl_seconds",
        "password_reset_per_ip_per_hour",
        "mfa_token_ttl_seconds",
        "mfa_max_attempts",
    ),
}


def _move_deprecated_keys(data: dict[str, Any]) -> dict[str, Any]:
    """Map `ratelimit.login_*`, `notify.code_*`, ... onto `user.*`; a key given under `user:`
    wins over its old name."""
    moved: dict[str, Any] = {}
    data = dict(data)
    for section, keys in MOVED_TO_USER.items():
        old = data.get(section)
        if not isinstance(old, dict):
            continue
        old = dict(old)
        for key in keys:
            if key in old:
                moved[key] = old.pop(key)
                log.warning(
                    "deprecated_setting",
                    old=f"{section}.{key}",
                    new=f"user.{key}",
                    hint=f"move {section}.{key} to user.{key} (or TESSERA_USER__{key.upper()})",
                )
        data[section] = old
    if not moved:
        return data
    current = data.get("user")
    if isinstance(current, UserSettings):
        explicit = current.model_dump(include=current.model_fields_set)
        data["user"] = UserSettings.model_validate({**moved, **explicit})
    else:
        data["user"] = {**moved, **(current if isinstance(current, dict) else {})}
    return data


class RealtimeSettings(BaseModel):
    """The WebSocket gateway, channel history and chat (the realtime block)."""

    # Transport. Compression costs 40-100 KB per connection, so it is off unless asked for.
    per_message_deflate: bool = False
    # Inbound frames above this close the socket with 1009.
    max_message_bytes: int = Field(64 * 1024, ge=256, le=16 * 1024 * 1024)
    # A socket opened without a ticket must send {"type":"auth"} within this many seconds.
    auth_timeout_seconds: float = Field(5.0, gt=0)
    # The server pings after this much quiet; a client silent for idle_timeout is closed (4408).
    heartbeat_interval_seconds: float = Field(25.0, gt=0)
    idle_timeout_seconds: float = Field(60.0, gt=0)
    # {"type":"reauth"} is sent this long before the access token expires; without a fresh
    # token the socket is closed with 4401 when it does.
    reauth_ahead_seconds: float = Field(60.0, ge=0)
    ticket_ttl_seconds: int = Field(30, ge=1, le=300)
    # Limits (each has its own close code or error, and a metric).
    max_connections: int = Field(20000, ge=1)  # per process; more are closed with 1013
    max_connections_per_user: int = Field(20, ge=1)  # across instances; 4409
    max_subscriptions: int = Field(200, ge=1)  # per connection
    max_inbound_per_second: int = Field(20, ge=1)  # per connection; 4429
    max_bad_messages: int = Field(5, ge=1)  # malformed or unknown frames before 4400
    max_queued_messages: int = Field(1000, ge=1)  # outbound, per connection; 4008
    max_queued_bytes: int = Field(1024 * 1024, ge=1024)
    close_timeout_seconds: float = Field(5.0, gt=0)
    # Channel history (Redis Streams, or memory in embedded mode): what a reconnecting client
    # can recover. Older or trimmed messages make it reload over REST (recovered: false).
    history_size: int = Field(200, ge=1, le=100_000)
    history_ttl_seconds: int = Field(1800, ge=1)
    # A channel's epoch and last offset outlive its history, so a client that missed nothing
    # after a long quiet resumes without a reload.
    channel_meta_ttl_seconds: int = Field(7 * 86400, ge=60)
    # Presence entries are refreshed every third of this; a dead instance's users drop out
    # after at most this long.
    presence_ttl_seconds: int = Field(60, ge=3)
    # Revocations are pushed (within a second); this sweep re-checks every socket in case a
    # push was lost while Redis was unreachable.
    revocation_sweep_interval_seconds: float = Field(30.0, gt=0)
    # Chat.
    chat_message_max_chars: int = Field(2000, ge=1, le=20000)
    chat_messages_per_minute: int = Field(30, ge=1)  # per user, REST and socket together
    chat_room_max_members: int = Field(500, ge=2)


class LoggingSettings(BaseModel):
    level: str = "INFO"
    format: Literal["auto", "json", "console"] = "auto"
    access_log: bool = True


def _config_dir() -> Path:
    return Path(os.environ.get("TESSERA_CONFIG_DIR", "config"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TESSERA_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    env: Environment = "development"
    var_dir: Path = Path("var")
    server: ServerSettings = Field(default_factory=ServerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    ratelimit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    tasks: TasksSettings = Field(default_factory=TasksSettings)
    order: OrderSettings = Field(default_factory=OrderSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    user: UserSettings = Field(default_factory=UserSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    realtime: RealtimeSettings = Field(default_factory=RealtimeSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        directory = _config_dir()
        yaml_files = [
            path
            for path in (directory / "application.yml", directory / "database.yml")
            if path.is_file()
        ]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_files:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_files))
        return tuple(sources)

    @model_validator(mode="before")
    @classmethod
    def _deprecated_keys(cls, data: Any) -> Any:
        return _move_deprecated_keys(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _production_needs_real_secret(self) -> Settings:
        if self.env != "production":
            return self
        if self.security.jwt_algorithm.startswith("HS"):
            secret = self.security.jwt_secret
            value = secret.get_secret_value() if secret else ""
            if (
                len(value.encode()) < MIN_SECRET_BYTES
                or len(set(value)) < MIN_SECRET_DISTINCT_CHARS
                or any(word in value.lower() for word in _PLACEHOLDER_SECRETS)
            ):
                raise ValueError(
                    "TESSERA_ENV=production needs security.jwt_secret "
                    f"(TESSERA_SECURITY__JWT_SECRET) of at least {MIN_SECRET_BYTES} random "
                    "bytes; generate one with: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'"
                )
        elif not self.security.jwt_private_key_file or not self.security.jwt_public_key_file:
            raise ValueError(
                f"jwt_algorithm {self.security.jwt_algorithm} needs "
                "security.jwt_private_key_file and security.jwt_public_key_file"
            )
        return self

    @model_validator(mode="after")
    def _payment_providers_complete(self) -> Settings:
        problems = payment_configuration_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _production_refuses_unsafe_settings(self) -> Settings:
        """Production refuses settings that leak secrets or make them guessable, naming each
        key, unless that key is listed in `security.allow_unsafe_settings`."""
        if self.env != "production":
            return self
        problems = [
            (key, reason)
            for key, reason in _unsafe_settings(self)
            if key not in self.security.allow_unsafe_settings
        ]
        if problems:
            lines = [f"{key} ({_env_name(key)}): {reason}" for key, reason in problems]
            raise ValueError(
                "TESSERA_ENV=production refuses unsafe settings:\n  "
                + "\n  ".join(lines)
                + "\nFix them, or accept the risk by listing the key in "
                "security.allow_unsafe_settings (TESSERA_SECURITY__ALLOW_UNSAFE_SETTINGS='"
                + json.dumps([key for key, _ in problems])
                + "')."
            )
        return self

    @property
    def embedded(self) -> bool:
        """True when some state lives inside this process (SQLite or in-process cache)."""
        return self.database.is_sqlite or not self.cache.url

    @cached_property
    def jwt_signing_secret(self) -> str:
        """The HMAC secret; in development one is generated once into `var/`."""
        if self.security.jwt_secret is not None:
            return self.security.jwt_secret.get_secret_value()
        path = self.var_dir / "jwt-secret"
        if not path.is_file():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            # Write a complete file under a temporary name, then link it into place: a crash
            # never leaves an empty secret, and of two first starts one wins, both agree.
            temporary = self.var_dir / f".jwt-secret.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
            finally:
                temporary.unlink()
        value = path.read_text().strip()
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"{path} holds a short or empty JWT secret; delete it to generate a new one "
                "(every issued token becomes invalid) or set TESSERA_SECURITY__JWT_SECRET"
            )
        return value


_PLACEHOLDER_WORDS = (
    *_PLACEHOLDER_SECRETS,
    "change_me",
    "password",
    "placeholder",
    "example",
    "replace",
    "todo",
    "xxx",
    "...",
    "your-",
    "your_",
)
# Secrets we generate ourselves (HMAC keys) must be long; credentials a provider issues are
# held to what providers issue (an AWS secret key is 40 characters).
MIN_ISSUED_SECRET_CHARS = 16
MIN_PASSWORD_CHARS = 12


def _env_name(key: str) -> str:
    return "TESSERA_" + key.upper().replace(".", "__")


def _weak(value: str, *, min_length: int, min_distinct: int = 6) -> str | None:
    """Why a secret is unacceptable in production, or None."""
    lowered = value.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return "a placeholder value"
    if len(value.encode()) < min_length:
        return f"shorter than {min_length} bytes"
    if len(set(value)) < min_distinct:
        return "too few distinct characters to be random"
    return None


def _unsafe_settings(settings: Settings) -> list[tuple[str, str]]:
    """(key, reason) for every production setting that would leak or weaken a secret."""
    found: list[tuple[str, str]] = []
    if settings.mail.backend in ("file", "console"):
        found.append(
            (
                "mail.backend",
                f"{settings.mail.backend!r} writes verification and password-reset links "
                "to disk or the log; use smtp",
            )
        )
    if settings.sms.backend in ("file", "console"):
        found.append(
            (
                "sms.backend",
                f"{settings.sms.backend!r} writes sign-in codes to disk or the log; "
                "use aliyun or tencent",
            )
        )

    def check(key: str, secret: SecretStr | None, *, min_length: int) -> None:
        if secret is None:
            return
        reason = _weak(secret.get_secret_value(), min_length=min_length)
        if reason is not None:
            found.append((key, f"the secret is {reason}"))

    for provider, secret in settings.order.payment_webhook_secrets.items():
        check(
            f"order.payment_webhook_secrets.{provider}",
            secret,
            min_length=MIN_SECRET_BYTES,
        )
    if settings.storage.backend == "s3":
        check(
            "storage.s3.secret_access_key",
            settings.storage.s3.secret_access_key,
            min_length=MIN_ISSUED_SECRET_CHARS,
        )
    if settings.mail.backend == "smtp":
        check("mail.smtp_password", settings.mail.smtp_password, min_length=MIN_PASSWORD_CHARS)
        if (
            settings.mail.smtp_password is not None
            and not settings.mail.smtp_starttls
            and not settings.mail.smtp_implicit_tls
        ):
            found.append(("mail.smtp_starttls", "the SMTP password would be sent in clear text"))
    if settings.sms.backend == "aliyun":
        check(
            "sms.aliyun_access_key_secret",
            settings.sms.aliyun_access_key_secret,
            min_length=MIN_ISSUED_SECRET_CHARS,
        )
    if settings.sms.backend == "tencent":
        check(
            "sms.tencent_secret_key",
            settings.sms.tencent_secret_key,
            min_length=MIN_ISSUED_SECRET_CHARS,
        )
    check("metrics.token", settings.metrics.token, min_length=MIN_SECRET_BYTES)
    return found


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


PAYMENT_PROVIDERS = ("alipay", "wechatpay")


def _missing(path: str, *alternatives: str) -> str:
    names = " or ".join(f"{name} ({_env_name(name)})" for name in (path, *alternatives))
    return f"{names} is missing"


def _alipay_problems(alipay: AlipaySettings) -> list[str]:
    prefix = "order.payments.alipay."
    problems = []
    if not alipay.app_id:
        problems.append(_missing(prefix + "app_id"))
    if alipay.private_key is None and alipay.private_key_file is None:
        problems.append(_missing(prefix + "private_key", prefix + "private_key_file"))
    key_mode = alipay.alipay_public_key is not None or alipay.alipay_public_key_file is not None
    cert_files = {
        "app_cert_file": alipay.app_cert_file,
        "alipay_cert_file": alipay.alipay_cert_file,
        "alipay_root_cert_file": alipay.alipay_root_cert_file,
    }
    cert_mode = any(value is not None for value in cert_files.values())
    if key_mode and cert_mode:
        problems.append(
            "order.payments.alipay: set either alipay_public_key(_file) (key mode) or the "
            "three certificate files (certificate mode), not both"
        )
    elif cert_mode:
        problems += [_missing(prefix + name) for name, value in cert_files.items() if value is None]
    elif not key_mode:
        problems.append(
            _missing(prefix + "alipay_public_key", prefix + "alipay_public_key_file")
            + " (or the certificate files of certificate mode)"
        )
    return problems


def _wechatpay_problems(wechatpay: WechatPaySettings) -> list[str]:
    prefix = "order.payments.wechatpay."
    problems = [
        _missing(prefix + name)
        for name in ("mch_id", "app_id", "merchant_serial_no")
        if not getattr(wechatpay, name)
    ]
    if wechatpay.private_key is None and wechatpay.private_key_file is None:
        problems.append(_missing(prefix + "private_key", prefix + "private_key_file"))
    if wechatpay.api_v3_key is None and wechatpay.api_v3_key_file is None:
        problems.append(_missing(prefix + "api_v3_key", prefix + "api_v3_key_file"))
    if (wechatpay.platform_public_key_file is None) != (wechatpay.platform_public_key_id is None):
        problems.append(
            "order.payments.wechatpay.platform_public_key_file and platform_public_key_id "
            "go together"
        )
    return problems


PAYMENT_METHODS = {
    "alipay": ("alipay.page", "alipay.wap", "alipay.qr"),
    "wechatpay": ("wechatpay.native", "wechatpay.jsapi", "wechatpay.h5"),
}
_CREDENTIAL_KEYS = {
    "alipay": {
        "app_id",
        "private_key",
        "private_key_file",
        "alipay_public_key",
        "alipay_public_key_file",
        "app_cert_file",
        "alipay_cert_file",
        "alipay_root_cert_file",
    },
    "wechatpay": {
        "mch_id",
        "app_id",
        "private_key",
        "private_key_file",
        "merchant_serial_no",
        "api_v3_key",
        "api_v3_key_file",
        "platform_public_key_file",
        "platform_public_key_id",
    },
}


def _provider_touched(provider: str, section: BaseModel) -> bool:
    """True when any credential of a provider section was set (file, environment)."""
    return bool(section.model_fields_set & _CREDENTIAL_KEYS[provider])


def payment_configuration_problems(settings: Settings) -> list[str]:
    """What stops the configured payment providers from working, one message per key.

    A provider whose methods are listed in `order.payment_methods` must be complete in
    every environment; in production, a provider with only some keys set is refused too
    (a half-configured provider is a deployment mistake, not a choice).
    """
    order = settings.order
    payments = order.payments
    problems: list[str] = []
    known = {method for methods in PAYMENT_METHODS.values() for method in methods}
    problems += [
        f"order.payment_methods: unknown method {method!r} (known: {', '.join(sorted(known))})"
        for method in order.payment_methods
        if "." in method and method not in known
    ]
    for provider in PAYMENT_PROVIDERS:
        section: AlipaySettings | WechatPaySettings = getattr(payments, provider)
        listed = any(method in PAYMENT_METHODS[provider] for method in order.payment_methods)
        touched = _provider_touched(provider, section)
        if not listed and not (settings.env == "production" and touched):
            continue
        found = (
            _alipay_problems(payments.alipay)
            if provider == "alipay"
            else _wechatpay_problems(payments.wechatpay)
        )
        if listed and not (section.notify_url or payments.callback_base_url):
            found.append(
                _missing(
                    f"order.payments.{provider}.notify_url", "order.payments.callback_base_url"
                )
            )
        problems += found
    return problems
