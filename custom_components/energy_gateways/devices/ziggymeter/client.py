"""Asyncio client for the ZiggyMeter REST API (HTTPS, bearer token).

Login with username and password returns an opaque token and its remaining
lifetime (`expires_in_secs`). The client renews it min(5 min, half its lifetime)
before it runs out and once more on a 401 (a reboot drops every token), then
retries the request once. Two login paths exist in the vendor's documents: the
client tries `/api/v1/system/login` first, falls back to `/login` on a 404 and
remembers the one that worked (`login_path`, to be passed back next time).

Firmware uploads are paced evenly at a given rate, as the device refuses an
upload that arrives too fast. Neither the password nor the token goes into a
log line, an error or a repr. Raises only the integration's own errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ...transport import http
from ...transport.errors import (
    CannotConnect,
    EndpointGone,
    GatewayError,
    InvalidAuth,
    InvalidHost,
    InvalidResponse,
    Rejected,
)
from ...transport.http import SslOption, bearer, mapped_errors
from ...transport.token import Clock, Grant, TokenClient, TokenKeeper, call_with_token
from ...transport.values import as_float, as_str, mapping
from .models import Status, Version, parse_status, parse_version

_LOGGER = logging.getLogger(__name__)

API_LOGIN_PATH = "/api/v1/system/login"
"""Login path of the vendor's endpoint page; tried first."""
LEGACY_LOGIN_PATH = "/login"
"""Login path of the vendor's quick start; tried when the other answers 404."""
LOGIN_PATHS = (API_LOGIN_PATH, LEGACY_LOGIN_PATH)
LOGOUT_PATH = "/api/v1/system/logout"
STATUS_PATH = "/api/v1/system/status"
VERSION_PATH = "/api/v1/system/version"
OTA_PATH = "/api/v1/system/ota"

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)
DEFAULT_TOKEN_LIFETIME = 3600.0
"""Seconds a token lives when the login answer does not say (the vendor's example)."""
TOKEN_RENEW_MARGIN = 300.0
"""Renew at most this many seconds before expiry (and at most half the lifetime)."""

DEFAULT_OTA_RATE = 1024.0
"""Bytes/s of a firmware upload (the vendor's `curl --limit-rate 1024`)."""
OTA_MIN_BLOCK = 64
OTA_MAX_BLOCK = 1024
OTA_TIMEOUT_SLACK = 60.0
"""Seconds added to 1.5 x the upload's planned duration for the whole request."""
REASON_LENGTH = 200
"""Characters of a device's refusal text kept in `Rejected`."""


def base_url(host: str) -> str | None:
    """Turn `host`, `host:port` or `https://host:port/` into `https://host[:port]`.

    An IPv6 address gets brackets. None if no host can be read or the scheme is
    not https (the device speaks HTTPS only).
    """
    return http.base_url(host, schemes=("https",))


def ota_block_size(rate: float) -> int:
    """Bytes per block of a paced upload: a quarter second's worth, 64..1024."""
    return int(min(OTA_MAX_BLOCK, max(OTA_MIN_BLOCK, rate / 4)))


def ota_timeout(size: int, rate: float) -> float:
    """Seconds the whole upload request may take: 1.5 x planned + 60 s."""
    return size / rate * 1.5 + OTA_TIMEOUT_SLACK


class _Upload:
    """One paced upload attempt: the body generator and how far it got."""

    def __init__(
        self, image: bytes, rate: float, report: Callable[[int], None]
    ) -> None:
        self.image = image
        self.rate = rate
        self.block = ota_block_size(rate)
        self.handed_over = 0
        """Bytes given to aiohttp so far (sent or in its buffers)."""
        self._report = report

    async def body(self) -> AsyncIterator[bytes]:
        """Yield the image in blocks, each at start + offset / rate (loop clock).

        The schedule is absolute, so one late block does not delay the rest; a
        block later than one interval moves the schedule, so at most one block
        is sent early to catch up, never a burst.
        """
        loop = asyncio.get_running_loop()
        start = loop.time()
        interval = self.block / self.rate
        offset = 0
        size = len(self.image)
        while offset < size:
            late = loop.time() - (start + offset / self.rate)
            if late < 0:
                await asyncio.sleep(-late)
            elif late > interval:
                start += late - interval
            chunk = self.image[offset : offset + self.block]
            self.handed_over = offset + len(chunk)
            yield chunk
            offset += len(chunk)
            self._report(offset)


