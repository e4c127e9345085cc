"""Carlo Gavazzi EMS gateway simulator: the "EMS Webapi 1.0.0" REST API."""

from collections import Counter
import contextlib
import copy
from datetime import datetime
import json
from pathlib import Path
import time
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from ..secrets import remember
from ..server import DeviceServer, Handler, json_error, send_truncated
from .data import (
    HISTORY_PERIOD,
    HISTORY_RETENTION,
    PROTOCOLS,
    Device,
    Installation,
    Load,
    Signal,
    history_row,
    is_counter,
    value,
)
from .faults import EmsFault, parse_fault, validate_params
from .security import CERT_NAME, CERT_STEM, TOKEN_LIFETIME, TokenError, TokenIssuer

DEFAULT_LIMIT = 1000
"""Records per page when ``limit`` is not given (seed)."""
_GARBAGE: tuple[Any, ...] = ("garbage", None, "NaN", "-.-", "inf", "")
TOTAL_POWER_SI = 38
"""Code of the total active power (assumed); MISSING_FIELD drops one such ``v``."""
UNKNOWN_SIGNAL_UID = 99999
"""Signal UID of the record EXTRA_FIELDS adds to realtime maps (not in the tree)."""
_SCHEMA = 2
"""Top-level ``schema`` EXTRA_FIELDS adds (beside ``generated``, epoch s)."""
_RECORD_EXTRAS: dict[str, Any] = {
    "q": "good-ext",
    "x_future": {"flags": 0, "source": "later firmware"},
}


