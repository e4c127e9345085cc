"""Asyncio client for the Cozify Cloud and a Cozify Hub (on the LAN or relayed).

The cloud logs in with an e-mailed one-time code and hands out a cloud token
and one hub key per hub, both sent as `Authorization: <token>` without a
"Bearer " prefix. The hub answers on its LAN address (`http://ip:8893`) and,
through the cloud relay (`<cloud>/hub/remote/<hub path>`, with the hub key in
`X-Hub-Key`), from anywhere.

`CozifyHubClient` prefers the LAN: when the hub does not answer there it uses
the relay (one INFO line) and tries the LAN again at most every
`LOCAL_RETRY_SECONDS` (one INFO line when it answers again). A refused hub key
is renewed through `user/hubkeys` and the call retried once; on 410 (a software
update moved the API version) `/hub` is read again and the call retried once.
No token, key, code or e-mail address goes into a log line, an error or a repr.
Raises only the integration's own errors.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
import json as json_module
import logging
import time
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp

from ...transport import http
from ...transport.errors import (
    CannotConnect,
    EndpointGone,
    Forbidden,
    GatewayError,
    InvalidAuth,
    InvalidHost,
    InvalidResponse,
    Rejected,
)
from .models import (
    HUB_PORT,
    CozifyDevice,
    HubKey,
    HubMeta,
    PollDelta,
    Scene,
    hub_url,
    parse_devices,
    parse_hub_keys,
    parse_lan_ips,
    parse_poll,
    parse_rooms,
    parse_scenes,
    parse_token,
    token_expiry,
)

_LOGGER = logging.getLogger(__name__)

DEFAULT_CLOUD_URL = "https://api.cozify.fi/ui/0.2"
REQUEST_TIMEOUT = 5.0
"""Seconds for one request (python-cozify uses 5 s)."""
POLL_TIMEOUT = 20.0
"""Seconds for a delta poll (it may be held open by the hub for up to ~15 s)."""
PROBE_TIMEOUT = 3.0
"""Seconds for `GET /hub` when checking whether the LAN answers again."""
LOCAL_RETRY_SECONDS = 60.0
"""While on the relay after a LAN failure, try the LAN at most this often."""
TOKEN_REFRESH_AGE = 86400.0
"""Renew the cloud token when its last renewal is older (python-cozify: daily)."""
ROUTE_HISTORY = 20
"""Route changes kept in `CozifyHubClient.routes`."""

type Route = Literal["local", "remote"]


class RelayRefused(Forbidden):
    """The cloud relay answered 403 (e.g. remote access is not paid for)."""


class ApiVersionGone(EndpointGone):
    """The hub answered 410 again after its version was read anew."""


class _VersionGone(EndpointGone):
    """410: the hub no longer serves this API version."""


def cloud_base_url(raw: str) -> str | None:
    """Turn a typed cloud address into `scheme://host[:port]/base/path`.

    https is assumed without a scheme; the path is kept without a trailing
    slash; query and fragment are dropped. None when unusable.
    """
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    if "://" not in text:
        text = f"https://{text}"
    origin = http.base_url(text)
    if origin is None:
        return None
    return origin + urlsplit(text).path.rstrip("/")


def hub_base_url(raw: str) -> str | None:
    """Turn what a user types for the hub into `http://host:8893`.

    The port defaults to 8893; https is kept when typed. None when unusable.
    """
    return hub_url(raw)


def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


async def _status_and_body(response: aiohttp.ClientResponse) -> tuple[int, bytes]:
    return response.status, await response.read()


async def _exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    label: str,
    seconds: float,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> tuple[int, bytes]:
    """Send one request; return its status and body (transport errors mapped)."""
    return await http.request(
        session,
        method,
        url,
        label=label,
        read=_status_and_body,
        ok=range(1000),
        client_timeout=_timeout(seconds),
        headers=headers,
        **kwargs,
    )


def _json(body: bytes, label: str) -> Any:
    """Return a JSON body; an empty body is None."""
    if not body.strip():
        return None
    try:
        return json_module.loads(body)
    except ValueError as err:
        raise InvalidResponse(f"{label}: not JSON") from err


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace")


REASON_LENGTH = 200
"""Characters of a hub's refusal shown to the user."""


