"""Key handling and the primitives both Chinese payment providers build on: RSA
SHA256withRSA (PKCS#1 v1.5) signatures in base64, and AEAD_AES_256_GCM decryption.

Keys are accepted in the forms the providers' consoles hand out: PEM (PKCS#8 or PKCS#1)
or the bare base64 body Alipay's key tool prints, a PEM public key, or a certificate.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tessera.blocks.order.integration.base import ConfigurationError

MIN_RSA_BITS = 2048


def read_text(value: str | None, path: Path | None, *, what: str) -> str:
    """An inline value or the content of a file (a key is one or the other)."""
    if value:
        return value.strip()
    if path is None:
        raise ConfigurationError(f"{what} is not configured")
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigurationError(f"{what}: cannot read {path}: {exc.strerror}") from exc


def _der(text: str) -> bytes:
    body = "".join(line for line in text.splitlines() if not line.startswith("-----"))
    try:
        return base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError("not a PEM or base64 key") from exc


def load_private_key(text: str, *, what: str = "private key") -> rsa.RSAPrivateKey:
    key: object
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            der = _der(text)
            try:
                key = serialization.load_der_private_key(der, password=None)
            except ValueError:
                # PKCS#1 "RSA PRIVATE KEY" body without its armour.
                pem = (
                    "-----BEGIN RSA PRIVATE KEY-----\n"
                    + base64.encodebytes(der).decode()
                    + "-----END RSA PRIVATE KEY-----\n"
                )
                key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{what} cannot be read: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError(f"{what} is not an RSA key")
    if key.key_size < MIN_RSA_BITS:
        raise ConfigurationError(f"{what} has {key.key_size} bits; at least {MIN_RSA_BITS}")
    return key


def load_public_key(text: str, *, what: str = "public key") -> rsa.RSAPublicKey:
    """A PEM or bare base64 public key, or the key of a PEM certificate."""
    key: object
    try:
        if "-----BEGIN CERTIFICATE" in text:
            key = x509.load_pem_x509_certificate(text.encode()).public_key()
        elif "-----BEGIN" in text:
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(_der(text))
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{what} cannot be read: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigurationError(f"{what} is not an RSA key")
    return key


def load_certificates(text: str, *, what: str = "certificate") -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(text.encode())
    except ValueError as exc:
        raise ConfigurationError(f"{what} cannot be read: {exc}") from exc
    if not certificates:
        raise ConfigurationError(f"{what} holds no certificate")
    return certificates


def sign_sha256_rsa(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64: Alipay's RSA2 and WeChat Pay's v3 signature."""
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def verify_sha256_rsa(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def aes_gcm_decrypt(key: bytes, *, nonce: str, associated_data: str, ciphertext: str) -> bytes:
    """AEAD_AES_256_GCM (RFC 5116) as WeChat Pay uses it: base64 ciphertext with the 16-byte
    tag at its end, a 12-character nonce and a short associated data string. Raises
    ValueError when the tag does not match (tampered, or another key)."""
    try:
        data = base64.b64decode(ciphertext, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("ciphertext is not base64") from exc
    try:
        return AESGCM(key).decrypt(nonce.encode(), data, associated_data.encode() or None)
    except InvalidTag as exc:
        raise ValueError("ciphertext failed authentication") from exc
