"""JSON Web Tokens (HS256, stdlib only) and the EMS self-signed TLS certificate."""

import base64
from collections.abc import Callable
import hashlib
import hmac
import json
from pathlib import Path
import secrets
import ssl
import time
from typing import Any

from .. import tls

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


CERT_STEM = "ems"
"""File names of the EMS certificate: ``ems.crt`` and ``ems.key``."""
CERT_NAME = "EMS"
"""Common name of the EMS certificate (organisation ``EMS simulator``)."""


def create_certificate(
    directory: Path, host: str, stem: str = CERT_STEM
) -> tuple[ssl.SSLContext, str]:
    """Write a self-signed EMS certificate (see :func:`simulators.tls.create_certificate`)."""
    return tls.create_certificate(directory, host, stem, CERT_NAME)


def load_certificate(
    directory: Path, host: str, stem: str = CERT_STEM
) -> tuple[ssl.SSLContext, str] | None:
    """Load a usable EMS certificate (see :func:`simulators.tls.load_certificate`)."""
    return tls.load_certificate(directory, host, stem)


def reuse_or_create_certificate(
    directory: Path, host: str, stem: str = CERT_STEM
) -> tuple[ssl.SSLContext, str]:
    """Reuse or make the EMS certificate (see :func:`simulators.tls.reuse_or_create_certificate`)."""
    return tls.reuse_or_create_certificate(directory, host, stem, CERT_NAME)
