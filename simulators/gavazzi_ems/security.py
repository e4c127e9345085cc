"""JSON Web Tokens (HS256, stdlib only) and the self-signed TLS certificate."""

import base64
from collections.abc import Callable
import contextlib
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
from pathlib import Path
import secrets
import ssl
import time
from typing import Any

# Imported here, not when the first certificate is made: a first import under a
# test's frozen clock would bind cryptography to the fake datetime class.
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TOKEN_LIFETIME = 30 * 60.0
"""Seconds a token is valid after issue (seed: 30 minutes)."""


class TokenError(Exception):
    """A token that is missing, malformed, badly signed or expired."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Issues and checks HS256 JWTs with ``iat`` and ``exp`` claims."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._key = secrets.token_bytes(32)
        # Looked up at each call, so a frozen time.time (tests) is seen.
        self._clock = clock or (lambda: time.time())

    def issue(self, username: str, lifetime: float) -> str:
        """Return a token for ``username`` valid for ``lifetime`` seconds."""
        now = self._clock()
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {
            "sub": username,
            "role": "api",
            "iat": int(now),
            "exp": int(now + lifetime),
            "jti": secrets.token_hex(8),
        }
        signing_input = ".".join(
            _b64encode(json.dumps(part, separators=(",", ":")).encode())
            for part in (header, claims)
        )
        return f"{signing_input}.{self._sign(signing_input)}"

    def revoke_all(self) -> None:
        """Invalidate every token issued so far (a new key signs new ones)."""
        self._key = secrets.token_bytes(32)

    def _sign(self, signing_input: str) -> str:
        digest = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        return _b64encode(digest)

    def check(self, token: str) -> dict[str, Any]:
        """Return the claims of a valid token; raise TokenError otherwise."""
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("malformed token")
        signing_input = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._sign(signing_input), parts[2]):
            raise TokenError("invalid token signature")
        try:
            header = json.loads(_b64decode(parts[0]))
            claims = json.loads(_b64decode(parts[1]))
        except ValueError:
            raise TokenError("malformed token") from None
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            raise TokenError("unsupported token algorithm")
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
            raise TokenError("malformed token claims")
        if claims["exp"] <= self._clock():
            raise TokenError("token expired")
        return claims


def create_certificate(
    directory: Path, host: str, stem: str = "ems"
) -> tuple[ssl.SSLContext, str]:
    """Write a self-signed certificate and key to ``directory``.

    The files are ``{stem}.crt`` and ``{stem}.key``. Returns a server SSL
    context and the SHA-256 fingerprint (hex) of the certificate.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EMS simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, "EMS"),
        ]
    )
    alt_names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for address in {"127.0.0.1", host}:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            alt_names.append(x509.DNSName(address))
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / f"{stem}.crt"
    key_path = directory / f"{stem}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # created owner-only, so the key is never readable by others, not even briefly
    with contextlib.suppress(FileNotFoundError):
        key_path.unlink()
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    der = certificate.public_bytes(serialization.Encoding.DER)
    return context, hashlib.sha256(der).hexdigest()


def _covers(certificate: x509.Certificate, host: str) -> bool:
    """Whether the certificate's subject alternative names include ``host``."""
    try:
        names = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value
    except x509.ExtensionNotFound:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host.lower() in (
            name.lower() for name in names.get_values_for_type(x509.DNSName)
        )
    return address in names.get_values_for_type(x509.IPAddress)


def load_certificate(
    directory: Path, host: str, stem: str = "ems"
) -> tuple[ssl.SSLContext, str] | None:
    """Load ``{stem}.crt`` and ``{stem}.key`` from ``directory`` if usable.

    Usable: both files exist and parse, the key belongs to the certificate, the
    certificate is valid now (and for another day) and covers ``host`` and
    127.0.0.1. Returns a server SSL context and the SHA-256 fingerprint (hex),
    or None when the files are missing or not usable.
    """
    cert_path = directory / f"{stem}.crt"
    key_path = directory / f"{stem}.key"
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        # raises SSLError when the key is unreadable or does not match
        context.load_cert_chain(cert_path, key_path)
    except OSError, ValueError, ssl.SSLError:
        return None
    now = datetime.datetime.now(datetime.UTC)
    if not (
        certificate.not_valid_before_utc <= now
        and now + datetime.timedelta(days=1) < certificate.not_valid_after_utc
    ):
        return None
    if not all(_covers(certificate, name) for name in {"127.0.0.1", host}):
        return None
    der = certificate.public_bytes(serialization.Encoding.DER)
    return context, hashlib.sha256(der).hexdigest()


def reuse_or_create_certificate(
    directory: Path, host: str, stem: str = "ems"
) -> tuple[ssl.SSLContext, str]:
    """Return the usable certificate in ``directory``, or write a new one there.

    The directory is created (owner-only) when missing. See
    :func:`load_certificate` and :func:`create_certificate`.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    loaded = load_certificate(directory, host, stem)
    if loaded is not None:
        return loaded
    return create_certificate(directory, host, stem)