def _reason(body: bytes) -> str:
    """Return what a refusal's body says (its `message` or `error`, else the text)."""
    try:
        payload = json_module.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        for key in ("message", "error", "reason"):
            if isinstance(payload.get(key), str) and payload[key].strip():
                return str(payload[key]).strip()[:REASON_LENGTH]
    text = _text(body).strip()
    return text[:REASON_LENGTH] if text else "no reason given"


def _hub_error(
    status: int, label: str, *, relay: bool, body: bytes | None = None
) -> GatewayError:
    """Return the error of a hub call's status (the relay passes the hub's on).

    With `body` (a command), another 4xx is the hub refusing the command: a
    Rejected whose text is the hub's reason.
    """
    if body is not None and 400 <= status < 500 and status not in (401, 403, 410):
        return Rejected(_reason(body))
    if status == 401:
        return InvalidAuth(f"{label}: hub key refused (401)")
    if status == 403:
        if relay:
            return RelayRefused(f"{label}: the Cozify cloud refused remote access")
        return Forbidden(f"{label}: hub key refused (403)")
    if status == 410:
        return _VersionGone(f"{label}: API version gone (410)")
    return http.status_error(status, label)


def _label(path: str) -> str:
    """Return a request's name for messages: its path without the query."""
    return path.partition("?")[0]


async def probe_hub(
    session: aiohttp.ClientSession,
    base_url: str,
    *,
    timeout: float = PROBE_TIMEOUT,  # noqa: ASYNC109 - aiohttp's own timeout
) -> HubMeta:
    """Read `GET {base_url}/hub` (no credentials); InvalidResponse if no hub answers.

    A Cozify HAN reader at the address answers too, with another type: that is
    an InvalidResponse as well.
    """
    status, body = await _exchange(
        session, "GET", f"{base_url}/hub", label="/hub", seconds=timeout
    )
    if status != 200:
        raise http.status_error(status, "/hub")
    return HubMeta.from_json(_json(body, "/hub"))


