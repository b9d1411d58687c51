"""One-time secrets kept in Redis: numeric codes (SMS) and link tokens (mail), shared by blocks.

Codes are stored only as HMAC-SHA256 under a server key (a bare SHA-256 of six digits could be
reversed by trying all million), with a TTL and a count of wrong tries; a code is single use:
the one caller whose `DEL` removes it wins, so two concurrent correct submissions cannot both
pass. Tokens are random (256 bits) and stored under their SHA-256; consuming is an atomic
GETDEL, so each works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cryptography.fernet import Fernet, InvalidToken

from tessera.lib.cache import KeySpace, Redis
from tessera.lib.config import Settings

if TYPE_CHECKING:
    from tessera.lib.runtime import Runtime

CheckResult = Literal["ok", "wrong", "missing", "exhausted"]


@dataclass(frozen=True, slots=True)
class CodeCheck:
    result: CheckResult

    @property
    def ok(self) -> bool:
        return self.result == "ok"


class OneTimeCodes:
    def __init__(self, redis: Redis, *, keys: KeySpace, key: str) -> None:
        self.redis = redis
        self.keys = keys
        self._key = hashlib.sha256(("otp:" + key).encode()).digest()

    def _code_key(self, purpose: str, subject: str) -> str:
        return f"{self.keys.prefix}:otp:code:{purpose}:{subject}"

    def _digest(self, purpose: str, subject: str, code: str) -> str:
        message = f"{purpose}\x00{subject}\x00{code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    async def issue_code(
        self, purpose: str, subject: str, *, ttl_seconds: int, digits: int = 6
    ) -> str:
        """A fresh code for (purpose, subject); it replaces any earlier one."""
        code = f"{secrets.randbelow(10**digits):0{digits}d}"
        key = self._code_key(purpose, subject)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping={"h": self._digest(purpose, subject, code), "n": 0})
            pipe.expire(key, ttl_seconds)
            await pipe.execute()
        return code

    async def check_code(
        self, purpose: str, subject: str, code: str, *, max_attempts: int
    ) -> CodeCheck:
        """Consume the code if it matches; count a wrong try otherwise (gone after the last)."""
        key = self._code_key(purpose, subject)
        stored = await self.redis.hget(key, "h")
        if stored is None:
            return CodeCheck("missing")
        tries = int(await self.redis.hincrby(key, "n", 1))
        if tries > max_attempts:
            await self.redis.delete(key)
            return CodeCheck("exhausted")
        expected = stored.decode() if isinstance(stored, bytes) else str(stored)
        if not hmac.compare_digest(expected, self._digest(purpose, subject, code)):
            if tries >= max_attempts:
                await self.redis.delete(key)
            return CodeCheck("wrong")
        # Only the request that actually deletes the code may use it.
        return CodeCheck("ok" if int(await self.redis.delete(key)) == 1 else "missing")

    # --- link tokens ----------------------------------------------------------------------

    def _token_key(self, purpose: str, token: str) -> str:
        return (
            f"{self.keys.prefix}:otp:token:{purpose}:{hashlib.sha256(token.encode()).hexdigest()}"
        )

    async def issue_token(self, purpose: str, data: dict[str, Any], *, ttl_seconds: int) -> str:
        token = secrets.token_urlsafe(32)
        await self.redis.set(
            self._token_key(purpose, token), json.dumps(data, separators=(",", ":")), ex=ttl_seconds
        )
        return token

    async def consume_token(self, purpose: str, token: str) -> dict[str, Any] | None:
        raw = await self.redis.getdel(self._token_key(purpose, token))
        if raw is None:
            return None
        value: dict[str, Any] = json.loads(raw)
        return value

    async def peek_token(self, purpose: str, token: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self._token_key(purpose, token))
        if raw is None:
            return None
        value: dict[str, Any] = json.loads(raw)
        return value

    # --- replay guard ---------------------------------------------------------------------

    async def first_use(self, scope: str, value: str, *, ttl_seconds: int) -> bool:
        """True the first time `value` is seen in `scope` within the TTL (TOTP replay guard)."""
        return bool(
            await self.redis.set(
                f"{self.keys.prefix}:otp:used:{scope}:{value}", b"1", nx=True, ex=ttl_seconds
            )
        )


def server_key(settings: Settings) -> str:
    """A per-installation secret for keyed hashes and sealing (never logged)."""
    key_file = settings.security.jwt_private_key_file
    if not settings.security.jwt_algorithm.startswith("HS") and key_file is not None:
        return hashlib.sha256(Path(key_file).read_bytes()).hexdigest()
    return str(settings.jwt_signing_secret)


def _sealer(runtime: Runtime, purpose: str) -> Fernet:
    cached = runtime.sealers.get(purpose)
    if cached is None:
        digest = hashlib.sha256(f"{purpose}:{server_key(runtime.settings)}".encode()).digest()
        cached = runtime.sealers[purpose] = Fernet(base64.urlsafe_b64encode(digest))
    return cached


def seal(runtime: Runtime, purpose: str, plaintext: str) -> str:
    """Encrypt a secret that must be stored (TOTP seeds, codes queued for delivery) under a
    key derived from the server secret and `purpose`."""
    return _sealer(runtime, purpose).encrypt(plaintext.encode()).decode()


def unseal(runtime: Runtime, purpose: str, token: str) -> str:
    """The plaintext of `seal`; ValueError when the server secret changed since sealing."""
    try:
        return _sealer(runtime, purpose).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(f"sealed {purpose} secret cannot be opened (server key changed)") from exc


def one_time_codes(runtime: Runtime) -> OneTimeCodes:
    """The runtime's code store, keyed by the server's signing secret (made on first use)."""
    if runtime.codes is None:
        runtime.codes = OneTimeCodes(
            runtime.redis,
            keys=runtime.keys,
            key=server_key(runtime.settings),
        )
    return runtime.codes
