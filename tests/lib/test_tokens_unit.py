"""Access-token verification (DESIGN.md section 5): the algorithm is pinned, every claim is
checked, and each way a token can be wrong has its own stable error code. Unit tests, no DB."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from tessera.lib.config import Settings
from tessera.lib.errors import Unauthorized
from tessera.lib.security import TokenService, new_refresh_token

SECRET = "unit-test-secret-" + "k" * 48  # >= 64 bytes, enough for HS512 too


@pytest.fixture
def tokens(tmp_path: Path) -> TokenService:
    settings = Settings(env="test", var_dir=tmp_path, security={"jwt_secret": SECRET})
    return TokenService(settings)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": "42",
        "jti": "jti-1",
        "iat": now,
        "exp": now + 600,
        "iss": "tessera",
        "aud": "tessera-api",
        "typ": "access",
        "sid": "session-1",
        "roles": ["customer"],
    }
    values.update(overrides)
    return values


def sign(payload: dict[str, Any], *, key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(payload: dict[str, Any]) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = b64url(json.dumps(payload).encode())
    return f"{header}.{body}."


def rejection_code(tokens: TokenService, token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        tokens.decode_access(token)
    assert caught.value.status == 401
    assert caught.value.headers["WWW-Authenticate"] == "Bearer"
    return caught.value.code


def test_issued_access_token_round_trips(tokens: TokenService):
    issued = tokens.issue_access(user_id=7, session_id="s-7", roles=["admin", "staff"])
    decoded = tokens.decode_access(issued.token)
    assert decoded.user_id == 7
    assert decoded.session_id == "s-7"
    assert decoded.jti == issued.jti
    assert decoded.roles == ("admin", "staff")
    assert decoded.expires_at == issued.expires_at.replace(microsecond=0)
    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "HS256"
    payload = jwt.decode(issued.token, options={"verify_signature": False})
    assert {"sub", "jti", "iat", "exp", "iss", "aud", "typ"} <= set(payload)
    assert payload["typ"] == "access"
    assert payload["exp"] - payload["iat"] == 900


def test_hand_made_valid_token_is_accepted(tokens: TokenService):
    assert tokens.decode_access(sign(claims())).user_id == 42


def test_expired_token_is_token_expired(tokens: TokenService):
    now = int(time.time())
    token = sign(claims(iat=now - 1000, exp=now - 10))
    assert rejection_code(tokens, token) == "auth.token_expired"


def test_tampered_signature_is_invalid_signature(tokens: TokenService):
    token = sign(claims())
    head, body, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert rejection_code(tokens, f"{head}.{body}.{flipped}") == "auth.invalid_signature"


def test_tampered_payload_is_invalid_signature(tokens: TokenService):
    head, _, signature = sign(claims()).split(".")
    forged = b64url(json.dumps(claims(sub="1", roles=["admin"])).encode())
    assert rejection_code(tokens, f"{head}.{forged}.{signature}") == "auth.invalid_signature"


def test_token_signed_with_another_secret_is_invalid_signature(tokens: TokenService):
    token = sign(claims(), key="another-secret-" + "z" * 40)
    assert rejection_code(tokens, token) == "auth.invalid_signature"


def test_alg_none_token_is_algorithm_not_allowed(tokens: TokenService):
    assert rejection_code(tokens, unsigned_token(claims())) == "auth.algorithm_not_allowed"


def test_hs512_token_when_hs256_is_configured_is_algorithm_not_allowed(tokens: TokenService):
    token = sign(claims(), algorithm="HS512")
    assert rejection_code(tokens, token) == "auth.algorithm_not_allowed"


def test_wrong_audience_is_invalid_token(tokens: TokenService):
    assert rejection_code(tokens, sign(claims(aud="someone-else"))) == "auth.invalid_token"


def test_wrong_issuer_is_invalid_token(tokens: TokenService):
    assert rejection_code(tokens, sign(claims(iss="evil-issuer"))) == "auth.invalid_token"


@pytest.mark.parametrize("claim", ["sub", "jti", "exp", "iss", "aud", "typ", "sid"])
def test_token_missing_a_required_claim_is_invalid_token(tokens: TokenService, claim: str):
    payload = claims()
    del payload[claim]
    assert rejection_code(tokens, sign(payload)) == "auth.invalid_token"


def test_non_numeric_subject_is_invalid_token(tokens: TokenService):
    assert rejection_code(tokens, sign(claims(sub="alice"))) == "auth.invalid_token"


def test_refresh_token_string_is_wrong_token_type(tokens: TokenService):
    refresh = new_refresh_token()
    assert refresh.startswith("tsr_")
    assert rejection_code(tokens, refresh) == "auth.wrong_token_type"


def test_jwt_typed_refresh_is_wrong_token_type(tokens: TokenService):
    assert rejection_code(tokens, sign(claims(typ="refresh"))) == "auth.wrong_token_type"


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "a.b.c", "", "eyJhbGciOiJIUzI1NiJ9", "....", "eyJ%%%.eyJ%%%.sig"],
)
def test_garbage_is_malformed_token(tokens: TokenService, garbage: str):
    assert rejection_code(tokens, garbage) == "auth.malformed_token"


def test_rs256_setting_rejects_hs256_tokens_signed_with_the_public_key(tmp_path: Path):
    # The classic key-confusion attack: an HS256 token keyed with the RSA public key.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "private.pem").write_bytes(private_pem)
    (tmp_path / "public.pem").write_bytes(public_pem)
    settings = Settings(
        env="test",
        var_dir=tmp_path,
        security={
            "jwt_algorithm": "RS256",
            "jwt_private_key_file": tmp_path / "private.pem",
            "jwt_public_key_file": tmp_path / "public.pem",
            "jwt_key_id": "k1",
        },
    )
    rs256 = TokenService(settings)
    issued = rs256.issue_access(user_id=3, session_id="s", roles=[])
    assert jwt.get_unverified_header(issued.token)["kid"] == "k1"
    assert rs256.decode_access(issued.token).user_id == 3

    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims()).encode())
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{body}.{b64url(mac)}"
    assert rejection_code(rs256, forged) == "auth.algorithm_not_allowed"