class ZiggyClient(TokenClient):
    """One ZiggyMeter."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        username: str,
        password: str,
        *,
        ssl: SslOption = None,
        login_path: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Raise InvalidHost if `host` is not a host, `host:port` or https URL."""
        url = base_url(host)
        if url is None:
            raise InvalidHost("not a host name, address or https URL")
        self._session = session
        self._base_url = url
        self._host = urlsplit(url).netloc
        self._username = username
        self._password = password
        self._ssl = ssl
        self._preferred_login = login_path
        self._login_path: str | None = None
        self._tokens = TokenKeeper(
            self._authenticate,
            max_margin=TOKEN_RENEW_MARGIN,
            default_lifetime=DEFAULT_TOKEN_LIFETIME,
            clock=clock,
        )
        self._upload_lock = asyncio.Lock()
        self.requests = 0
        """Requests sent so far (logins, logouts and uploads included)."""

    def __repr__(self) -> str:
        return f"ZiggyClient({self._base_url!r})"

    @property
    def base_url(self) -> str:
        """`https://host[:port]`."""
        return self._base_url

    @property
    def host(self) -> str:
        """`host[:port]`, for messages."""
        return self._host

    @property
    def login_path(self) -> str | None:
        """The login path that worked last, None before the first login."""
        return self._login_path

    @property
    def uploading(self) -> bool:
        """True while a firmware upload runs."""
        return self._upload_lock.locked()

    # -- transport --------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        token: str | None,
        read: Callable[[aiohttp.ClientResponse], Any],
        **kwargs: Any,
    ) -> Any:
        self.requests += 1
        return await http.request(
            self._session,
            method,
            self._base_url + path,
            label=path,
            read=read,
            ok=range(200, 300),
            headers=bearer(token),
            ssl=self._ssl,
            client_timeout=REQUEST_TIMEOUT,
            **kwargs,
        )

    async def _get_object(self, path: str) -> dict[str, Any]:
        """GET a protected JSON object; renew the token once on a 401."""

        async def get(token: str) -> Any:
            return await self._send("GET", path, token, http.read_json)

        payload = await call_with_token(self._tokens, get, label=self._host)
        if not isinstance(payload, dict):
            raise InvalidResponse(f"{path}: not a JSON object")
        return payload

    # -- authentication ---------------------------------------------------

    def _login_order(self) -> list[str]:
        first = self._login_path or self._preferred_login
        if first is None:
            return list(LOGIN_PATHS)
        return [first, *(path for path in LOGIN_PATHS if path != first)]

    async def _authenticate(self) -> Grant:
        credentials = {"username": self._username, "password": self._password}
        for path in self._login_order():
            try:
                payload = await self._send(
                    "POST", path, None, http.read_json, json=credentials
                )
            except EndpointGone:
                _LOGGER.debug("%s: no login at %s", self._host, path)
                continue
            except InvalidAuth as err:
                raise InvalidAuth("login refused") from err
            answer = mapping(payload)
            token = as_str(answer.get("token"))
            if token is None:
                raise InvalidResponse(f"{path}: no token")
            lifetime = as_float(answer.get("expires_in_secs"))
            self._login_path = path
            _LOGGER.debug("%s: logged in at %s", self._host, path)
            return Grant(
                token, lifetime=lifetime if lifetime and lifetime > 0 else None
            )
        raise EndpointGone("no login endpoint answered")

    async def login(self) -> None:
        """Log in now; InvalidAuth on wrong credentials (the token stays inside)."""
        await self._tokens.login()

    async def logout(self) -> None:
        """Invalidate the token on the device and forget it; never raises.

        For unloading: a device that is asleep or gone is simply forgotten.
        """
        token = self._tokens.token
        if token is None:
            return
        self._tokens.forget()
        try:
            await self._send("POST", LOGOUT_PATH, token, http.read_nothing)
        except GatewayError as err:
            _LOGGER.debug("%s: logout failed: %s", self._host, err)

    # -- reading ----------------------------------------------------------

    async def get_status(self) -> Status:
        """Battery, WiFi, temperature and meter values."""
        return parse_status(await self._get_object(STATUS_PATH))

    async def get_version(self) -> Version:
        """Firmware and frontend versions, build number, upgrade URL."""
        return parse_version(await self._get_object(VERSION_PATH))

    # -- firmware ---------------------------------------------------------

    async def upload_firmware(
        self,
        image: bytes,
        *,
        rate: float = DEFAULT_OTA_RATE,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Upload a firmware image, paced evenly at `rate` bytes/s.

        `progress(bytes_sent)` is called after each block, never with a smaller
        number than before, and must not raise. Returns when the device accepted
        the image (any 2xx); it reboots afterwards. Raises Rejected when the
        device refuses it (any other status but 401; the reason is the device's
        text) or closes the connection mid-upload (e.g. because it came too
        fast); CannotConnect, CertificateMismatch ... as any request; InvalidAuth
        if a fresh token is refused too. Only one upload runs at a time.
        """
        if not rate > 0:
            raise ValueError("rate must be positive")
        highest = 0

        def report(sent: int) -> None:
            nonlocal highest
            if sent > highest:
                highest = sent
                if progress is not None:
                    progress(sent)

        async with self._upload_lock:
            token = await self._tokens.valid()
            upload = _Upload(image, rate, report)
            try:
                await self._upload(upload, token)
            except InvalidAuth:
                # The token was refused as the upload started (the device does
                # not read the body then): renew and start again, once.
                if upload.handed_over > upload.block:
                    raise Rejected("the device refused the token mid-upload") from None
                _LOGGER.debug("%s: upload token rejected, logging in again", self._host)
            else:
                return
            token = await self._tokens.renew(stale=token)
            await self._upload(_Upload(image, rate, report), token)

    async def _upload(self, upload: _Upload, token: str) -> None:
        self.requests += 1
        size = len(upload.image)
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            # One connection per upload: the device may answer before the body
            # is complete, and a half-written connection must not be reused.
            "Connection": "close",
        }
        with mapped_errors(OTA_PATH):
            try:
                async with self._session.post(
                    self._base_url + OTA_PATH,
                    data=upload.body(),
                    headers=headers,
                    ssl=http.ssl_value(self._ssl),
                    timeout=aiohttp.ClientTimeout(total=ota_timeout(size, upload.rate)),
                    allow_redirects=False,
                ) as response:
                    status = response.status
                    if 200 <= status < 300:
                        await _drain(response)
                        return
                    reason = await _reason(response)
            except aiohttp.ClientConnectorError:
                raise  # never reached the device: CannotConnect
            except (
                aiohttp.ServerDisconnectedError,
                aiohttp.ClientOSError,
                ConnectionResetError,
            ) as err:
                if upload.handed_over == 0:
                    raise CannotConnect(f"{OTA_PATH}: {type(err).__name__}") from err
                raise Rejected(
                    "the device closed the connection during the upload"
                ) from err
        if status == 401:
            raise InvalidAuth(f"{OTA_PATH}: rejected (401)")
        raise Rejected(reason or f"HTTP {status}")


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read an acceptance's body (unused; may be plain text or cut short)."""
    with contextlib.suppress(aiohttp.ClientError):
        await response.read()


async def _reason(response: aiohttp.ClientResponse) -> str:
    """Return the refusal text, trimmed; empty if the device sent none or broke off."""
    try:
        body = await response.read()
    except aiohttp.ClientError:
        return ""
    text = " ".join(body.decode("utf-8", "replace").split())
    return text[:REASON_LENGTH]


__all__ = [
    "API_LOGIN_PATH",
    "DEFAULT_OTA_RATE",
    "LEGACY_LOGIN_PATH",
    "ZiggyClient",
    "base_url",
    "ota_block_size",
]