class _RequestError(Exception):
    """Answer the current request with an error status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _int_param(request: web.Request, name: str, default: int | None) -> int | None:
    text = request.query.get(name)
    if text is None or not text.strip():
        return default
    try:
        return int(text.strip(), 10)
    except ValueError:
        raise _RequestError(400, f"invalid query parameter {name}") from None


def _page(request: web.Request) -> tuple[int, int]:
    limit = _int_param(request, "limit", None)
    page = _int_param(request, "page", None)
    limit = DEFAULT_LIMIT if limit is None else limit
    page = 1 if page is None else page
    if limit < 1 or page < 1:
        raise _RequestError(400, "limit and page must be positive")
    return limit, page


def _uids(request: web.Request) -> set[int] | None:
    text = request.query.get("uids")
    if text is None:
        return None
    try:
        return {int(part.strip(), 10) for part in text.split(",")}
    except ValueError:
        raise _RequestError(400, "invalid query parameter uids") from None


def _protocol(request: web.Request) -> str | None:
    protocol = request.query.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        raise _RequestError(400, "invalid query parameter protocol")
    return protocol


def _path_uid(request: web.Request) -> int:
    try:
        return int(request.match_info["uid"], 10)
    except ValueError:
        raise _RequestError(400, "uid must be an integer") from None


def _is_number(item: object) -> bool:
    return isinstance(item, int | float) and not isinstance(item, bool)


def _extended_record(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    record = dict(item)
    for key, extra in _RECORD_EXTRAS.items():
        record.setdefault(key, copy.deepcopy(extra))
    return record


def _extended_member(item: Any) -> Any:
    # maps keyed by UID strings hold records (or lists of history rows)
    if isinstance(item, list):
        return [_extended_record(row) for row in item]
    if isinstance(item, dict) and all(key.isdigit() for key in item):
        return {
            key: (
                [_extended_record(row) for row in entry]
                if isinstance(entry, list)
                else _extended_record(entry)
            )
            for key, entry in item.items()
        }
    return item


def _with_extra_fields(body: Any, generated: int) -> Any:
    """Return ``body`` with the unknown keys a later firmware might add."""
    if isinstance(body, list):
        return [_extended_record(row) for row in body]
    if not isinstance(body, dict):
        return body
    result = {key: _extended_member(item) for key, item in body.items()}
    if "uid" in result:
        result = _extended_record(result)
    result.setdefault("schema", _SCHEMA)
    result.setdefault("generated", generated)
    return result


class EmsSimulator(DeviceServer):
    """A simulated Carlo Gavazzi EMS gateway serving its REST API.

    The installation is the built-in 3-phase main meter (device 1, Meter-Bus),
    an EM24 on Modbus RTU (30), an EM24 on Modbus TCP (60) and a P1 meter (90),
    one load each with 22 signals. ``extra_signals`` adds that many signals
    with unknown codes to the main meter's load (to exercise pagination).
    """

    CERT_STEM = CERT_STEM
    CERT_NAME = CERT_NAME
    LOG_NAME = "EMS simulator"

    def __init__(
        self,
        username: str = "api",
        password: str = "api-password",  # noqa: S107 - a simulator default
        *,
        serial: str = "BX10000000",
        mac: str = "00:1A:2B:3C:4D:5E",
        firmware: str = "EMS_1.0.0.0.250101.000000",
        part_number: str = "EMS10AV5S1X",
        timezone: str = "UTC",
        extra_signals: int = 0,
    ) -> None:
        if extra_signals < 0:
            raise ValueError("extra_signals must not be negative")
        super().__init__()
        self.username = username
        self.password = password
        remember(password)
        self.serial = serial
        self.mac = mac
        self.firmware = firmware
        self.part_number = part_number
        self.zone = ZoneInfo(timezone)
        self.installation = Installation(extra_signals)
        """Devices, loads and signals (change it to reshape the API)."""
        self.token_lifetime = TOKEN_LIFETIME
        """Seconds a newly issued token stays valid (default 30 minutes)."""
        self.requests: Counter[str] = Counter()
        """Requests per path (control paths under ``/_sim`` are not counted)."""
        self.tokens_issued = 0
        """Successful logins."""
        self._tokens = TokenIssuer()
        self._faults: dict[EmsFault, dict[str, Any]] = {}
        self._appeared: int | None = None
        self._reported: dict[int, float] = {}

    # ---- lifecycle ---------------------------------------------------------

    async def start(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: bool = False,
        cert_dir: Path | str | None = None,
    ) -> None:
        """Bind the server (port 0 picks a free port); HTTPS with ``tls``.

        ``cert_dir``: keep the certificate there across restarts: ``ems.crt`` and
        ``ems.key`` are reused when they parse, match and cover ``host``, and
        written there otherwise; ``stop()`` leaves them. Without it the
        certificate is made in a temporary directory that ``stop()`` removes.
        Certificates from ``rotate_certificate()`` always go to a temporary one.
        """
        await self._start(host, port, tls_on=tls, cert_dir=cert_dir)

    def _application(self) -> web.Application:
        @web.middleware
        async def middleware(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            return await self._middleware(request, handler)

        app = web.Application(middlewares=[middleware])
        self._add_routes(app)
        return app

    # ---- connection-level life cycle ----------------------------------------

    async def go_offline(self) -> None:
        """Close every connection and stop listening (new ones are refused).

        Installation, counters, faults, certificate and password are kept.
        A pending reboot is called off: the simulator stays offline until
        come_back().
        """
        await super().go_offline()

    async def come_back(self) -> None:
        """Listen again on the same host, port and certificate, freshly booted.

        Every token issued before is invalid (a new signing key) and the uptime
        restarts at 0. No-op while online; ends a pending reboot early.
        """
        await super().come_back()

    def _fresh_boot(self) -> None:
        self._tokens.revoke_all()

    def change_password(self, password: str) -> None:
        """Accept only ``password`` from now on; every issued token is revoked."""
        if not password:
            raise ValueError("password must not be empty")
        self.password = password
        remember(password)
        self._tokens.revoke_all()

    # ---- public properties and helpers --------------------------------------

    @property
    def faults(self) -> dict[str, dict[str, Any]]:
        """Active faults with their parameters."""
        return {fault.value: dict(params) for fault, params in self._faults.items()}

    def issue_token(self, lifetime: float | None = None) -> str:
        """Return a valid token without a login (``lifetime`` s, default 30 min)."""
        token = self._tokens.issue(
            self.username,
            self.token_lifetime if lifetime is None else lifetime,
        )
        remember(token)
        return token

    def expire_tokens_now(self) -> None:
        """End every token issued so far early (401); logging in again works."""
        self._tokens.revoke_all()

    def add_device(
        self,
        label: str = "EM3",
        part_number: str = "EM24_E1",
        protocol: str = "tcp",
    ) -> int:
        """Add a 3-phase device with one load and a full signal set; return its UID."""
        return self.installation.add_device(label, part_number, protocol).uid

    def remove_device(self, uid: int) -> None:
        """Remove a device with its loads and signals (KeyError when unknown)."""
        self.installation.remove_device(uid)

    # ---- faults ------------------------------------------------------------

    def set_fault(self, fault: EmsFault | str, **params: Any) -> None:
        """Switch a fault on (replacing its parameters if already on)."""
        fault = parse_fault(fault) if not isinstance(fault, EmsFault) else fault
        checked = validate_params(fault, params)
        if fault is EmsFault.DEVICE_APPEARS and self._appeared is None:
            self._appeared = self.add_device(str(checked["label"]))
        elif fault is EmsFault.DEVICE_DISAPPEARS:
            previous = self._faults.get(fault)
            if previous is not None:
                self.installation.hidden.discard(int(previous["uid"]))
            self.installation.hidden.add(int(checked["uid"]))
        self._faults[fault] = checked

    def clear_fault(self, fault: EmsFault | str) -> None:
        """Switch one fault off (no error when it was off)."""
        fault = parse_fault(fault) if not isinstance(fault, EmsFault) else fault
        params = self._faults.pop(fault, None)
        if params is None:
            return
        if fault is EmsFault.DEVICE_APPEARS and self._appeared is not None:
            with contextlib.suppress(KeyError):
                self.remove_device(self._appeared)
            self._appeared = None
        elif fault is EmsFault.DEVICE_DISAPPEARS:
            self.installation.hidden.discard(int(params["uid"]))

    def clear_faults(self) -> None:
        """Switch every fault off."""
        for fault in list(self._faults):
            self.clear_fault(fault)

    # ---- HTTP plumbing -----------------------------------------------------

    async def _middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        path = request.path
        if not path.startswith("/_sim/"):
            self.requests[path] += 1
            failure = self._faults.get(EmsFault.HTTP_ERROR)
            if failure is not None and path.startswith(str(failure["path"])):
                return self._api_error(
                    int(failure["status"]), "unable to process request"
                )
            slow = self._faults.get(EmsFault.SLOW_RESPONSE)
            if slow is not None:
                await self._sleep(float(slow["seconds"]))
            reason = (
                self._auth_failure(request)
                if path.startswith("/v1/") and path != "/v1/auth/login"
                else None
            )
            if reason is not None:
                return self._api_error(401, reason)
        try:
            return await handler(request)
        except _RequestError as err:
            if path.startswith("/_sim/"):
                return json_error(err.status, err.message)
            return self._api_error(err.status, err.message)

    def _reply(self, body: Any, status: int = 200) -> web.Response:
        """Answer JSON from the API (EXTRA_FIELDS adds unknown keys)."""
        return web.json_response(self._shaped(body), status=status)

    def _api_error(self, status: int, message: str) -> web.Response:
        return self._reply({"error": message}, status)

    def _shaped(self, body: Any) -> Any:
        if EmsFault.EXTRA_FIELDS in self._faults:
            return _with_extra_fields(body, int(time.time()))
        return body

    async def _realtime_reply(
        self, request: web.Request, body: Any
    ) -> web.StreamResponse:
        """Answer realtime JSON, garbled by MALFORMED_JSON and TRUNCATED_BODY."""
        text = json.dumps(self._shaped(body))
        if EmsFault.MALFORMED_JSON in self._faults:
            # a proper prefix of a JSON object is never valid JSON
            text = text[: len(text) // 2]
        if EmsFault.TRUNCATED_BODY not in self._faults:
            return web.Response(text=text, content_type="application/json")
        return await send_truncated(request, text.encode())

    def _auth_failure(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "missing or invalid token"
        try:
            self._tokens.check(token.strip())
        except TokenError as err:
            return str(err)
        if EmsFault.EXPIRE_TOKENS in self._faults:
            return "token expired"
        if self._faults.pop(EmsFault.UNAUTHORIZED_ONCE, None) is not None:
            return "token expired"
        return None

    def _add_routes(self, app: web.Application) -> None:
        get = web.get
        app.add_routes(
            [
                get("/ver", self._get_version),
                web.post("/v1/auth/login", self._post_login),
                get("/v1/serial-number", self._simple("sn", "serial")),
                get("/v1/mac", self._simple("mac", "mac")),
                get("/v1/firmware", self._simple("fw", "firmware")),
                get("/v1/part-number", self._simple("pn", "part_number")),
                get("/v1/date", self._get_date),
                get("/v1/devices", self._get_devices),
                get("/v1/devices/{uid}", self._get_device),
                get("/v1/devices/{uid}/loads", self._get_device_loads),
                get("/v1/devices/{uid}/signals", self._get_owner_signals),
                get("/v1/devices/{uid}/signals/realtime", self._get_owner_realtime),
                get("/v1/devices/{uid}/signals/history", self._get_owner_history),
                get("/v1/devices/{uid}/signals/history/last", self._get_owner_last),
                get("/v1/loads", self._get_loads),
                get("/v1/loads/{uid}", self._get_load),
                get("/v1/loads/{uid}/signals", self._get_owner_signals),
                get("/v1/loads/{uid}/signals/realtime", self._get_owner_realtime),
                get("/v1/loads/{uid}/signals/history", self._get_owner_history),
                get("/v1/loads/{uid}/signals/history/last", self._get_owner_last),
                # fixed paths before /v1/signals/{uid}
                get("/v1/signals", self._get_signals),
                get("/v1/signals/realtime", self._get_realtime),
                get("/v1/signals/history", self._get_history),
                get("/v1/signals/history/last", self._get_history_last),
                get("/v1/signals/{uid}", self._get_signal),
                get("/v1/signals/{uid}/realtime", self._get_signal_realtime),
                get("/v1/signals/{uid}/history", self._get_signal_history),
                get("/v1/signals/{uid}/history/last", self._get_signal_last),
                # simulator control, never faulted, counted or authenticated
                get("/_sim/status", self._sim_status),
                web.post("/_sim/devices", self._sim_add_device),
                web.delete("/_sim/devices/{uid}", self._sim_remove_device),
                *self._control_routes(),
            ]
        )

    # ---- lookups -----------------------------------------------------------

    def _device(self, uid: int) -> Device:
        for device in self.installation.visible_devices():
            if device.uid == uid:
                return device
        raise _RequestError(404, "resource not found")

    def _load(self, uid: int) -> Load:
        for load in self.installation.visible_loads():
            if load.uid == uid:
                return load
        raise _RequestError(404, "resource not found")

    def _signal(self, uid: int) -> Signal:
        for signal in self.installation.visible_signals():
            if signal.uid == uid:
                return signal
        raise _RequestError(404, "resource not found")

    def _owner_signals(self, request: web.Request) -> list[Signal]:
        uid = _path_uid(request)
        if request.path.startswith("/v1/devices/"):
            loads = self._device(uid).loads
        else:
            loads = [self._load(uid)]
        return sorted(
            (signal for load in loads for signal in load.signals),
            key=lambda signal: signal.uid,
        )

    # ---- values ------------------------------------------------------------

    def _realtime(self, signal: Signal, now: float) -> dict[str, Any]:
        load = self.installation.load_of(signal)
        # the gateway samples every second; t is the sample time in ms
        sample = int(now)
        record: dict[str, Any] = {
            "uid": signal.uid,
            "si": signal.si,
            "v": value(load, signal, sample),
            "t": sample * 1000,
            "s": 1,
            "r": 0,
        }
        if EmsFault.MALFORMED_VALUES in self._faults:
            record["v"] = _GARBAGE[(signal.uid + sample) % len(_GARBAGE)]
        return record

    def _realtime_records(
        self, signals: list[Signal], now: float, *, unknown: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Realtime records by UID string with the record faults applied.

        ``unknown`` adds the EXTRA_FIELDS record of a signal the tree lacks.
        """
        records = {str(signal.uid): self._realtime(signal, now) for signal in signals}
        counters = [signal for signal in signals if is_counter(signal)]
        glitch = self._faults.pop(EmsFault.GLITCH_COUNTER, None) if counters else None
        for signal in counters:
            record = records[str(signal.uid)]
            if glitch is not None:
                record["v"] = self._glitched(signal, glitch, now)
            elif _is_number(record.get("v")):
                self._reported[signal.uid] = float(record["v"])
        if EmsFault.MISSING_FIELD in self._faults:
            power = self._missing_power_uid()
            for signal in signals:
                if is_counter(signal) or signal.uid == power:
                    records[str(signal.uid)].pop("v", None)
        if unknown and EmsFault.EXTRA_FIELDS in self._faults:
            uid = self._unknown_uid()
            records[str(uid)] = {
                "uid": uid,
                "si": 29,
                "v": 230.0,
                "t": int(now) * 1000,
                "s": 1,
                "r": 0,
            }
        if EmsFault.NUMBERS_AS_STRINGS in self._faults:
            for record in records.values():
                for key in ("v", "t"):
                    if _is_number(record.get(key)):
                        record[key] = str(record[key])
        return records

    def _glitched(self, signal: Signal, glitch: dict[str, Any], now: float) -> float:
        if glitch["mode"] == "zero":
            return 0
        previous = self._reported.get(signal.uid)
        if previous is None:
            previous = value(self.installation.load_of(signal), signal, int(now))
        return round(previous - float(glitch["amount"]), 3)

    def _missing_power_uid(self) -> int | None:
        # the total active power of the lowest-UID load (main meter: UID 12)
        return min(
            (
                signal.uid
                for signal in self.installation.visible_signals()
                if signal.si == TOTAL_POWER_SI
            ),
            default=None,
        )

    def _unknown_uid(self) -> int:
        taken = {
            signal.uid
            for device in self.installation.devices.values()
            for load in device.loads
            for signal in load.signals
        }
        uid = UNKNOWN_SIGNAL_UID
        while uid in taken:
            uid += 1
        return uid

    @staticmethod
    def _history_range(request: web.Request, now: float) -> tuple[int, int]:
        # start/end are epoch ms (seed); default: the last 24 hours
        end_ms = _int_param(request, "end", None)
        start_ms = _int_param(request, "start", None)
        end = int(now) if end_ms is None else end_ms // 1000
        start = end - 86400 if start_ms is None else start_ms // 1000
        if end < start:
            raise _RequestError(400, "end is before start")
        return start, end

    def _history_rows(
        self, signal: Signal, start: int, end: int, now: float
    ) -> list[dict[str, Any]]:
        load = self.installation.load_of(signal)
        newest = int(now) // HISTORY_PERIOD * HISTORY_PERIOD
        oldest = newest - HISTORY_RETENTION
        first = max(start, oldest)
        first = -(-first // HISTORY_PERIOD) * HISTORY_PERIOD
        last = min(end, newest)
        return [
            history_row(load, signal, period_end)
            for period_end in range(first, last + 1, HISTORY_PERIOD)
        ]

    def _last_row(self, signal: Signal, now: float) -> dict[str, Any]:
        newest = int(now) // HISTORY_PERIOD * HISTORY_PERIOD
        return history_row(self.installation.load_of(signal), signal, newest)

    @staticmethod
    def _enabled(signals: list[Signal]) -> list[Signal]:
        return [signal for signal in signals if signal.enable]

    # ---- handlers: public and system ----------------------------------------

    async def _get_version(self, _request: web.Request) -> web.StreamResponse:
        return self._reply({"api_ver": 1})

    async def _post_login(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            raise _RequestError(400, "request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _RequestError(400, "request body must be an object")
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise _RequestError(401, "username and password are required")
        if username != self.username or password != self.password:
            raise _RequestError(401, "invalid credentials")
        self.tokens_issued += 1
        return self._reply({"token": self.issue_token()})

    def _simple(self, key: str, attribute: str) -> Handler:
        async def handler(_request: web.Request) -> web.StreamResponse:
            return self._reply({key: getattr(self, attribute)})

        return handler

    async def _get_date(self, _request: web.Request) -> web.StreamResponse:
        now = datetime.now(self.zone)
        offset = now.strftime("%z")
        return self._reply(
            {
                "date": now.strftime("%Y-%m-%d %H:%M:%S"),
                "tz": f"{offset[:3]}:{offset[3:]} {now.tzname()}",
            }
        )

    # ---- handlers: configuration tree ----------------------------------------

    async def _get_devices(self, request: web.Request) -> web.StreamResponse:
        uids, protocol = _uids(request), _protocol(request)
        devices = {
            str(device.uid): device.as_json()
            for device in self.installation.visible_devices()
            if (uids is None or device.uid in uids)
            and (protocol is None or protocol in device.protocols)
        }
        return self._reply({"devices": devices})

    async def _get_device(self, request: web.Request) -> web.StreamResponse:
        return self._reply(self._device(_path_uid(request)).as_json())

    async def _get_device_loads(self, request: web.Request) -> web.StreamResponse:
        device = self._device(_path_uid(request))
        loads = {str(load.uid): load.as_json() for load in device.loads}
        return self._reply({"loads": loads})

    async def _get_loads(self, request: web.Request) -> web.StreamResponse:
        uids, protocol = _uids(request), _protocol(request)
        loads = {
            str(load.uid): load.as_json()
            for load in self.installation.visible_loads()
            if (uids is None or load.uid in uids)
            and (protocol is None or load.protocol == protocol)
        }
        return self._reply({"loads": loads})

    async def _get_load(self, request: web.Request) -> web.StreamResponse:
        return self._reply(self._load(_path_uid(request)).as_json())

    def _filtered_page(self, request: web.Request) -> list[Signal]:
        uids = _uids(request)
        limit, page = _page(request)
        signals = [
            signal
            for signal in self.installation.visible_signals()
            if uids is None or signal.uid in uids
        ]
        return signals[(page - 1) * limit : page * limit]

    async def _get_signals(self, request: web.Request) -> web.StreamResponse:
        signals = self._filtered_page(request)
        return self._reply(
            {"signals": {str(signal.uid): signal.as_json() for signal in signals}}
        )

    async def _get_signal(self, request: web.Request) -> web.StreamResponse:
        return self._reply(self._signal(_path_uid(request)).as_json())

    async def _get_owner_signals(self, request: web.Request) -> web.StreamResponse:
        signals = self._owner_signals(request)
        return self._reply(
            {"signals": {str(signal.uid): signal.as_json() for signal in signals}}
        )

    # ---- handlers: realtime --------------------------------------------------

    async def _get_realtime(self, request: web.Request) -> web.StreamResponse:
        # pages count signals of the full list; disabled ones have no sample
        signals, now = self._filtered_page(request), time.time()
        # the unknown EXTRA_FIELDS record only on page 1: pages stay finite
        first_page = _page(request)[1] == 1
        realtime = self._realtime_records(
            self._enabled(signals), now, unknown=first_page
        )
        return await self._realtime_reply(request, {"realtime": realtime})

    async def _get_signal_realtime(self, request: web.Request) -> web.StreamResponse:
        signal = self._signal(_path_uid(request))
        record = self._realtime_records([signal], time.time())[str(signal.uid)]
        return await self._realtime_reply(request, record)

    async def _get_owner_realtime(self, request: web.Request) -> web.StreamResponse:
        signals, now = self._owner_signals(request), time.time()
        realtime = self._realtime_records(self._enabled(signals), now, unknown=True)
        return await self._realtime_reply(request, {"realtime": realtime})

    # ---- handlers: history ---------------------------------------------------

    def _history_map(
        self, request: web.Request, signals: list[Signal]
    ) -> dict[str, list[dict[str, Any]]]:
        # pages count history rows (records), in signal-UID then time order
        now = time.time()
        start, end = self._history_range(request, now)
        limit, page = _page(request)
        rows = [
            row
            for signal in self._enabled(signals)
            for row in self._history_rows(signal, start, end, now)
        ]
        history: dict[str, list[dict[str, Any]]] = {}
        for row in rows[(page - 1) * limit : page * limit]:
            history.setdefault(str(row["uid"]), []).append(row)
        return history

    async def _get_history(self, request: web.Request) -> web.StreamResponse:
        uids = _uids(request)
        signals = [
            signal
            for signal in self.installation.visible_signals()
            if uids is None or signal.uid in uids
        ]
        return self._reply({"history": self._history_map(request, signals)})

    async def _get_owner_history(self, request: web.Request) -> web.StreamResponse:
        signals = self._owner_signals(request)
        return self._reply({"history": self._history_map(request, signals)})

    async def _get_signal_history(self, request: web.Request) -> web.StreamResponse:
        signal = self._signal(_path_uid(request))
        return self._reply(
            self._history_map(request, [signal]).get(str(signal.uid), [])
        )

    async def _get_history_last(self, request: web.Request) -> web.StreamResponse:
        signals, now = self._enabled(self._filtered_page(request)), time.time()
        last = {str(signal.uid): self._last_row(signal, now) for signal in signals}
        return self._reply({"history": last})

    async def _get_owner_last(self, request: web.Request) -> web.StreamResponse:
        signals, now = self._enabled(self._owner_signals(request)), time.time()
        last = {str(signal.uid): self._last_row(signal, now) for signal in signals}
        return self._reply({"history": last})

    async def _get_signal_last(self, request: web.Request) -> web.StreamResponse:
        signal = self._signal(_path_uid(request))
        if not signal.enable:
            raise _RequestError(404, "no history for a disabled signal")
        return self._reply(self._last_row(signal, time.time()))

    # ---- control endpoints -----------------------------------------------------

    async def _sim_status(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "faults": self.faults,
                "devices": [
                    device.uid for device in self.installation.visible_devices()
                ],
                "signals": len(self.installation.visible_signals()),
                "tokens_issued": self.tokens_issued,
                "requests": dict(self.requests),
                "certificate_sha256": self.certificate_sha256,
                "uptime": round(self.uptime, 3),
                "boots": self.boots,
            }
        )

    async def _sim_add_device(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        try:
            uid = self.add_device(
                query.get("label", "EM3"),
                query.get("partNumber", "EM24_E1"),
                query.get("protocol", "tcp"),
            )
        except ValueError as err:
            return json_error(400, str(err))
        return web.json_response({"uid": uid})

    async def _sim_remove_device(self, request: web.Request) -> web.StreamResponse:
        try:
            self.remove_device(_path_uid(request))
        except KeyError:
            return json_error(404, "resource not found")
        except _RequestError as err:
            return json_error(err.status, err.message)
        return web.json_response({})