class CozifyCloud:
    """The Cozify Cloud: login, tokens, LAN discovery and the hub relay."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        """`base_url` as `cloud_base_url` reads it; InvalidHost if unusable."""
        url = cloud_base_url(base_url)
        if url is None:
            raise InvalidHost("not a cloud address")
        self._session = session
        self.base_url = url
        """`https://host/ui/0.2` (no trailing slash)."""
        self.requests: Counter[str] = Counter()
        """Requests sent, by path (`user/hubkeys`, `hub/remote` …)."""

    def __repr__(self) -> str:
        return f"CozifyCloud({self.base_url!r})"

    async def _send(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        refused: str = "refused",
        **kwargs: Any,
    ) -> bytes:
        """Send one cloud call; return the body of a 200 answer.

        401/403 raise InvalidAuth saying what was `refused`; other statuses are
        mapped as `transport.http.status_error` maps them.
        """
        self.requests[path] += 1
        status, body = await _exchange(
            self._session,
            method,
            f"{self.base_url}/{path}",
            label=path,
            seconds=REQUEST_TIMEOUT,
            headers={"Authorization": token} if token is not None else None,
            **kwargs,
        )
        if status in (401, 403):
            raise InvalidAuth(f"{path}: {refused} ({status})")
        if status != 200:
            raise http.status_error(status, path)
        return body

    async def request_login(self, email: str) -> None:
        """Ask the cloud to mail a one-time code (it answers alike for any address)."""
        await self._send("POST", "user/requestlogin", params={"email": email})

    async def email_login(self, email: str, code: str) -> str:
        """Trade the e-mailed code for a cloud token; InvalidAuth if refused."""
        body = await self._send(
            "POST",
            "user/emaillogin",
            refused="the code was refused",
            data={"email": email, "password": code},
        )
        return parse_token(_text(body))

    async def hub_keys(self, cloud_token: str) -> dict[str, HubKey]:
        """Fetch a fresh key for every hub of the account; InvalidAuth on 401/403."""
        path = "user/hubkeys"
        body = await self._send(
            "GET", path, token=cloud_token, refused="the cloud token was refused"
        )
        return parse_hub_keys(_json(body, path))

    async def refresh_session(self, cloud_token: str) -> str:
        """Trade a valid cloud token for a new one; InvalidAuth on 401/403."""
        body = await self._send(
            "GET",
            "user/refreshsession",
            token=cloud_token,
            refused="the cloud token was refused",
        )
        return parse_token(_text(body))

    async def lan_ips(self) -> list[str]:
        """Return the base URLs of the Cozify devices behind this public IP."""
        path = "hub/lan_ip"
        return parse_lan_ips(_json(await self._send("GET", path), path))

    async def remote(
        self,
        method: str,
        hub_path: str,
        cloud_token: str,
        hub_key: str,
        *,
        json: Any = None,
        timeout: float = REQUEST_TIMEOUT,  # noqa: ASYNC109 - aiohttp's own timeout
    ) -> Any:
        """Relay one hub call (`hub_path` like `/cc/1.14/devices`); its JSON answer.

        401 InvalidAuth, 403 RelayRefused, 410 EndpointGone; for a command
        (`json`) another 4xx is Rejected with the hub's reason; others as
        `transport.http.status_error` maps them.
        """
        path = "hub/remote"
        label = f"{path}{_label(hub_path)}"
        self.requests[path] += 1
        status, body = await _exchange(
            self._session,
            method,
            f"{self.base_url}/{path}{hub_path}",
            label=label,
            seconds=timeout,
            headers={"Authorization": cloud_token, "X-Hub-Key": hub_key},
            json=json,
        )
        if not 200 <= status < 300:
            refusal = body if json is not None else None
            raise _hub_error(status, label, relay=True, body=refusal)
        return _json(body, label)


class CozifyHubClient:
    """One hub of an account, on the LAN with the relay as fallback, or relayed only."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        cloud: CozifyCloud,
        *,
        hub_id: str,
        cloud_token: str,
        token_renewed_at: float,
        hub_key: str,
        host: str | None,
        remote_only: bool,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`host` is the hub's LAN base URL (`http://ip:8893`), None for relay only.

        `clock` (epoch s) defaults to `time.time`, looked up at each call.
        """
        self._session = session
        self._cloud = cloud
        self.hub_id = hub_id
        self._cloud_token = cloud_token
        # Read once per token, not at every poll's renewal check.
        self._cloud_token_expires_at = token_expiry(cloud_token)
        self.token_renewed_at = token_renewed_at
        """When the cloud token was last renewed (epoch s)."""
        self._hub_key = hub_key
        self.host = hub_url(host) if host else None
        """The LAN base URL, None when only the relay is used."""
        self.remote_only = remote_only or self.host is None
        self._clock = clock or (lambda: time.time())
        self.route: Route = "remote" if self.remote_only else "local"
        """The way calls go now."""
        self.routes: list[tuple[float, str, str]] = [
            (self._clock(), self.route, "relay only" if self.remote_only else "LAN")
        ]
        """(epoch s, route, reason) of the last route changes."""
        self._next_probe = 0.0
        self.hub: HubMeta | None = None
        self.api_version: str | None = None
        self.credentials_changed = False
        """Set when the cloud token or the hub key was renewed; the owner saves
        them (`cloud_token`, `hub_key`, `token_renewed_at`) and clears it."""
        self.requests: Counter[str] = Counter()
        """Requests sent: `local`, `relay`, `cloud`."""
        self._key_lock = asyncio.Lock()
        self._connect_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"CozifyHubClient(hub_id={self.hub_id!r}, route={self.route!r})"

    # -- credentials --------------------------------------------------------

    @property
    def cloud_token(self) -> str:
        """The current cloud token (to be saved; never logged)."""
        return self._cloud_token

    @property
    def hub_key(self) -> str:
        """The current hub key (to be saved; never logged)."""
        return self._hub_key

    @property
    def cloud_token_expires_at(self) -> float | None:
        """The cloud token's `exp` (epoch s), None if unreadable."""
        return self._cloud_token_expires_at

    @property
    def hub_key_expires_at(self) -> float | None:
        """The hub key's `exp` (epoch s), None if unreadable."""
        return token_expiry(self._hub_key)

    @property
    def _name(self) -> str:
        return self.hub.name if self.hub is not None else self.hub_id

    async def keep_session(self) -> bool:
        """Renew the cloud token once a day (or when it expires within a day).

        True if renewed; InvalidAuth when the cloud refused the token (reauth).
        """
        now = self._clock()
        expires_at = self.cloud_token_expires_at
        due = now - self.token_renewed_at >= TOKEN_REFRESH_AGE or (
            expires_at is not None and expires_at - now < TOKEN_REFRESH_AGE
        )
        if not due:
            return False
        self.requests["cloud"] += 1
        self._cloud_token = await self._cloud.refresh_session(self._cloud_token)
        self._cloud_token_expires_at = token_expiry(self._cloud_token)
        self.token_renewed_at = self._clock()
        self.credentials_changed = True
        _LOGGER.debug("%s: cloud token renewed", self._name)
        return True

    async def _renew_hub_key(self, stale: str) -> None:
        """Fetch a new hub key unless another call already did."""
        async with self._key_lock:
            if self._hub_key != stale:
                return
            self.requests["cloud"] += 1
            keys = await self._cloud.hub_keys(self._cloud_token)
            key = keys.get(self.hub_id)
            if key is None:
                raise InvalidAuth("the account has no key for this hub any more")
            self._hub_key = key.token
            self.credentials_changed = True
            _LOGGER.debug("%s: hub key renewed", self._name)

    # -- routes -------------------------------------------------------------

    def _set_route(self, route: Route, reason: str) -> None:
        self.route = route
        self.routes.append((self._clock(), route, reason))
        del self.routes[:-ROUTE_HISTORY]

    def _fall_back(self, err: CannotConnect) -> None:
        """Use the relay from now on, until the LAN answers again."""
        self._next_probe = self._clock() + LOCAL_RETRY_SECONDS
        if self.route == "remote":
            return
        _LOGGER.info(
            "%s does not answer on the LAN (%s); using the Cozify cloud relay",
            self._name,
            err,
        )
        self._set_route("remote", f"LAN: {err}")

    async def _maybe_back_to_local(self) -> None:
        """While relayed after a LAN failure, probe the LAN now and then."""
        if self.remote_only or self.route == "local" or self.host is None:
            return
        if self._clock() < self._next_probe:
            return
        self._next_probe = self._clock() + LOCAL_RETRY_SECONDS
        self.requests["local"] += 1
        try:
            meta = await probe_hub(self._session, self.host, timeout=PROBE_TIMEOUT)
        except GatewayError as err:
            _LOGGER.debug("%s: still not on the LAN (%s)", self._name, err)
            return
        if meta.hub_id != self.hub_id:
            _LOGGER.debug("%s: another hub answers on the LAN", self._name)
            return
        _LOGGER.info("%s answers on the LAN again", self._name)
        self._set_route("local", "LAN answers again")

    async def _routed(
        self, method: str, path: str, *, json: Any, seconds: float, auth: bool
    ) -> Any:
        """Send one hub call the current way; fall back to the relay once."""
        await self._maybe_back_to_local()
        label = _label(path)
        if self.route == "local" and self.host is not None:
            self.requests["local"] += 1
            try:
                status, body = await _exchange(
                    self._session,
                    method,
                    f"{self.host}{path}",
                    label=label,
                    seconds=seconds,
                    headers={"Authorization": self._hub_key} if auth else None,
                    json=json,
                )
            except CannotConnect as err:
                self._fall_back(err)
            else:
                if not 200 <= status < 300:
                    # A body was sent (a command): a 4xx is the hub's refusal.
                    refusal = body if json is not None else None
                    raise _hub_error(status, label, relay=False, body=refusal)
                return _json(body, label)
        self.requests["relay"] += 1
        return await self._cloud.remote(
            method,
            path,
            self._cloud_token,
            self._hub_key,
            json=json,
            timeout=seconds,
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        versioned: bool = True,
        json: Any = None,
        seconds: float = REQUEST_TIMEOUT,
    ) -> Any:
        """Send one hub call: renew a refused key once, re-read a gone version once."""
        renewed = reconnected = False
        while True:
            if versioned and self.api_version is None:
                await self.connect()
            version = self.api_version
            key = self._hub_key
            full_path = f"/cc/{version}{path}" if versioned else path
            try:
                return await self._routed(
                    method, full_path, json=json, seconds=seconds, auth=versioned
                )
            except RelayRefused:
                raise
            except InvalidAuth as err:
                if renewed:
                    raise InvalidAuth(
                        f"{_label(full_path)}: a fresh hub key was refused too"
                    ) from err
                renewed = True
                _LOGGER.debug("%s: hub key refused (%s); renewing", self._name, err)
                await self._renew_hub_key(key)
            except _VersionGone as err:
                if not versioned or reconnected:
                    raise ApiVersionGone(
                        f"{_label(full_path)}: the hub no longer serves this API"
                    ) from err
                reconnected = True
                _LOGGER.debug("%s: API %s gone; reading /hub", self._name, version)
                await self._reconnect(version)

    async def _reconnect(self, stale: str | None) -> None:
        async with self._connect_lock:
            if self.api_version == stale:
                await self.connect()

    # -- hub calls ------------------------------------------------------------

    async def connect(self) -> HubMeta:
        """Read `GET /hub` and its API version; InvalidResponse for another hub."""
        meta = HubMeta.from_json(await self._call("GET", "/hub", versioned=False))
        if meta.hub_id != self.hub_id:
            raise InvalidResponse("another Cozify Hub answers at this address")
        if self.api_version not in (None, meta.api_version):
            _LOGGER.debug(
                "%s: API version %s → %s", meta.name, self.api_version, meta.api_version
            )
        self.hub = meta
        self.api_version = meta.api_version
        return meta

    async def devices(self) -> dict[str, CozifyDevice]:
        """Return every device with its state."""
        return parse_devices(await self._call("GET", "/devices"))

    async def poll(self, ts: int) -> PollDelta:
        """Return the changes since hub time `ts` (ms; 0 for everything)."""
        payload = await self._call("GET", f"/hub/poll?ts={ts}", seconds=POLL_TIMEOUT)
        return parse_poll(payload, since=ts)

    async def rooms(self) -> dict[str, str]:
        """Room id → name."""
        return parse_rooms(await self._call("GET", "/rooms"))

    async def scenes(self) -> dict[str, Scene]:
        """Scene id → scene."""
        return parse_scenes(await self._call("GET", "/scenes"))

    async def command(self, commands: list[dict[str, Any]]) -> None:
        """Send device commands (`CMD_DEVICE_ON` …); the hub acts a moment later."""
        await self._call("PUT", "/devices/command", json=commands)

    async def scene_command(self, commands: list[dict[str, Any]]) -> None:
        """Send scene commands (`CMD_SCENE_ON` / `CMD_SCENE_OFF`)."""
        await self._call("PUT", "/scenes/command", json=commands)

    async def close(self) -> None:
        """Nothing to release: the cloud token must outlive the client."""


__all__ = [
    "DEFAULT_CLOUD_URL",
    "HUB_PORT",
    "LOCAL_RETRY_SECONDS",
    "POLL_TIMEOUT",
    "PROBE_TIMEOUT",
    "REQUEST_TIMEOUT",
    "TOKEN_REFRESH_AGE",
    "ApiVersionGone",
    "CozifyCloud",
    "CozifyHubClient",
    "RelayRefused",
    "cloud_base_url",
    "hub_base_url",
    "probe_hub",
]
