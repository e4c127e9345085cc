"""Asyncio client for the Carlo Gavazzi EMS gateway (EMS Webapi 1.0.0).

HTTPS REST with a bearer JWT from `POST /v1/auth/login` (an account with the API
role). The token lives 30 minutes; the client reads its `exp` claim (without
checking the signature), logs in again shortly before it runs out and once more
on a 401. Neither the password nor the token goes into a log or an error.
Raises only the integration's own errors.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
import json
import logging
import math
from typing import Any

import aiohttp

from ...transport.errors import InvalidAuth, InvalidResponse
from ...transport.http import SslOption, bearer, request_json
from ...transport.token import Grant, TokenClient, TokenKeeper, call_with_token
from ...transport.values import as_float, as_int, as_str, mapping
from .models import (
    Device,
    GatewayDate,
    HistorySample,
    Load,
    RealtimeSample,
    Signal,
    parse_date,
    parse_devices,
    parse_history,
    parse_loads,
    parse_realtime,
    parse_signals,
    parse_text,
)

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)
TOKEN_LIFETIME = 30 * 60.0
"""Seconds a token lives when it carries no `exp` claim (seed: 30 minutes)."""
TOKEN_REFRESH_MARGIN = 60.0
"""Log in again when fewer seconds than this are left on the token (at most half
its lifetime, see `transport.token`)."""
PAGE_SIZE = 1000
"""Records per page (`limit`; the gateway's default)."""


@dataclass(slots=True)
class RequestCounter:
    """Requests sent inside one `EmsClient.counting()` block."""

    requests: int = 0


_REQUEST_COUNTER: ContextVar[RequestCounter | None] = ContextVar(
    "ems_request_counter", default=None
)


def token_expiry(token: str) -> float | None:
    """Return the `exp` claim (epoch s) of a JWT, unverified; None if absent."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(
            base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        )
    except ValueError:
        return None
    return as_float(mapping(claims).get("exp"))


class EmsClient(TokenClient):
    """One EMS gateway."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        username: str,
        password: str,
        *,
        ssl: SslOption = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._username = username
        self._password = password
        self._ssl = ssl
        self._tokens = TokenKeeper(
            self._authenticate,
            max_margin=TOKEN_REFRESH_MARGIN,
            default_lifetime=TOKEN_LIFETIME,
            clock=clock,
        )
        self.requests = 0
        """Requests sent so far (logins included), for figures."""

    def __repr__(self) -> str:
        return f"EmsClient({self.base_url!r})"

    @contextmanager
    def counting(self) -> Iterator[RequestCounter]:
        """Count the requests this task sends in the block (logins included).

        Other tasks using the client meanwhile (a history import) are not counted.
        """
        counter = RequestCounter()
        reset = _REQUEST_COUNTER.set(counter)
        try:
            yield counter
        finally:
            _REQUEST_COUNTER.reset(reset)

    @property
    def _token(self) -> str | None:
        """The current token (for tests that check it is redacted)."""
        return self._tokens.token

    # -- transport --------------------------------------------------------

    async def _send(
        self, method: str, path: str, token: str | None, **kwargs: Any
    ) -> Any:
        """Send one request and return its JSON body; map every failure."""
        self.requests += 1
        counter = _REQUEST_COUNTER.get()
        if counter is not None:
            counter.requests += 1
        return await request_json(
            self._session,
            method,
            self.base_url + path,
            label=path,
            headers=bearer(token),
            ssl=self._ssl,
            client_timeout=REQUEST_TIMEOUT,
            **kwargs,
        )

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET a protected path; log in again once on a 401."""

        async def get(token: str) -> Any:
            return await self._send("GET", path, token, params=params)

        return await call_with_token(self._tokens, get, label=self.base_url)

    async def _paged(
        self,
        path: str,
        key: str,
        params: Mapping[str, str],
        *,
        total: int | None = None,
    ) -> list[Mapping[str, Any]]:
        """Read pages 1..n of a list endpoint; return each page (its map under `key`).

        Keys other than `key` (a later firmware's additions) are ignored.

        Without `total` the last page is the first one with fewer than
        `PAGE_SIZE` records (a history row counts as one record). With `total`
        (the number of filtered signals) exactly the pages needed for it are read.
        """
        pages: list[Mapping[str, Any]] = []
        last_page = None if total is None else max(1, math.ceil(total / PAGE_SIZE))
        page = 1
        previous: Mapping[str, Any] = {}
        while True:
            payload = mapping(
                await self._get(
                    path, {**params, "limit": str(PAGE_SIZE), "page": str(page)}
                )
            )
            items = payload.get(key)
            if not isinstance(items, dict):
                raise InvalidResponse(f"{path}: page {page} is not a map")
            if page > 1 and items and items == previous:
                raise InvalidResponse(f"{path}: the gateway ignores paging")
            pages.append(payload)
            previous = items
            records = sum(len(v) if isinstance(v, list) else 1 for v in items.values())
            if page == last_page or (last_page is None and records < PAGE_SIZE):
                return pages
            page += 1

    # -- authentication ---------------------------------------------------

    async def login(self) -> None:
        """Log in now; InvalidAuth on wrong credentials (the token stays inside)."""
        await self._tokens.login()

    async def _authenticate(self) -> Grant:
        try:
            payload = await self._send(
                "POST",
                "/v1/auth/login",
                None,
                json={"username": self._username, "password": self._password},
            )
        except InvalidAuth as err:
            raise InvalidAuth("login refused: check the API-role account") from err
        token = as_str(mapping(payload).get("token"))
        if token is None:
            raise InvalidResponse("/v1/auth/login: no token")
        _LOGGER.debug("%s: logged in", self.base_url)
        return Grant(token, expires_at=token_expiry(token) or None)

    # -- system -----------------------------------------------------------

    async def get_api_version(self) -> int:
        """Read `GET /ver` (no token): the probe of a config flow."""
        version = as_int(mapping(await self._send("GET", "/ver", None)).get("api_ver"))
        if version is None:
            raise InvalidResponse("/ver: no api_ver")
        return version

    async def _get_text(self, path: str, key: str) -> str:
        text = parse_text(await self._get(path), key)
        if text is None:
            raise InvalidResponse(f"{path}: no {key}")
        return text

    async def get_serial_number(self) -> str:
        """Return the gateway's serial number (the unique id)."""
        return await self._get_text("/v1/serial-number", "sn")

    async def get_mac(self) -> str:
        """Return the gateway's MAC address."""
        return await self._get_text("/v1/mac", "mac")

    async def get_firmware(self) -> str:
        """Return the firmware version string, e.g. "EMS_1.0.0.0.250101.000000"."""
        return await self._get_text("/v1/firmware", "fw")

    async def get_part_number(self) -> str:
        """Return the gateway's part number, e.g. "EMS10AV5S1X"."""
        return await self._get_text("/v1/part-number", "pn")

    async def get_date(self) -> GatewayDate:
        """Return the gateway's local date and time zone."""
        return parse_date(await self._get("/v1/date"))

    # -- configuration tree -----------------------------------------------

    async def get_devices(self) -> dict[int, Device]:
        """Every device, keyed by UID."""
        return parse_devices(await self._get("/v1/devices"))

    async def get_loads(self) -> dict[int, Load]:
        """Every load, keyed by UID."""
        return parse_loads(await self._get("/v1/loads"))

    async def get_signals(self) -> dict[int, Signal]:
        """Every signal, keyed by UID (all pages)."""
        signals: dict[int, Signal] = {}
        for page in await self._paged("/v1/signals", "signals", {}):
            signals.update(parse_signals(page))
        return signals

    # -- values -----------------------------------------------------------

    async def get_realtime(
        self, uids: Iterable[int] | None = None, *, signals: int | None = None
    ) -> dict[int, RealtimeSample]:
        """Return the latest sample of every (or each given) enabled signal.

        `signals` is the number of signals the gateway has: pages are read until
        it is covered, as the gateway may leave disabled signals out of a page
        and a short page then does not mean the last one.
        """
        params, total = _uid_filter(uids)
        samples: dict[int, RealtimeSample] = {}
        pages = await self._paged(
            "/v1/signals/realtime",
            "realtime",
            params,
            total=total if uids is not None else signals,
        )
        for page in pages:
            samples.update(parse_realtime(page))
        return samples

    async def get_history(
        self, uids: Iterable[int], start: datetime, end: datetime
    ) -> dict[int, list[HistorySample]]:
        """Return the recorded rows of the given signals from `start` to `end`."""
        params, _ = _uid_filter(uids)
        params["start"] = str(int(start.timestamp() * 1000))
        params["end"] = str(int(end.timestamp() * 1000))
        history: dict[int, list[HistorySample]] = {}
        for page in await self._paged("/v1/signals/history", "history", params):
            for uid, rows in parse_history(page).items():
                history.setdefault(uid, []).extend(rows)
        return history


def _uid_filter(uids: Iterable[int] | None) -> tuple[dict[str, str], int | None]:
    if uids is None:
        return {}, None
    wanted = sorted(set(uids))
    return {"uids": ",".join(map(str, wanted))}, len(wanted)


__all__ = ["EmsClient", "SslOption", "token_expiry"]
