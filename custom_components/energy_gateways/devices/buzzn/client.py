"""Asyncio client for the BUZZN Broker API (HTTPS/JSON, bearer session token).

`POST /login` with the account's e-mail and password returns a session token
(a JWT) and, from the reference backend, its expiry (`expiredTimestamp`). The
client renews it min(60 s, half its lifetime) before it runs out (15 minutes
when the server does not say) and once more when a protected call answers 401
or 422 (a malformed token, or one signed before a server restart), then retries
that call once. Only a 401 on `/login` itself means wrong credentials
(InvalidAuth); a 403 there means the account is not active (AccountInactive).

"No data" is no error: 206, or 200 with `{}`, `null` or empty maps, gives None
(or an empty list); 204 means "nothing" (no challenge). The optional features
of `OPTIONAL_FEATURES` are missing on the reference backend: their 404 raises
FeatureAbsent, is remembered in `absent`, and later calls raise it without a
request. Neither the password, the token nor the e-mail address goes into a log
line, an error or a repr. Raises only the integration's own errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from ...transport import http
from ...transport.errors import (
    EndpointGone,
    Forbidden,
    GatewayError,
    InvalidAuth,
    InvalidHost,
    InvalidResponse,
    Rejected,
)
from ...transport.token import Clock, Grant, TokenClient, TokenKeeper, call_with_token
from ...transport.values import as_float, as_str, mapping
from .models import (
    Challenge,
    ChallengeStatus,
    CommunitySaving,
    Disaggregation,
    GroupHistory,
    Hint,
    History,
    PerCapita,
    Profile,
    Saving,
    error_text,
    parse_challenge_status,
    parse_challenges,
    parse_community_saving,
    parse_disaggregation,
    parse_group_history,
    parse_hints,
    parse_individual_history,
    parse_per_capita,
    parse_profile,
    parse_saving,
)

_LOGGER = logging.getLogger(__name__)

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
PROFILE_PATH = "/profile"
UPDATE_PASSWORD_PATH = "/update-password"  # noqa: S105 (a path)
INDIVIDUAL_HISTORY_PATH = "/individual-consumption-history"
GROUP_HISTORY_PATH = "/group-consumption-history"
INDIVIDUAL_DISAGGREGATION_PATH = "/individual-disaggregation"
GROUP_DISAGGREGATION_PATH = "/group-disaggregation"
INDIVIDUAL_SAVING_PATH = "/individual-global-challenge"
COMMUNITY_SAVING_PATH = "/community-global-challenge"
PER_CAPITA_PATH = "/per-capita-consumption"
HINTS_PATH = "/hints"
HINT_READ_PATH = "/hint/mark-read/{id}"
CHALLENGES_PATH = "/challenges"
CHALLENGE_START_PATH = "/challenges/start/{id}"
CHALLENGE_STATUS_PATH = "/challenges/status"
CHALLENGE_QUIT_PATH = "/challenges/quit"
LIVE_PATH = "/live"
SOCKETIO_PATH = "/socket.io/"

FEATURE_LOGOUT = "logout"
FEATURE_HINTS = "hints"
FEATURE_CHALLENGES = "challenges"
FEATURE_UPDATE_PASSWORD = "update_password"  # noqa: S105 (a name)
OPTIONAL_FEATURES = frozenset(
    {FEATURE_LOGOUT, FEATURE_HINTS, FEATURE_CHALLENGES, FEATURE_UPDATE_PASSWORD}
)
"""Seed-only features a real server may lack (404): they just disappear."""

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=20)
DEFAULT_SESSION_LIFETIME = 15 * 60.0
"""Seconds a session lives when the login answer does not say (the backend's)."""
SESSION_RENEW_MARGIN = 60.0
"""Renew at most this many seconds before expiry (and at most half the lifetime)."""
TOKEN_REJECTED = (401, 422)
"""Statuses of a protected call that mean: the session token is not accepted."""
REASON_LENGTH = 200
"""Characters of a server's refusal text kept in `Rejected`."""

# Statuses whose body the client reads itself instead of the shared mapping.
_INSPECTED = frozenset({400, 401, 403, 404, 422})


class FeatureAbsent(EndpointGone):
    """The server does not offer this optional feature (404); see `absent`."""

    def __init__(self, feature: str) -> None:
        super().__init__(f"{feature}: not offered by the server")
        self.feature = feature


class AccountInactive(Forbidden):
    """The credentials are right but the account is not active (403 on login)."""


@dataclass(frozen=True, slots=True)
class _Answer:
    """One response: its status and its body as JSON (None if empty)."""

    status: int
    payload: Any = field(default=None, repr=False)
    """The login's carries the session token: never in a repr."""
    malformed: bool = False
    """True when the body was not JSON."""


async def _read_answer(response: aiohttp.ClientResponse) -> _Answer:
    status = response.status
    if status == 204:
        await response.read()
        return _Answer(status)
    body = await response.read()
    if not body.strip():
        return _Answer(status)
    try:
        return _Answer(status, json.loads(body))
    except ValueError:
        return _Answer(status, malformed=True)


def _begin(moment: datetime | None) -> dict[str, int] | None:
    """Return the `begin` query parameter: integer epoch seconds (naive = UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return {"begin": int(moment.timestamp())}


def _reason(answer: _Answer, fallback: str) -> str:
    text = error_text(answer.payload) or fallback
    return " ".join(text.split())[:REASON_LENGTH]


class BuzznClient(TokenClient):
    """One BUZZN account on one Broker API server."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        email: str,
        password: str,
        *,
        clock: Clock | None = None,
    ) -> None:
        """Raise InvalidHost if `base_url` is not a host or an http(s) URL."""
        url = http.base_url(base_url)
        if url is None:
            raise InvalidHost("not a host name, address or http(s) URL")
        self._session = session
        self._base_url = url
        self._email = email
        self._password = password
        self._clock = clock
        self._tokens = TokenKeeper(
            self._authenticate,
            max_margin=SESSION_RENEW_MARGIN,
            default_lifetime=DEFAULT_SESSION_LIFETIME,
            clock=clock,
        )
        self._absent: set[str] = set()
        self.requests = 0
        """Requests sent so far (logins and logouts included; not live streams)."""

    def __repr__(self) -> str:
        return f"BuzznClient({self._base_url!r})"

    @property
    def base_url(self) -> str:
        """`http(s)://host[:port]`."""
        return self._base_url

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session (the live streams use it too)."""
        return self._session

    @property
    def absent(self) -> frozenset[str]:
        """Optional features (`OPTIONAL_FEATURES`) the server answered 404 for."""
        return frozenset(self._absent)

    def _now(self) -> datetime:
        if self._clock is None:
            return datetime.now(UTC)
        return datetime.fromtimestamp(self._clock(), UTC)

    # -- transport --------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        token: str | None,
        *,
        label: str | None = None,
        **kwargs: Any,
    ) -> _Answer:
        self.requests += 1
        return await http.request(
            self._session,
            method,
            self._base_url + path,
            label=label or path,
            read=_read_answer,
            ok=frozenset(range(200, 300)) | _INSPECTED,
            headers=http.bearer(token),
            client_timeout=REQUEST_TIMEOUT,
            **kwargs,
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        label: str | None = None,
        feature: str | None = None,
        auth: bool = True,
        write: bool = False,
        item: bool = False,
        **kwargs: Any,
    ) -> _Answer:
        """Send one API call; return its 2xx answer or raise the mapped error.

        A protected call renews the token once on 401/422. A 404 of an optional
        `feature` raises FeatureAbsent and remembers it; a 400 of a `write`, or
        a 404 of a call about one `item` (an unknown id), raises Rejected with
        the server's reason.
        """
        label = label or path
        if feature is not None and feature in self._absent:
            raise FeatureAbsent(feature)

        async def send(token: str | None) -> _Answer:
            answer = await self._send(method, path, token, label=label, **kwargs)
            if token is not None and answer.status in TOKEN_REJECTED:
                raise InvalidAuth(f"{label}: session rejected ({answer.status})")
            return answer

        if auth:
            answer = await call_with_token(self._tokens, send, label=label)
        else:
            answer = await send(None)
        status = answer.status
        if 200 <= status < 300:
            return answer
        if status == 404 and feature is not None:
            self._absent.add(feature)
            _LOGGER.debug("%s: %s not offered (404)", self._base_url, feature)
            raise FeatureAbsent(feature)
        if status == 400 and write:
            raise Rejected(_reason(answer, "HTTP 400"))
        if status == 404 and item:
            raise Rejected(_reason(answer, "unknown id"))
        raise http.status_error(status, label)

    async def _get_payload(
        self, path: str, *, feature: str | None = None, auth: bool = True, **kwargs: Any
    ) -> Any:
        """GET a JSON body; None for "no data" (204, 206, an empty body)."""
        answer = await self._call("GET", path, feature=feature, auth=auth, **kwargs)
        if answer.status in (204, 206):
            return None
        if answer.malformed:
            raise InvalidResponse(f"{path}: not JSON")
        return answer.payload

    # -- authentication ---------------------------------------------------

    async def _authenticate(self) -> Grant:
        issued = self._clock() if self._clock is not None else time.time()
        answer = await self._send(
            "POST",
            LOGIN_PATH,
            None,
            json={"user": self._email, "password": self._password},
        )
        status = answer.status
        if status == 401:
            raise InvalidAuth("login refused")
        if status == 403:
            raise AccountInactive("the account is not active")
        if status != 200:
            raise http.status_error(status, LOGIN_PATH)
        data = mapping(answer.payload)
        token = as_str(data.get("sessionToken"))
        if token is None:
            raise InvalidResponse(f"{LOGIN_PATH}: no session token")
        expires_at = as_float(data.get("expiredTimestamp"))
        if expires_at is not None and expires_at >= 1e12:
            expires_at /= 1000  # epoch ms
        if expires_at is not None and expires_at <= issued:
            _LOGGER.debug("%s: session expiry in the past; ignored", self._base_url)
            expires_at = None
        _LOGGER.debug("%s: logged in", self._base_url)
        return Grant(token, expires_at=expires_at)

    async def login(self) -> None:
        """Log in now.

        InvalidAuth on wrong credentials, AccountInactive (a Forbidden) when the
        account is not active.
        """
        await self._tokens.login()

    async def logout(self) -> None:
        """End the session on the server and forget the token; never raises.

        Skipped without a session or when the server has no `/logout`.
        """
        token = self._tokens.token
        if token is None:
            return
        self._tokens.forget()
        if FEATURE_LOGOUT in self._absent:
            return
        try:
            answer = await self._send("GET", LOGOUT_PATH, token)
        except GatewayError as err:
            _LOGGER.debug("%s: logout failed: %s", self._base_url, err)
            return
        if answer.status == 404:
            self._absent.add(FEATURE_LOGOUT)

    async def authorized[T](
        self, request: Callable[[str], Awaitable[T]], *, label: str
    ) -> T:
        """Call `request(token)` with a valid session token.

        When it raises InvalidAuth (the token was refused) the client logs in
        again once and retries; for requests the client does not send itself
        (the live WebSocket's handshake).
        """
        return await call_with_token(self._tokens, request, label=label)

    async def live_headers(self) -> dict[str, str]:
        """Return the Authorization header of a valid session (logs in if needed)."""
        return {"Authorization": f"Bearer {await self._tokens.valid()}"}

    def live_url(self, path: str, query: Mapping[str, str | int] | None = None) -> str:
        """Return the `ws://` or `wss://` URL of `path` on the server (http → ws)."""
        scheme, rest = self._base_url.split("://", 1)
        url = f"{'wss' if scheme == 'https' else 'ws'}://{rest}{path}"
        return f"{url}?{urlencode(query)}" if query else url

    # -- profile ----------------------------------------------------------

    async def get_profile(self) -> Profile:
        """Read the account's profile; InvalidResponse when it has no id."""
        profile = parse_profile(await self._get_payload(PROFILE_PATH))
        if profile is None:
            raise InvalidResponse(f"{PROFILE_PATH}: no profile")
        return profile

    async def update_profile(
        self, *, flat_size: float | None = None, inhabitants: int | None = None
    ) -> None:
        """Set the flat size (m²) and/or the number of inhabitants.

        Nothing given: no request. Raises Rejected with the server's reason when
        it refuses the values (400).
        """
        body: dict[str, Any] = {}
        if flat_size is not None:
            body["flatSize"] = flat_size
        if inhabitants is not None:
            body["inhabitants"] = inhabitants
        if body:
            await self._call("PUT", PROFILE_PATH, write=True, json=body)

    async def update_password(self, password: str) -> None:
        """Set a new password (optional feature `update_password`).

        Raises Rejected when the server refuses it (400), FeatureAbsent when the
        server has no such endpoint. The client uses the new one from then on.
        """
        await self._call(
            "PUT",
            UPDATE_PASSWORD_PATH,
            feature=FEATURE_UPDATE_PASSWORD,
            write=True,
            json={"password": password},
        )
        self._password = password

    # -- consumption ------------------------------------------------------

    async def get_individual_history(
        self, day_start: datetime | None = None
    ) -> History | None:
        """Read the own readings and 15-minute power of a day (default today)."""
        return parse_individual_history(
            await self._get_payload(INDIVIDUAL_HISTORY_PATH, params=_begin(day_start))
        )

    async def get_group_history(self) -> GroupHistory | None:
        """Read today's group, producer and member histories."""
        return parse_group_history(await self._get_payload(GROUP_HISTORY_PATH))

    async def get_individual_disaggregation(
        self, begin: datetime | None = None
    ) -> Disaggregation | None:
        """Read the newest slot of the own appliance disaggregation (W each)."""
        return parse_disaggregation(
            await self._get_payload(
                INDIVIDUAL_DISAGGREGATION_PATH, params=_begin(begin)
            )
        )

    async def get_group_disaggregation(
        self, begin: datetime | None = None
    ) -> Disaggregation | None:
        """Read the newest slot of the group's appliance disaggregation."""
        return parse_disaggregation(
            await self._get_payload(GROUP_DISAGGREGATION_PATH, params=_begin(begin))
        )

    async def get_individual_saving(self) -> Saving | None:
        """Read today's own saving prognosis and the baseline (kWh)."""
        return parse_saving(await self._get_payload(INDIVIDUAL_SAVING_PATH))

    async def get_community_saving(self) -> CommunitySaving | None:
        """Read the community's saving prognosis (kWh); needs no session."""
        return parse_community_saving(
            await self._get_payload(COMMUNITY_SAVING_PATH, auth=False)
        )

    async def get_per_capita(self) -> PerCapita | None:
        """Read the annualised per-capita consumption, as delivered."""
        return parse_per_capita(await self._get_payload(PER_CAPITA_PATH))

    # -- hints ------------------------------------------------------------

    async def get_hints(self) -> list[Hint]:
        """Read the saving hints (optional feature `hints`)."""
        return parse_hints(await self._get_payload(HINTS_PATH, feature=FEATURE_HINTS))

    async def mark_hint_read(self, hint_id: int) -> None:
        """Mark a hint read; Rejected if the server does not know it (404)."""
        if FEATURE_HINTS in self._absent:
            raise FeatureAbsent(FEATURE_HINTS)
        await self._item_call("POST", HINT_READ_PATH.format(id=int(hint_id)))

    # -- challenges -------------------------------------------------------

    async def get_challenges(self) -> list[Challenge]:
        """Read the challenges the user can start (optional feature `challenges`)."""
        return parse_challenges(
            await self._get_payload(CHALLENGES_PATH, feature=FEATURE_CHALLENGES)
        )

    async def start_challenge(self, challenge_id: int) -> None:
        """Start a challenge; Rejected if the id is not valid (404).

        The server's endpoint is a GET with a side effect: never call this from
        polling.
        """
        if FEATURE_CHALLENGES in self._absent:
            raise FeatureAbsent(FEATURE_CHALLENGES)
        await self._item_call("GET", CHALLENGE_START_PATH.format(id=int(challenge_id)))

    async def get_challenge_status(
        self, now: datetime | None = None
    ) -> ChallengeStatus | None:
        """Read the running (or just ended) challenge; None if there is none (204)."""
        payload = await self._get_payload(
            CHALLENGE_STATUS_PATH, feature=FEATURE_CHALLENGES
        )
        return parse_challenge_status(payload, now or self._now())

    async def quit_challenge(self, challenge_id: int) -> None:
        """Abort a running challenge or acknowledge an ended one.

        Rejected when no such challenge is running or ended recently (404).
        """
        if FEATURE_CHALLENGES in self._absent:
            raise FeatureAbsent(FEATURE_CHALLENGES)
        await self._item_call(
            "POST", CHALLENGE_QUIT_PATH, json={"id": int(challenge_id)}
        )

    async def _item_call(self, method: str, path: str, **kwargs: Any) -> None:
        """Send a call about one hint or challenge: 404 means the id is unknown."""
        await self._call(method, path, write=True, item=True, **kwargs)


__all__ = [
    "FEATURE_CHALLENGES",
    "FEATURE_HINTS",
    "FEATURE_LOGOUT",
    "FEATURE_UPDATE_PASSWORD",
    "OPTIONAL_FEATURES",
    "AccountInactive",
    "BuzznClient",
    "FeatureAbsent",
]
