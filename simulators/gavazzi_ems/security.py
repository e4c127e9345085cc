"""JSON Web Tokens (HS256, stdlib only) and the self-signed TLS certificate."""

import base64
from collections.abc import Callable
import datetime
import hashlib
import hmac
import ipaddress
import json
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
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    der = certificate.public_bytes(serialization.Encoding.DER)
    return context, hashlib.sha256(der).hexdigest()
