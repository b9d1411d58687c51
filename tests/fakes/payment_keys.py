"""Test keys and certificates for the payment fakes, generated in the test run (never
checked in): RSA 2048 keys, a small CA, certificates issued by it, PEM helpers.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def cached_key(name: str) -> rsa.RSAPrivateKey:
    """One key per name for the whole run: 2048-bit key generation is not free."""
    return new_key()


def private_pem(key: rsa.RSAPrivateKey, *, pkcs1: bool = False) -> str:
    form = serialization.PrivateFormat
    return key.private_bytes(
        serialization.Encoding.PEM,
        form.TraditionalOpenSSL if pkcs1 else form.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def bare_private_key(key: rsa.RSAPrivateKey) -> str:
    """The one-line base64 form Alipay's key tool prints (PKCS#8 DER, no armour)."""
    return "".join(private_pem(key).splitlines()[1:-1])


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def bare_public_key(key: rsa.RSAPrivateKey) -> str:
    return "".join(public_pem(key).splitlines()[1:-1])


def name(common_name: str, organization: str = "Tessera Test") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Payments"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def certificate(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    *,
    issuer: x509.Name | None = None,
    issuer_key: rsa.RSAPrivateKey | None = None,
    serial: int | None = None,
    ca: bool = False,
    not_before: datetime | None = None,
    days: int = 365,
) -> x509.Certificate:
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(issuer_key or key, hashes.SHA256())


def cert_pem(*certificates: x509.Certificate) -> str:
    return "".join(cert.public_bytes(serialization.Encoding.PEM).decode() for cert in certificates)


def write(directory: Path, filename: str, text: str) -> Path:
    path = directory / filename
    path.write_text(text)
    return path
