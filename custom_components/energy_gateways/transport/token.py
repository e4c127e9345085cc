"""Bearer-token upkeep shared by the clients that log in with a password.

One `TokenKeeper` per client holds the current token and when it expires. It
logs in again shortly before the expiry (the renewal margin is
`min(max_margin, lifetime / 2)`, so a short-lived token is not renewed before
every request) and, through `call_with_token`, once more when the device
rejects a token early (a reboot drops every token). Concurrent callers share one
login. The token never appears in a repr.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import logging
import time

from .errors import InvalidAuth

_LOGGER = logging.getLogger(__name__)

type Clock = Callable[[], float]
"""Returns the current time in epoch seconds."""


@dataclass(frozen=True, slots=True)
class Grant:
    """What a login returned: the token and how long it lives.

    `expires_at` (epoch s) wins when known (e.g. a JWT's `exp` claim); else
    `lifetime` (seconds from the login); else the keeper's default lifetime.
    """

    token: str = field(repr=False)
    expires_at: float | None = None
    lifetime: float | None = None


def renewal_margin(lifetime: float, max_margin: float) -> float:
    """Seconds before expiry to renew: `min(max_margin, lifetime / 2)`, never < 0."""
    return max(0.0, min(max_margin, lifetime / 2))


class TokenKeeper:
    """A bearer token, its expiry, and the lock that serialises logins."""

    def __init__(
        self,
        login: Callable[[], Awaitable[Grant]],
        *,
        max_margin: float,
        default_lifetime: float,
        clock: Clock | None = None,
    ) -> None:
        """`login` performs one login (raising the integration's errors).

        `clock` defaults to `time.time`, looked up at each call so a frozen or
        patched time is seen.
        """
        self._login = login
        self._max_margin = max_margin
        self._default_lifetime = default_lifetime
        self._clock: Clock = clock or (lambda: time.time())
        self._token: str | None = None
        self._expires_at: float | None = None
        self._renew_at: float | None = None
        self._lock = asyncio.Lock()
        self.logins = 0
        """Successful logins so far."""

    def __repr__(self) -> str:
        return f"TokenKeeper(expires_at={self._expires_at!r})"

    @property
    def token(self) -> str | None:
        """The current token, None before a login or after `forget`."""
        return self._token

    @property
    def expires_at(self) -> float | None:
        """When the current token expires (epoch s), None without a token."""
        return self._expires_at

    def expiring(self) -> bool:
        """Return True without a token, or when less than its margin is left."""
        return self._renew_at is None or self._clock() > self._renew_at

    def forget(self) -> None:
        """Drop the token (after a logout or a refused login)."""
        self._token = self._expires_at = self._renew_at = None

    async def valid(self) -> str:
        """Return a token that is not about to expire, logging in if needed."""
        token = self._token
        if token is None or self.expiring():
            token = await self.renew(stale=token)
        return token

    async def renew(self, stale: str | None) -> str:
        """Log in unless another task already replaced the `stale` token."""
        async with self._lock:
            if self._token is not None and self._token != stale:
                return self._token
            return await self._authenticate()

    async def login(self) -> str:
        """Log in now, whatever the current token."""
        async with self._lock:
            return await self._authenticate()

    async def _authenticate(self) -> str:
        issued = self._clock()
        try:
            grant = await self._login()
        except InvalidAuth:
            self.forget()
            raise
        if grant.expires_at is not None:
            expires_at = grant.expires_at
        else:
            lifetime = (
                self._default_lifetime if grant.lifetime is None else grant.lifetime
            )
            expires_at = issued + lifetime
        self._token = grant.token
        self._expires_at = expires_at
        self._renew_at = expires_at - renewal_margin(
            expires_at - issued, self._max_margin
        )
        self.logins += 1
        return grant.token


class TokenClient:
    """Figures every client that keeps its token in a `TokenKeeper` offers."""

    _tokens: TokenKeeper

    @property
    def logins(self) -> int:
        """Successful logins so far."""
        return self._tokens.logins

    @property
    def token_expires_at(self) -> float | None:
        """When the current token expires (epoch s), None without a token."""
        return self._tokens.expires_at


async def call_with_token[T](
    keeper: TokenKeeper, request: Callable[[str], Awaitable[T]], *, label: str = ""
) -> T:
    """Call `request(token)` with a valid token; on InvalidAuth renew once and retry.

    A second InvalidAuth (the fresh token refused too) propagates.
    """
    token = await keeper.valid()
    try:
        return await request(token)
    except InvalidAuth:
        _LOGGER.debug("%s: token rejected, logging in again", label)
    token = await keeper.renew(stale=token)
    return await request(token)


__all__ = [
    "Clock",
    "Grant",
    "TokenClient",
    "TokenKeeper",
    "call_with_token",
    "renewal_margin",
]
