"""BUZZN broker simulator: the Broker API (REST), ``/live`` WebSocket and Socket.IO 2."""

import asyncio
import base64
from collections import Counter
from collections.abc import Callable
import json
import logging
import math
import secrets
import time
from typing import Any, ClassVar
import uuid

from aiohttp import WSCloseCode, WSMsgType, web

from custom_components.energy_gateways.transport.errors import InvalidResponse
from custom_components.energy_gateways.transport.socketio import (
    EngineIO,
    EnginePacket,
    SocketIO,
    SocketPacket,
    decode_engine,
    decode_socket,
    encode_engine,
    encode_socket,
    event,
)

from ..params import check_durations
from ..secrets import remember
from ..server import AccountServer, Handler, send_truncated
from .data import (
    DAY,
    NEW_APPLIANCE,
    SLOT,
    Household,
    Meter,
    Producer,
    day_start,
    disaggregation,
    readings,
    slot_powers,
    stamp,
    tiny_png,
)
from .faults import ONE_SHOT, BuzznFault, parse_fault, validate_params

_LOGGER = logging.getLogger(__name__)

VARIANTS = ("document", "reference")
"""``document``: everything in the API document; ``reference``: the reference backend."""
DEFAULT_SESSION_LIFETIME = {"document": 3600.0, "reference": 900.0}
OTHER_METER_IDS = (
    "52d7c87f8c26433dbd095048ad30c8cf",
    "117154df05874f41bfdaebcae6abfe98",
)
PRODUCER_METER_IDS = (
    "dca0ec32454e4bdd9ed719fbc9fb75d6",
    "5e769d5b83934bccae11a8fa95e0dc5f",
)
HISTORY_DAYS = 10
"""Days of history before the simulator's start."""
CHALLENGE_SECONDS = DAY
"""How long a started challenge runs."""
PING_GRACE = 5.0
"""Socket.IO: seconds past pingInterval without a ping before data stops."""
NEWEST_WITH_NEW_APPLIANCE = 4
"""Disaggregation entries (newest first) that list NEW_APPLIANCE under that fault."""
PUBLIC_ROUTES = frozenset(
    {"login", "set_password", "community_global_challenge", "socketio"}
)
"""Routes answered without a session token."""
DATA_ROUTES = frozenset(
    {
        "individual_consumption_history",
        "group_consumption_history",
        "individual_disaggregation",
        "group_disaggregation",
        "individual_global_challenge",
        "community_global_challenge",
        "per_capita_consumption",
        "challenges",
        "challenges_status",
    }
)
"""Routes whose answers MALFORMED_JSON and TRUNCATED_BODY break."""
SEED_ONLY_ROUTES = frozenset(
    {
        "logout",
        "hints",
        "hint_mark_read",
        "challenges",
        "challenges_start",
        "challenges_status",
        "challenges_quit",
        "update_password",
    }
)
"""Routes the reference backend does not have (404 there)."""
MIN_PASSWORD = 8
HINTS: tuple[dict[str, Any], ...] = (
    {
        "id": 1,
        "icon": "https://mybuzzn.example/icons/standby.svg",
        "headline": "Standby vermeiden",
        "description": "Schalte Geräte im Standby ganz aus: das spart bis zu 10 %.",
    },
    {
        "id": 2,
        "icon": "https://mybuzzn.example/icons/fridge.svg",
        "headline": "Kühlschrank prüfen",
        "description": "7 °C im Kühlschrank genügen; jedes Grad weniger kostet 6 %.",
    },
    {
        "id": 3,
        "icon": "https://mybuzzn.example/icons/washing.svg",
        "headline": "Waschen bei 30 °C",
        "description": "Die meisten Wäschen werden auch bei 30 °C sauber.",
    },
    {
        "icon": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"/>',
        "headline": "Licht aus",
        "description": "Licht aus, wenn du den Raum verlässt.",
    },
)
CHALLENGES: tuple[dict[str, Any], ...] = (
    {
        "id": 1,
        "name": "Nachts auf Schleichfahrt!",
        "description": "Senke deinen Verbrauch zwischen 0 und 6 Uhr um 10 %.",
        "total": 3,
        "succeeded": 1,
    },
    {
        "id": 2,
        "name": "Standby-Jagd",
        "description": "Finde und beseitige drei Standby-Verbraucher.",
        "total": 2,
        "succeeded": 1,
    },
    {
        "id": 3,
        "name": "Kühl bleiben",
        "description": "Taue deinen Gefrierschrank ab.",
        "total": 1,
        "succeeded": 0,
    },
)
SUCCEEDING_CHALLENGES = frozenset({1, 3})
"""Challenges that end ``succeeded`` (the others end ``failed``)."""
EXTRA_PROFILE = {"newsletter": True, "theme": {"dark": False}}
EXTRA_LIVE = {"group_consumption": 1234567, "version": "2.1"}
EXTRA_HISTORY = {"temperature": {"2020-01-15 00:15:00": 4.5}}
REFERENCE_PAGE = (
    "<!DOCTYPE html><html><head><title>myBuzzn live</title></head>"
    "<body><h1>Live data test page</h1><script src='/socket.io.js'></script>"
    "</body></html>"
)
NOT_FOUND_PAGE = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>404 Not Found'
    "</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the "
    "server.</p>\n"
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _stringify(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return [_stringify(item) for item in value]
    if isinstance(value, dict):
        return {key: _stringify(item) for key, item in value.items()}
    return value


class _Close:
    """Queue marker: close the live connection after what is queued before it."""


CLOSE = _Close()

type _Item = tuple[str, int | None] | _Close


class _LiveClient:
    """One open live connection (``ws``: /live, ``sio``: Socket.IO) and its queue."""

    def __init__(
        self,
        kind: str,
        request: web.Request,
        ws: web.WebSocketResponse,
        sid: str,
        subscribed: bool,
    ) -> None:
        self.kind = kind
        transport = request.transport
        self.transport = transport if isinstance(transport, asyncio.Transport) else None
        self.ws = ws
        self.sid = sid
        self.subscribed = subscribed
        """Whether the meter id was known: live data is sent (else the greeting only)."""
        self.joined = kind == "ws"
        """Socket.IO: joined namespace ``/live``."""
        self.dropped = False
        """Socket.IO: taken off the broadcast list (no ping in time)."""
        self.last_ping = time.monotonic()
        self.queue: asyncio.Queue[_Item] = asyncio.Queue()
        self.closing = False


class BuzznSimulator(AccountServer):
    """A simulated BUZZN broker (the myBUZZN app's backend) over plain HTTP.

    ``variant`` ``document`` serves everything in the API document;
    ``reference`` behaves as the reference backend (no hints, challenges,
    logout or update-password; other error objects; no plain /live WebSocket).
    Live messages go out every ``live_interval`` seconds (a ``loop.call_later``
    timer) to every /live and Socket.IO client.
    """

    CERT_STEM = "buzzn"
    CERT_NAME = "BUZZN broker"
    LOG_NAME = "BUZZN simulator"
    NAME: ClassVar[str] = "Erika Mustermann"

    def __init__(
        self,
        *,
        variant: str = "document",
        email: str = "erika@example.com",
        password: str = "buzzn-password",  # noqa: S107 - a simulator default
        session_lifetime: float | None = None,
        live_interval: float = 20.0,
        wrap_data: bool = True,
        profile_id: int = 1,
        meter_id: str = "b4234cd4bed143a6b9bd09e347e17d34",
        ping_interval: float = 25.0,
        ping_timeout: float = 60.0,
        ping_grace: float = PING_GRACE,
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}")
        lifetime = (
            DEFAULT_SESSION_LIFETIME[variant]
            if session_lifetime is None
            else session_lifetime
        )
        check_durations(
            {
                "session_lifetime": lifetime,
                "live_interval": live_interval,
                "ping_interval": ping_interval,
                "ping_timeout": ping_timeout,
            },
            {"ping_grace": ping_grace},
        )
        super().__init__(password)
        self.variant = variant
        self.email = email
        self.session_lifetime = lifetime
        """Seconds a new session token stays valid."""
        self.live_interval = live_interval
        self.wrap_data = wrap_data
        """Plain /live: messages as ``{"data": "<json>"}`` (True) or the object."""
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.ping_grace = ping_grace
        """Socket.IO: data stops after ping_interval + ping_grace s without a ping."""
        self.password_token = "set-" + secrets.token_hex(16)
        """The user token /set-password accepts (not a session token)."""
        for secret in (email, password, self.password_token):
            remember(secret)
        self.member_ids = (profile_id, profile_id + 1, profile_id + 2)
        self.meter_ids = (meter_id, *OTHER_METER_IDS)
        self.profile: dict[str, Any] = {
            "id": profile_id,
            "name": "Mustermann",
            "firstName": "Erika",
            "nick": "erika",
            "mail": email,
            "flatSize": 60.0,
            "inhabitants": 2,
            "groupAddress": "Musterstraße 1",
            "meterId": meter_id,
            "avatar": base64.b64encode(tiny_png(0x2E, 0x8B, 0x57)).decode(),
            "registration_date": "2020-01-15 10:01:10.123456",
            "baseline_state": "READY",
        }
        """The user's profile (mutable; PUT /profile changes it)."""
        self.avatars = {
            profile_id + 1: base64.b64encode(tiny_png(0xFF, 0xA5, 0x00)).decode(),
            profile_id + 2: base64.b64encode(tiny_png(0x46, 0x82, 0xB4)).decode(),
        }
        self.hints_read: set[int] = set()
        """Ids of the hints marked read (no longer listed)."""
        self.challenge_running: int | None = None
        """Id of the started challenge (also after it ended, until quit)."""
        self.challenge_started = 0.0
        """Epoch seconds when challenge_running started."""
        self.requests: Counter[str] = Counter()
        """Requests per path (control paths under ``/_sim`` are not counted)."""
        self.logins = 0
        """Successful logins."""
        self.messages_sent = 0
        """Live data messages sent (one per connection per push)."""
        self.sent_log: list[tuple[float, int]] = []
        """(time.monotonic() just before sending, message ``date`` ms) per live data message."""
        self.households = (
            Household(1.0, 1.6e15, 0.3),
            Household(0.8, 1.7e15, 1.1),
            Household(1.3, 1.5e15, 2.0),
        )
        self.producers = (Producer(8000.0, 1.2e14), Producer(5000.0, 0.8e14))
        self._faults: dict[BuzznFault, dict[str, Any]] = {}
        self._clients: set[_LiveClient] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._live_timer: asyncio.TimerHandle | None = None
        self._served_consumption: int | None = None
        self._history_start = day_start(time.time() - HISTORY_DAYS * DAY)

    # ---- lifecycle -------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve plain HTTP (port 0 picks a free port); live timer starts."""
        await self._start(host, port, tls_on=False, cert_dir=None)
        self._history_start = day_start(time.time() - HISTORY_DAYS * DAY)
        self._schedule_live()

    async def stop(self) -> None:
        """Stop the live timer, every live connection and the server."""
        if self._live_timer is not None:
            self._live_timer.cancel()
            self._live_timer = None
        for client in list(self._clients):
            if client.transport is not None:
                client.transport.abort()
        await super().stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _fresh_boot(self) -> None:
        # a restarted backend signs with another key: old tokens are unknown
        self._tokens.clear()

    def _application(self) -> web.Application:
        @web.middleware
        async def middleware(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            return await self._middleware(request, handler)

        routes = [
            web.post("/login", self._post_login, name="login"),
            web.get("/logout", self._get_logout, name="logout"),
            web.get("/hints", self._get_hints, name="hints"),
            web.post(
                "/hint/mark-read/{id}", self._post_hint_read, name="hint_mark_read"
            ),
            web.get("/challenges", self._get_challenges, name="challenges"),
            web.get("/challenges/start/{id}", self._get_start, name="challenges_start"),
            web.get("/challenges/status", self._get_status, name="challenges_status"),
            web.post("/challenges/quit", self._post_quit, name="challenges_quit"),
            web.get(
                "/individual-consumption-history",
                self._get_individual_history,
                name="individual_consumption_history",
            ),
            web.get(
                "/group-consumption-history",
                self._get_group_history,
                name="group_consumption_history",
            ),
            web.get(
                "/individual-disaggregation",
                self._get_individual_disaggregation,
                name="individual_disaggregation",
            ),
            web.get(
                "/group-disaggregation",
                self._get_group_disaggregation,
                name="group_disaggregation",
            ),
            web.get("/profile", self._get_profile, name="profile"),
            web.put("/profile", self._put_profile, name="profile_update"),
            web.post("/set-password", self._post_set_password, name="set_password"),
            web.put(
                "/update-password", self._put_update_password, name="update_password"
            ),
            web.get(
                "/assets/group-profile-pictures",
                self._get_pictures,
                name="group_profile_pictures",
            ),
            web.get(
                "/individual-global-challenge",
                self._get_individual_global,
                name="individual_global_challenge",
            ),
            web.get(
                "/community-global-challenge",
                self._get_community_global,
                name="community_global_challenge",
            ),
            web.get(
                "/per-capita-consumption",
                self._get_per_capita,
                name="per_capita_consumption",
            ),
            web.get("/live", self._get_live, name="live"),
            web.get("/socket.io/", self._get_socketio, name="socketio"),
        ]
        if self.variant == "reference":
            routes = [
                route
                for route in routes
                if route.kwargs["name"] not in SEED_ONLY_ROUTES
            ]
        app = web.Application(middlewares=[middleware])
        app.add_routes(
            [
                *routes,
                # simulator control, never faulted, counted or authenticated
                web.get("/_sim/status", self._sim_status),
                web.post("/_sim/push", self._sim_push),
                web.post("/_sim/drop_streams", self._sim_drop_streams),
                *self._control_routes(),
            ]
        )
        return app

    # ---- accounts and sessions ---------------------------------------------------

    def expire_sessions_now(self) -> None:
        """Every token issued so far answers 401 from now on; a new login works."""
        self.expire_tokens_now()

    def issue_token(self, lifetime: float | None = None) -> str:
        """Return a valid session token without a login (a JWT-looking string)."""
        now = time.time()
        expires = now + (self.session_lifetime if lifetime is None else lifetime)
        header = _b64url(b'{"typ":"JWT","alg":"HS256"}')
        claims = {
            "iat": int(now),
            "nbf": int(now),
            "jti": str(uuid.uuid4()),
            "exp": int(expires),
            "identity": self.profile["id"],
            "fresh": False,
            "type": "access",
        }
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        token = f"{header}.{payload}.{_b64url(secrets.token_bytes(32))}"
        return self._tokens.issue(token, expires - now)

    # ---- faults ------------------------------------------------------------------

    def set_fault(self, fault: str, **params: Any) -> None:
        """Switch a fault on (ValueError for unknown names or bad parameters).

        ``drop_streams`` acts at once and is not kept.
        """
        fault = parse_fault(fault) if not isinstance(fault, BuzznFault) else fault
        checked = validate_params(fault, params)
        if fault in ONE_SHOT:
            self.drop_streams()
            return
        self._faults[fault] = checked

    def clear_fault(self, fault: str) -> None:
        """Switch one fault off (no-op if it was off)."""
        fault = parse_fault(fault) if not isinstance(fault, BuzznFault) else fault
        self._faults.pop(fault, None)

    def clear_faults(self) -> None:
        """Switch every fault off."""
        self._faults.clear()

    @property
    def faults(self) -> dict[str, dict[str, Any]]:
        """Active faults with their parameters."""
        return {fault.value: dict(params) for fault, params in self._faults.items()}

    # ---- values --------------------------------------------------------------------

    def _meters(self) -> dict[str, Meter]:
        return dict(zip(self.meter_ids, self.households, strict=True))

    def live_message(self, now: float | None = None) -> dict[str, Any]:
        """Return the live object at epoch ``now`` (faults not applied)."""
        now = time.time() if now is None else now
        production = sum(producer.power_w(now) for producer in self.producers)
        return {
            "date": int(now * 1000),
            "group_production": round(production * 1000),
            "group_users": [
                {
                    "id": member,
                    "meter_id": meter,
                    "consumption": household.counter(now),
                    "power": round(household.power_w(now) * 1000),
                }
                for member, meter, household in zip(
                    self.member_ids, self.meter_ids, self.households, strict=True
                )
            ],
        }

    def _served_live(self) -> dict[str, Any] | None:
        """Return the live object with the value faults applied (None: EMPTY_LIVE)."""
        if BuzznFault.EMPTY_LIVE in self._faults:
            return None
        message = self.live_message()
        own = message["group_users"][0]
        glitch = self._faults.get(BuzznFault.GLITCH_COUNTER)
        if glitch is None:
            self._served_consumption = own["consumption"]
        elif glitch["mode"] == "zero":
            own["consumption"] = 0
        else:
            previous = self._served_consumption
            if previous is None:
                previous = own["consumption"]
            own["consumption"] = previous - int(glitch["amount"])
        if BuzznFault.MISSING_FIELD in self._faults:
            del own["power"]
        if BuzznFault.MEMBER_WITHOUT_READINGS in self._faults:
            message["group_users"][1].update(consumption=None, power=None)
        if BuzznFault.EXTRA_FIELDS in self._faults:
            message.update(EXTRA_LIVE)
            for user in message["group_users"]:
                user["tariff"] = "Basis"
        if BuzznFault.NUMBERS_AS_STRINGS in self._faults:
            message = _stringify(message)
        return message

    def _day_of(self, request: web.Request, default: float) -> float:
        """Start of the UTC day of ``begin`` (epoch s); ValueError when not a number."""
        return day_start(self._begin(request, default))

    @staticmethod
    def _begin(request: web.Request, default: float) -> float:
        text = request.query.get("begin")
        if text is None or not text.strip():
            return default
        value = float(text)
        if not math.isfinite(value):
            raise ValueError("begin is not finite")
        return value

    def _has_day(self, day: float, now: float) -> bool:
        return (
            BuzznFault.NO_HISTORY not in self._faults
            and self._history_start <= day <= now
            and now >= day + 4.2
        )

    def individual_history(self, day: float, now: float) -> dict[str, Any] | None:
        """``energy`` and ``power`` of the own meter on that day (None: no data)."""
        if not self._has_day(day, now):
            return None
        own = self.households[0]
        return {"energy": readings(own, day, now), "power": slot_powers(own, day, now)}

    def group_history(self, now: float) -> dict[str, Any] | None:
        """Today's group, member and producer data (None: no data)."""
        day = day_start(now)
        if not self._has_day(day, now):
            return None
        members: dict[str, dict[str, dict[str, Any]]] = {
            str(member): {
                "energy": readings(household, day, now),
                "power": slot_powers(household, day, now),
            }
            for member, household in zip(self.member_ids, self.households, strict=True)
        }
        consumed_energy: dict[str, int] = {}
        for member in members.values():
            for key, value in member["energy"].items():
                consumed_energy[key] = consumed_energy.get(key, 0) + value
        consumed_power: dict[str, float] = {}
        for member in members.values():
            for key, value in member["power"].items():
                consumed_power[key] = round(consumed_power.get(key, 0.0) + value, 1)
        first, second = self.producers
        return {
            "consumed_energy": consumed_energy,
            "consumed_power": consumed_power,
            "group_users": members,
            "produced_first_meter_energy": readings(first, day, now),
            "produced_first_meter_power": slot_powers(first, day, now),
            "produced_second_meter_energy": readings(second, day, now),
            "produced_second_meter_power": slot_powers(second, day, now),
        }

    def disaggregation(
        self, begin: float, now: float, members: tuple[int, ...]
    ) -> dict[str, dict[str, int]]:
        """Appliance energy per 15-min slot from ``begin`` to ``now``, summed over members."""
        if BuzznFault.NO_HISTORY in self._faults:
            return {}
        start = max(begin, self._history_start)
        end = math.ceil(start / SLOT) * SLOT + SLOT
        result: dict[str, dict[str, int]] = {}
        while end <= now:
            total: dict[str, int] = {}
            for member in members:
                for name, value in disaggregation(member, end).items():
                    total[name] = total.get(name, 0) + value
            result[stamp(end)] = total
            end += SLOT
        if BuzznFault.NEW_APPLIANCE in self._faults:
            for key in list(result)[-NEWEST_WITH_NEW_APPLIANCE:]:
                result[key][NEW_APPLIANCE] = 5_000_000_000 * len(members)
        return result

    # ---- live ----------------------------------------------------------------------

    @property
    def live_clients(self) -> int:
        """Live connections that receive data (/live; Socket.IO once joined)."""
        return sum(1 for client in self._clients if client.joined)

    @property
    def _stalled(self) -> bool:
        return BuzznFault.STALL_STREAM in self._faults

    def _schedule_live(self) -> None:
        loop = asyncio.get_running_loop()
        self._live_timer = loop.call_later(self.live_interval, self._live_tick)

    def _live_tick(self) -> None:
        self._live_timer = None
        self.push_now()
        if self._runner is not None:
            self._schedule_live()

    def _enqueue(self, client: _LiveClient, text: str, date: int | None = None) -> None:
        if client.closing or self._stalled:
            return
        client.queue.put_nowait((text, date))

    def push_now(self) -> None:
        """Build one live message and send it to every subscribed client now."""
        if self._stalled or not self._clients:
            return
        message = self._served_live()
        if message is None:
            data, date = "{}", None
        else:
            data = json.dumps(message)
            raw = message.get("date")
            date = raw if isinstance(raw, int) else None
        deadline = time.monotonic() - self.ping_interval - self.ping_grace
        for client in list(self._clients):
            if not client.subscribed or not client.joined:
                continue
            if client.kind == "ws":
                wrap = self.wrap_data or message is None
                text = json.dumps({"data": data}) if wrap else data
                self._enqueue(client, text, date)
                continue
            if client.last_ping < deadline:
                # as the reference backend: off the broadcast list, socket left open
                client.dropped = True
            if not client.dropped:
                self._enqueue(client, event("/live", "live_data", {"data": data}), date)

    def drop_streams(self) -> None:
        """Close every live connection now; the server stays up."""
        for client in list(self._clients):
            if not client.closing:
                client.closing = True
                client.queue.put_nowait(CLOSE)

    def _spawn(self, coroutine: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _writer(self, client: _LiveClient) -> None:
        try:
            while not isinstance(item := await client.queue.get(), _Close):
                text, date = item
                if date is not None:
                    self.sent_log.append((time.monotonic(), date))
                    self.messages_sent += 1
                await client.ws.send_str(text)
            await client.ws.close(code=WSCloseCode.GOING_AWAY, message=b"closing")
        except OSError, RuntimeError:
            client.closing = True

    async def _serve_live(
        self,
        client: _LiveClient,
        on_text: Callable[[_LiveClient, str], bool],
    ) -> web.WebSocketResponse:
        """Run one live connection until either side closes it."""
        self._clients.add(client)
        writer = self._spawn(self._writer(client))
        try:
            async for message in client.ws:
                if message.type is WSMsgType.TEXT and not on_text(client, message.data):
                    break
            if not client.closing:
                writer.cancel()
            await asyncio.wait({writer}, timeout=2.0)
        finally:
            if not writer.done():
                writer.cancel()
            self._clients.discard(client)
            client.closing = True
        await client.ws.close()
        return client.ws

    async def _get_live(self, request: web.Request) -> web.StreamResponse:
        meter_id = request.query.get("meter_id", "")
        if not meter_id:
            return web.json_response({"name": "No meter id"}, status=400)
        if self.variant == "reference":
            return web.Response(text=REFERENCE_PAGE, content_type="text/html")
        ws = web.WebSocketResponse(timeout=1.0, compress=False)
        if not ws.can_prepare(request).ok:
            return self._error(400, "BadRequest", "WebSocket upgrade expected")
        await ws.prepare(request)
        sid = secrets.token_hex(16)
        client = _LiveClient("ws", request, ws, sid, meter_id in self.meter_ids)
        self._enqueue(client, json.dumps({"data": f"Connected with sid {sid}"}))
        return await self._serve_live(client, lambda _client, _text: True)

    async def _get_socketio(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        if query.get("EIO") != "3" or query.get("transport") != "websocket":
            return web.json_response({"code": 3, "message": "Bad request"}, status=400)
        ws = web.WebSocketResponse(timeout=1.0, compress=False)
        if not ws.can_prepare(request).ok:
            return web.json_response({"code": 3, "message": "Bad request"}, status=400)
        await ws.prepare(request)
        sid = secrets.token_hex(10)
        meter_id = query.get("meter_id", "")
        client = _LiveClient("sio", request, ws, sid, meter_id in self.meter_ids)
        opening = {
            "sid": sid,
            "upgrades": [],
            "pingInterval": round(self.ping_interval * 1000),
            "pingTimeout": round(self.ping_timeout * 1000),
        }
        self._enqueue(
            client,
            encode_engine(
                EnginePacket(EngineIO.OPEN, json.dumps(opening, separators=(",", ":")))
            ),
        )
        self._enqueue(client, encode_engine(EnginePacket(EngineIO.MESSAGE, "0")))
        return await self._serve_live(client, self._on_socketio)

    def _on_socketio(self, client: _LiveClient, text: str) -> bool:
        """Handle one frame from a Socket.IO client; False ends the connection."""
        try:
            packet = decode_engine(text)
        except InvalidResponse:
            return True
        if packet.type is EngineIO.PING:
            client.last_ping = time.monotonic()
            self._enqueue(
                client, encode_engine(EnginePacket(EngineIO.PONG, packet.data))
            )
        elif packet.type is EngineIO.CLOSE:
            return False
        elif packet.type is EngineIO.MESSAGE:
            try:
                inner = decode_socket(packet.data)
            except InvalidResponse:
                return True
            self._on_socket_packet(client, inner)
        return True

    def _on_socket_packet(self, client: _LiveClient, packet: SocketPacket) -> None:
        if packet.type is SocketIO.CONNECT and packet.namespace == "/live":
            client.joined = True
            # as Flask-SocketIO: the connect handler's emit goes out before the ack
            greeting = {"data": f"Connected with sid {client.sid}"}
            self._enqueue(client, event("/live", "live_data", greeting))
            ack = SocketPacket(SocketIO.CONNECT, "/live")
            self._enqueue(
                client,
                encode_engine(EnginePacket(EngineIO.MESSAGE, encode_socket(ack))),
            )
        elif packet.type is SocketIO.CONNECT:
            refusal = SocketPacket(
                SocketIO.ERROR, packet.namespace, "Invalid namespace"
            )
            self._enqueue(
                client,
                encode_engine(EnginePacket(EngineIO.MESSAGE, encode_socket(refusal))),
            )
        elif packet.type is SocketIO.DISCONNECT and packet.namespace == "/live":
            client.joined = False

    # ---- HTTP plumbing ---------------------------------------------------------------

    def _error(self, status: int, name: str, description: str) -> web.Response:
        """Return an error object in the variant's shape."""
        if self.variant == "reference":
            body = {"name": name, "description": description}
        else:
            body = {"errorName": name, "errorDescription": description}
        return web.json_response(body, status=status)

    def _token_error(self, status: int, msg: str, name: str) -> web.Response:
        if self.variant == "reference":
            return web.json_response({"msg": msg}, status=status)
        return self._error(401, name, msg)

    def _check_session(self, request: web.Request) -> web.Response | None:
        """None when the request carries a valid session token; else the refusal."""
        header = request.headers.get("Authorization", "")
        if not header:
            return self._token_error(
                401, "Missing Authorization Header", "Unauthorized"
            )
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            return self._token_error(
                422,
                "Bad Authorization header. Expected value 'Bearer <JWT>'",
                "Unauthorized",
            )
        expires = self._tokens.get(token)
        if expires is None:
            text = (
                "Not enough segments"
                if token.count(".") != 2
                else "Signature verification failed"
            )
            return self._token_error(422, text, "Unauthorized")
        if expires <= time.time():
            return self._token_error(401, "Token has expired", "SessionExpired")
        if self._faults.pop(BuzznFault.UNAUTHORIZED_ONCE, None) is not None:
            return self._token_error(401, "Token has expired", "SessionExpired")
        return None

    async def _middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        path = request.path
        if path.startswith("/_sim/"):
            return await handler(request)
        self.requests[path] += 1
        failure = self._faults.get(BuzznFault.HTTP_ERROR)
        if failure is not None and path.startswith(str(failure["path"])):
            return self._error(
                int(failure["status"]), "ServerError", "unable to process request"
            )
        slow = self._faults.get(BuzznFault.SLOW_RESPONSE)
        if slow is not None:
            await self._sleep(float(slow["seconds"]))
            transport = request.transport
            if transport is None or transport.is_closing():
                # The client gave up waiting: nobody to answer.
                return web.Response(status=408)
        info = request.match_info
        name = info.route.name if info.http_exception is None else None
        if name is None:
            if self.variant == "reference":
                status = info.http_exception.status if info.http_exception else 404
                return web.Response(
                    status=status, text=NOT_FOUND_PAGE, content_type="text/html"
                )
            status = info.http_exception.status if info.http_exception else 404
            reason = info.http_exception.reason if info.http_exception else "Not Found"
            return self._error(
                status, reason.replace(" ", ""), f"{request.method} {path}"
            )
        public = name in PUBLIC_ROUTES or (
            name == "live" and self.variant == "reference"
        )
        if not public and (refusal := self._check_session(request)) is not None:
            return refusal
        if name in DATA_ROUTES:
            return await self._broken(request, await handler(request))
        return await handler(request)

    async def _broken(
        self, request: web.Request, response: web.StreamResponse
    ) -> web.StreamResponse:
        """Apply MALFORMED_JSON and TRUNCATED_BODY to a data answer."""
        if not isinstance(response, web.Response) or response.body is None:
            return response
        if response.status == 204:
            return response
        body = response.body
        data = body if isinstance(body, bytes) else str(body).encode()
        if BuzznFault.MALFORMED_JSON in self._faults:
            # a proper prefix of a JSON object is never valid JSON
            return web.Response(
                body=data[: max(1, len(data) // 2)],
                status=response.status,
                content_type="application/json",
            )
        if BuzznFault.TRUNCATED_BODY in self._faults:
            return await send_truncated(request, data)
        return response

    def _json(self, body: Any, status: int = 200) -> web.Response:
        if BuzznFault.NUMBERS_AS_STRINGS in self._faults and status == 200:
            body = _stringify(body)
        return web.json_response(body, status=status)

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any] | None:
        try:
            body = await request.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    # ---- REST endpoints ----------------------------------------------------------------

    async def _post_login(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        user = body.get("user") if body else None
        password = body.get("password") if body else None
        if not isinstance(user, str) or not isinstance(password, str):
            return self._error(400, "InvalidRequest", "user and password are required")
        if self.variant == "reference":
            matches = user.lower() == self.email.lower()
        else:
            matches = user == self.email
        if not matches or password != self.password:
            return self._error(401, "UnknownUser", "wrong user or password")
        if BuzznFault.ACCOUNT_INACTIVE in self._faults:
            return self._error(403, "NotActive", "the account is not active")
        self.logins += 1
        token = self.issue_token()
        answer: dict[str, Any] = {"sessionToken": token}
        if self.variant == "reference":
            answer["expiredTimestamp"] = float(int(self._tokens[token]))
        return web.json_response(answer)

    async def _get_logout(self, request: web.Request) -> web.StreamResponse:
        _, _, token = request.headers.get("Authorization", "").partition(" ")
        self._tokens.pop(token, None)
        return web.json_response({})

    async def _get_hints(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(
            [hint for hint in HINTS if hint.get("id") not in self.hints_read]
        )

    async def _post_hint_read(self, request: web.Request) -> web.StreamResponse:
        ids = {hint["id"] for hint in HINTS if "id" in hint}
        text = request.match_info["id"]
        if not text.isdigit() or int(text) not in ids:
            return self._error(404, "HintNotFound", f"no hint with id {text}")
        self.hints_read.add(int(text))
        return web.Response(status=202)

    async def _get_challenges(self, _request: web.Request) -> web.StreamResponse:
        if BuzznFault.NO_CHALLENGES in self._faults:
            return web.Response(status=204)
        return web.json_response([dict(challenge) for challenge in CHALLENGES])

    async def _get_start(self, request: web.Request) -> web.StreamResponse:
        text = request.match_info["id"]
        ids = {challenge["id"] for challenge in CHALLENGES}
        if (
            BuzznFault.NO_CHALLENGES in self._faults
            or not text.isdigit()
            or int(text) not in ids
        ):
            return self._error(404, "ChallengeNotFound", f"no challenge with id {text}")
        self.challenge_running = int(text)
        self.challenge_started = time.time()
        return web.json_response({})

    def challenge_status(self, now: float | None = None) -> dict[str, Any] | None:
        """Return the running (or ended, not quit) challenge's status, or None."""
        if self.challenge_running is None:
            return None
        now = time.time() if now is None else now
        elapsed = max(0.0, now - self.challenge_started)
        left = max(0, math.ceil(CHALLENGE_SECONDS - elapsed))
        if left:
            status = "running"
        elif self.challenge_running in SUCCEEDING_CHALLENGES:
            status = "succeeded"
        else:
            status = "failed"
        progress = round(max(0.0, 1.0 - 0.9 * elapsed / CHALLENGE_SECONDS), 3)
        return {
            "id": self.challenge_running,
            "progress": progress,
            "expiresAt": left,
            "status": status,
        }

    async def _get_status(self, _request: web.Request) -> web.StreamResponse:
        status = self.challenge_status()
        if status is None:
            return web.Response(status=204)
        return web.json_response(status)

    async def _post_quit(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        number = body.get("id") if body else None
        if isinstance(number, str) and number.isdigit():
            number = int(number)
        if isinstance(number, bool) or not isinstance(number, int):
            return self._error(400, "InvalidRequest", 'body must be {"id": <int>}')
        if number != self.challenge_running:
            return self._error(
                404, "ChallengeNotFound", f"challenge {number} is not running"
            )
        self.challenge_running = None
        return web.json_response({})

    def _no_data(self) -> web.Response:
        return web.json_response({}, status=206)

    def _with_extras(self, body: dict[str, Any]) -> dict[str, Any]:
        if BuzznFault.EXTRA_FIELDS in self._faults:
            return {**body, **EXTRA_HISTORY}
        return body

    async def _get_individual_history(self, request: web.Request) -> web.StreamResponse:
        now = time.time()
        try:
            day = self._day_of(request, day_start(now))
        except ValueError:
            return self._error(400, "InvalidRequest", "begin must be a unix timestamp")
        history = self.individual_history(day, now)
        if history is None:
            return self._no_data()
        return self._json(self._with_extras(history))

    async def _get_group_history(self, _request: web.Request) -> web.StreamResponse:
        history = self.group_history(time.time())
        if history is None:
            return self._no_data()
        return self._json(self._with_extras(history))

    async def _disaggregation(
        self, request: web.Request, members: tuple[int, ...]
    ) -> web.StreamResponse:
        now = time.time()
        try:
            begin = self._begin(request, day_start(now) - 2 * DAY)
        except ValueError:
            return self._error(400, "InvalidRequest", "begin must be a unix timestamp")
        result = self.disaggregation(begin, now, members)
        if not result:
            return self._no_data()
        return self._json(result)

    async def _get_individual_disaggregation(
        self, request: web.Request
    ) -> web.StreamResponse:
        return await self._disaggregation(request, self.member_ids[:1])

    async def _get_group_disaggregation(
        self, request: web.Request
    ) -> web.StreamResponse:
        return await self._disaggregation(request, self.member_ids)

    async def _get_profile(self, _request: web.Request) -> web.StreamResponse:
        profile = dict(self.profile)
        if BuzznFault.EXTRA_FIELDS in self._faults:
            profile.update(EXTRA_PROFILE)
        return self._json(profile)

    async def _put_profile(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        if body is None:
            return self._error(400, "ValidationError", "body must be a JSON object")
        checks: dict[str, Callable[[Any], bool]] = {
            "flatSize": lambda v: (
                isinstance(v, int | float)
                and not isinstance(v, bool)
                and math.isfinite(v)
                and 0 < v <= 1000
            ),
            "inhabitants": lambda v: (
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 20
            ),
            "nick": lambda v: isinstance(v, str) and 0 < len(v) <= 64,
            "avatar": lambda v: isinstance(v, str),
        }
        for key, value in body.items():
            check = checks.get(key)
            if check is None or not check(value):
                return self._error(400, "ValidationError", f"invalid value for {key}")
        for key, value in body.items():
            self.profile[key] = float(value) if key == "flatSize" else value
        return web.json_response({})

    async def _post_set_password(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        password = body.get("password") if body else None
        token = body.get("token") if body else None
        if token != self.password_token:
            return self._error(400, "InvalidToken", "the user token is not valid")
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            return self._error(400, "ValidationError", "password too short")
        remember(password)
        self.password = password
        return web.json_response({})

    async def _put_update_password(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        password = body.get("password") if body else None
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            return self._error(400, "ValidationError", "password too short")
        remember(password)
        self.password = password
        return web.json_response({})

    async def _get_pictures(self, _request: web.Request) -> web.StreamResponse:
        own = {"id": self.profile["id"], "avatar": self.profile["avatar"]}
        others = [{"id": key, "avatar": value} for key, value in self.avatars.items()]
        return web.json_response([own, *others])

    def _today_stamp(self, now: float) -> str:
        return stamp(math.floor(now / SLOT) * SLOT)

    async def _get_individual_global(self, _request: web.Request) -> web.StreamResponse:
        now = time.time()
        if not self._has_day(day_start(now), now):
            return self._no_data()
        into = (now - day_start(now)) / DAY
        saving = 3_148_577_026_610.7812 * (0.8 + 0.4 * into)
        return self._json(
            {"saving": {self._today_stamp(now): saving}, "baseline": 53_011_346_257_574}
        )

    async def _get_community_global(self, _request: web.Request) -> web.StreamResponse:
        now = time.time()
        if not self._has_day(day_start(now), now):
            return self._no_data()
        into = (now - day_start(now)) / DAY
        return self._json({self._today_stamp(now): 85_184_267_259_376.5 + 1e11 * into})

    async def _get_per_capita(self, _request: web.Request) -> web.StreamResponse:
        now = time.time()
        if not self._has_day(day_start(now), now):
            return self._no_data()
        inhabitants = max(1, int(self.profile.get("inhabitants") or 1))
        day = int(now // DAY)
        value = round(3000 / inhabitants + (day % 7) * 5)
        return self._json({stamp(day_start(now)): value})

    # ---- control endpoints ----------------------------------------------------------------

    async def _sim_status(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "variant": self.variant,
                "faults": self.faults,
                "boots": self.boots,
                "logins": self.logins,
                "requests": dict(self.requests),
                "live_clients": self.live_clients,
                "messages_sent": self.messages_sent,
                "hints_read": sorted(self.hints_read),
                "challenge": self.challenge_status(),
                "live": self.live_message(),
            }
        )

    async def _sim_push(self, _request: web.Request) -> web.StreamResponse:
        self.push_now()
        return web.json_response({"pushed": self.live_clients})

    async def _sim_drop_streams(self, _request: web.Request) -> web.StreamResponse:
        count = self.live_clients
        self.drop_streams()
        return web.json_response({"dropped": count})
