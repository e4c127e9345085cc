"""HS256 JSON Web Tokens for the OTA upload, built with the standard library only."""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from typing import Any
import uuid

from ..secrets import remember

AUDIENCE = "cozify-han"
DEFAULT_SCOPE = "ota:write"
TOKEN_LIFETIME = 300
ACCEPTED_SCOPES = frozenset({"ota:write", "ota:*"})


class TokenError(Exception):
    """A bearer token was rejected; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


class TokenIssuer:
    """Signs and checks the reader's short-lived bearer tokens."""

    def __init__(self, issuer: str, secret: bytes | None = None) -> None:
        # a fresh secret per simulator: tokens never survive a restart of the process
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._issuer = issuer

    def issue(
        self,
        scope: str = DEFAULT_SCOPE,
        expires_in: int = TOKEN_LIFETIME,
        audience: str = AUDIENCE,
    ) -> str:
        """Return a signed JWT with the given scope, lifetime (s) and audience."""
        now = int(time.time())
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {
            "iss": self._issuer,
            "sub": self._issuer,
            "aud": audience,
            "scope": scope,
            "iat": now,
            "exp": now + expires_in,
            "jti": str(uuid.uuid4()),
        }
        signing_input = ".".join(
            _b64encode(json.dumps(part, separators=(",", ":")).encode())
            for part in (header, claims)
        )
        token = f"{signing_input}.{self._sign(signing_input)}"
        # a bearer token is a credential: the test suite checks it never leaks
        remember(token)
        return token

    def _sign(self, signing_input: str) -> str:
        digest = hmac.new(self._secret, signing_input.encode("ascii"), hashlib.sha256)
        return _b64encode(digest.digest())

    def verify(self, token: str) -> dict[str, Any]:
        """Return the claims of a valid token or raise TokenError(401)."""
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError(401, "malformed token")
        try:
            header = json.loads(_b64decode(parts[0]))
            claims = json.loads(_b64decode(parts[1]))
        except binascii.Error, UnicodeDecodeError, ValueError:
            raise TokenError(401, "malformed token") from None
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            raise TokenError(401, "unsupported token algorithm")
        expected = self._sign(f"{parts[0]}.{parts[1]}")
        if not hmac.compare_digest(expected, parts[2]):
            raise TokenError(401, "bad token signature")
        if not isinstance(claims, dict):
            raise TokenError(401, "malformed token")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if AUDIENCE not in audiences:
            raise TokenError(401, "wrong token audience")
        expires = claims.get("exp")
        if isinstance(expires, bool) or not isinstance(expires, int | float):
            raise TokenError(401, "token without expiry")
        if expires <= time.time():
            raise TokenError(401, "token expired")
        return claims

    def authorize(self, authorization: str | None) -> dict[str, Any]:
        """Check an ``Authorization`` header for OTA upload rights.

        Raises TokenError with 401 for a missing or invalid token and 403 when the
        token is valid but its scope lacks ``ota:write`` / ``ota:*``.
        """
        if not authorization:
            raise TokenError(401, "missing bearer token")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenError(401, "missing bearer token")
        claims = self.verify(token.strip())
        scope = claims.get("scope")
        scopes = set(scope.split()) if isinstance(scope, str) else set()
        if not scopes & ACCEPTED_SCOPES:
            raise TokenError(403, "insufficient scope")
        return claims
