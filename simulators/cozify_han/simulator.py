"""Cozify HAN reader simulator: REST API, WebSocket and SSE push, fault injection."""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
import contextlib
import copy
from datetime import UTC, datetime, tzinfo
import hashlib
import json
import logging
import math
import random
import time
from typing import Any
import uuid

from aiohttp import BodyPartReader, WSCloseCode, web

from ..secrets import remember
from .auth import AUDIENCE, DEFAULT_SCOPE, TOKEN_LIFETIME, TokenError, TokenIssuer
from .config import (
    PASSWORD_MASK,
    REBOOT_KEYS,
    ConfigError,
    deep_merge,
    default_configuration,
    definitions,
    masked,
    validate_setup,
    validate_update,
)
from .data import (
    HistoryStore,
    LiveMeter,
    MeterReading,
    PowerModel,
    PriceModel,
    format_counter,
    get_zone,
    imported_energy,
    local_day_start,
    seed_from,
    unit,
)
from .faults import HanFault, parse_fault, validate_params
from .ota import OtaError, OtaManager
from .telegram import build_telegram

_LOGGER = logging.getLogger(__name__)

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

OFFERED_VERSION = "1.0.2.0"
STREAM_PATHS = frozenset({"/ws", "/sse", "/events"})
MALFORMED_KINDS = (
    "malformed_json",
    "truncated_frame",
    "unknown_type",
    "numbers_as_strings",
    "missing_fields",
    "unknown_fields",
)
# what a later firmware might add; EXTRA_FIELDS adds these to every JSON object
EXTRA_FIELDS: dict[str, Any] = {
    "schemaVersion": 2,
    "capabilities": ["h1", "modbus", "mqtt"],
    "extensions": {
        "tariff": 1,
        "quality": {"frames": 8640, "crcErrors": 0},
        "flags": [True, False],
    },
}
# the unknown_fields meter message: new top-level keys plus a nested object
UNKNOWN_METER_FIELDS: dict[str, Any] = {
    "tariff": 2,
    "thd": [1.8, 2.1, 1.6],
    "meterStatus": {"breaker": "closed", "alarms": [], "firmware": {"id": "M2.4"}},
}
# a client this far behind is not reading any more; it gets disconnected
QUEUE_LIMIT = 256
RAW_BUFFER_SIZE = 4096
MAX_IMAGE_SIZE = 16 * 1024 * 1024
# the H1 port delivers a new reading every 10 s (VNa 767/2021)
METER_PERIOD = 10.0
HEAP_SIZE = 327680
_SCAN_NETWORKS = (
    ("Koti", "WPA2_PSK", 6, -52),
    ("Koti-5G", "WPA2_PSK", 36, -61),
    ("DNA-WIFI-3F2A", "WPA2_PSK", 1, -70),
    ("Elisa-Mokkula", "WPA2_WPA3_PSK", 11, -74),
    ("Naapuri", "WPA3_PSK", 6, -81),
    ("Telia-Guest", "OPEN", 11, -86),
)


class _RequestError(Exception):
    """Answer the current request with an error status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Control:
    """Queue markers that end a stream after everything queued before them."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


# CLOSE ends the stream cleanly (WS close frame / end of the SSE body);
# HANGUP drops the TCP connection without a proper end (truncated SSE event)
CLOSE = _Control("close")
HANGUP = _Control("hangup")


class _StreamClient:
    """One open ``/ws`` or ``/sse`` connection with its outgoing queue."""

    def __init__(self, kind: str, transport: asyncio.Transport | None) -> None:
        self.kind = kind
        self.transport = transport
        self.queue: asyncio.Queue[str | _Control] = asyncio.Queue()
        self.closing = False
        self.done = asyncio.Event()

    def abort(self) -> None:
        """Drop the connection at once, discarding whatever is still queued."""
        self.closing = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(CLOSE)
        if self.transport is not None:
            self.transport.abort()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"success": False, "message": message}, status=status)


def _not_found() -> web.Response:
    return web.Response(status=404, text="404: Not Found")


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


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def _with_fields(message: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``message`` with the keys of ``extra`` it lacks added."""
    return {
        **message,
        **{k: copy.deepcopy(v) for k, v in extra.items() if k not in message},
    }


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean, got {text!r}")


def _remember_wifi_password(body: object, *path: str) -> None:
    """Remember the WiFi password found at ``path`` in a request body, if any."""
    for key in path:
        if not isinstance(body, dict):
            return
        body = body.get(key)
    if isinstance(body, str):
        remember(body)


class HanSimulator:
    """A simulated Cozify HAN reader serving the reader's local API over HTTP.

    ``push_interval`` is the period of the meter push in seconds (None: only
    ``push_meter()`` pushes). The simulated house has a daily load profile and
    rooftop solar, deterministic per ``serial``; see ``simulators/README.md``.
    """

    def __init__(
        self,
        push_interval: float | None = 10.0,
        serial: str = "HAN12345678",
        mac: str = "AA:BB:CC:DD:EE:FF",
        name: str = "Cozify-HAN-123-456",
        version: str = "1.0.1.0",
        phases: int = 3,
        *,
        solar: bool = True,
    ) -> None:
        if push_interval is not None and push_interval <= 0:
            raise ValueError("push_interval must be positive or None")
        if phases not in (1, 2, 3):
            raise ValueError("phases must be 1, 2 or 3")
        self.push_interval = push_interval
        self.phases = phases
        seed = seed_from(serial)
        self._rng = random.Random(seed)
        self._uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"cozify-han:{serial}"))
        self._config = default_configuration(version)
        remember(self.wifi_password)
        self.model = PowerModel(seed, phases, get_zone(self._config["t"]), solar=solar)
        self._meter = LiveMeter(self.model, seed, self._rng)
        self._history = HistoryStore(self.model)
        self._prices = PriceModel()
        self._tokens = TokenIssuer(serial)
        self._state: dict[str, Any] = {
            "uuid": self._uuid,
            "name": name,
            "model": "HAN",
            "serial": serial,
            "version": version,
            "state": "REGISTERED",
            "mac": mac,
            # both addresses as in the vendor sample; only set_state() changes them
            "ethIp": "192.168.1.50",
            "wifiIp": "192.168.2.50",
            "online": True,
            "rebootPending": False,
            "rebootReason": "POWER_ON",
            "channel": "release",
        }
        self._firmware: dict[str, Any] = {
            "type": "HAN_FIRMWARE_MESSAGE",
            "activeSlot": "slot1",
        }
        self._set_firmware_version(version, "2025-01-01T12:00:00Z")
        meter_number = int(unit(seed, 99, 0) * 1e15)
        self._identity: dict[str, Any] = {
            "type": "HAN_METER_IDENTITY_MESSAGE",
            "manufacturerId": "KFM",
            "deviceType": "E",
            "meterId": f"A{meter_number:015d}",
            "meterName": "AM550",
        }
        self._ota = OtaManager(self, self._uuid, OFFERED_VERSION)
        self._faults: dict[HanFault, dict[str, Any]] = {}
        self._clients: set[_StreamClient] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._push_task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        # the listening socket; None while offline or in a reboot that refuses
        # connections (the runner and its app stay, so the state survives)
        self._server: asyncio.Server | None = None
        self._offline = False
        self._offline_timer: asyncio.TimerHandle | None = None
        # a pending return to listening (end of a refusing reboot or an outage)
        self._resume_task: asyncio.Task[None] | None = None
        self._power_lock = asyncio.Lock()
        self._host = "127.0.0.1"
        self._port = 0
        self._stopping = asyncio.Event()
        self._rebooting = False
        self._reboot_timer: asyncio.TimerHandle | None = None
        self._pending_install: str | None = None
        self._boot_mono = time.monotonic()
        self._reset_reason = "RST_POWERON"
        self._latest: MeterReading | None = None
        self._latest_mono = 0.0
        self._last_counters: dict[str, float] = {}
        self._telegram = ""
        self._raw = bytearray()
        self._scan: dict[str, Any] = {"status": "SCAN_FAILED"}
        self._scan_timer: asyncio.TimerHandle | None = None
        self._rssi = -58
        self._min_free_heap = 176320
        self.requests: Counter[str] = Counter()
        """Requests per path (control paths under ``/_sim`` are not counted)."""
        self.meter_messages_sent = 0
        """Meter messages broadcast by the periodic push and ``push_meter()``."""
        self.reboot_duration: float | None = 5.0
        """Down time of reboots from ``POST /reboot`` and OTA activation."""
        self.reboot_refuses_connections = False
        """Whether reboots from ``POST /reboot`` and OTA activation refuse connections
        (as a booting ESP32 does) instead of answering 503."""
        self.ota_step_seconds = 0.3
        """Time per 10 % of an OTA download and for image validation."""
        self.scan_seconds = 2.0
        """Duration of a WiFi scan."""
        self.scan_fails = False
        """Whether WiFi scans end in ``SCAN_FAILED`` (after ``scan_seconds``)."""
        self.configuration_posts: list[Any] = []
        """Raw bodies of every ``POST /configuration`` (to check partial updates)."""
        self.last_uploaded_image: bytes | None = None
        """The last image received by ``POST /ota`` or ``POST /update``."""

    # ---- lifecycle ---------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind the HTTP server (port 0 picks a free port) and start pushing."""
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        self._stopping = asyncio.Event()

        @web.middleware
        async def middleware(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            return await self._middleware(request, handler)

        app = web.Application(middlewares=[middleware])
        self._add_routes(app)
        # handler_cancellation: an SSE handler learns at once that its client left
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        self._runner = runner
        self._host = host
        self._port = port
        try:
            await self._listen()
        except BaseException:
            self._runner = None
            await runner.cleanup()
            raise
        self._boot_mono = time.monotonic()
        self._take_reading()
        self._start_push()
        _LOGGER.debug("HAN simulator listening on %s", self.url)

    async def _listen(self) -> None:
        """Open the listening socket on ``_host``/``_port`` for the running app."""
        runner = self._runner
        if runner is None or runner.server is None:
            raise RuntimeError("simulator not started")
        # what aiohttp's TCPSite does, but owning the asyncio.Server lets a reboot
        # stop listening at once (synchronously) and listen again on the same port
        server = await asyncio.get_running_loop().create_server(
            runner.server,
            self._host,
            self._port,
            reuse_address=True,
            start_serving=False,
        )
        try:
            await server.start_serving()
        except BaseException:
            # cancelled (stop() or go_offline() meanwhile): leave no socket behind
            server.close()
            raise
        self._server = server
        if server.sockets:
            self._port = int(server.sockets[0].getsockname()[1])

    def _stop_listening(self) -> asyncio.Server | None:
        """Close the listening socket: new connections are refused from now on."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        return server

    def _start_push(self) -> None:
        if self.push_interval is not None and self._push_task is None:
            self._push_task = self.spawn(self._push_loop())

    def _stop_push(self) -> None:
        if self._push_task is not None:
            self._push_task.cancel()
            self._push_task = None

    async def _cancel_resume(self) -> None:
        task, self._resume_task = self._resume_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def stop(self) -> None:
        """Close every stream, stop the server and cancel every task and timer."""
        runner = self._runner
        if runner is None:
            return
        self._runner = None
        self._stopping.set()
        await self._cancel_resume()
        for handle in list(self._timers):
            handle.cancel()
        self._timers.clear()
        self._reboot_timer = self._scan_timer = self._offline_timer = None
        self._offline = False
        self._stop_push()
        server = self._stop_listening()
        clients = list(self._clients)
        for client in clients:
            self._enqueue(client, CLOSE)
        if clients and not await self._closed_soon(clients):
            for client in clients:
                if not client.done.is_set():
                    client.abort()
            await self._closed_soon(clients)
        if server is not None:
            # A connection lingering after "Connection: close" would otherwise be
            # waited for on the loop's clock, which a test may have frozen.
            server.abort_clients()
        await runner.cleanup()
        if server is not None:
            await self._wait_closed(server)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        # let connection_lost callbacks scheduled by the cleanup run
        for _ in range(3):
            await asyncio.sleep(0)

    @staticmethod
    async def _wait_done(clients: list[_StreamClient], seconds: float) -> bool:
        waiters = [client.done.wait() for client in clients]
        try:
            async with asyncio.timeout(seconds):
                await asyncio.gather(*waiters)
        except TimeoutError:
            return False
        return True

    @staticmethod
    async def _closed_soon(clients: list[_StreamClient], turns: int = 200) -> bool:
        """Whether the streams end within a few event-loop turns.

        Counted in turns, not seconds, so that stopping also finishes under a
        test's frozen clock; a client that is slower than that is cut off.
        """
        for _ in range(turns):
            if all(client.done.is_set() for client in clients):
                return True
            await asyncio.sleep(0)
        return all(client.done.is_set() for client in clients)

    @staticmethod
    async def _wait_closed(server: asyncio.Server) -> None:
        # returns once every connection the server accepted is gone
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await server.wait_closed()

    # ---- power -------------------------------------------------------------

    async def go_offline(self, duration: float | None = None) -> None:
        """Lose power: drop every stream and connection and stop listening.

        New connections are refused (ECONNREFUSED) until ``come_back()`` or, with a
        ``duration``, until that many seconds have passed. Counters, configuration,
        faults and OTA state are kept (a download or validation in progress fails
        as ``interrupted``); the periodic push stops. A reboot in progress ends
        when the power returns. No-op (apart from ``duration``) when offline.
        """
        if self._runner is None:
            raise RuntimeError("simulator not started")
        if duration is not None and (not math.isfinite(duration) or duration < 0):
            raise ValueError("duration must be a finite number of seconds >= 0")
        await self._cancel_resume()
        async with self._power_lock:
            if not self._offline:
                await self._power_off()
            self._cancel_timer(self._offline_timer)
            self._offline_timer = (
                self._call_later(duration, self._come_back_later)
                if duration is not None
                else None
            )

    async def _power_off(self) -> None:
        self._offline = True
        self._cancel_timer(self._reboot_timer)
        self._reboot_timer = None
        self._cancel_scan()
        self._stop_push()
        if self._pending_install is None:
            self._ota.interrupted()
        server = self._stop_listening()
        clients = list(self._clients)
        for client in clients:
            client.abort()
        if server is not None:
            # no FIN, no close frame: the power is simply gone
            server.abort_clients()
        await self._wait_done(clients, 1.0)
        if server is not None:
            await self._wait_closed(server)
        _LOGGER.info("Reader offline (power lost)")

    async def come_back(self) -> None:
        """Power returns: listen on the same host and port and boot afresh.

        Uptime restarts at 0, the reset reason is power-on, a pending firmware
        install is applied and the periodic push resumes. No-op when online.
        """
        if self._runner is None:
            raise RuntimeError("simulator not started")
        async with self._power_lock:
            if not self._offline:
                return
            self._cancel_timer(self._offline_timer)
            self._offline_timer = None
            await self._listen()
            self._offline = False
            self._booted(power_on=True)
            # the meter kept counting meanwhile; the first reading catches up
            self._take_reading()
            self._start_push()

    def _come_back_later(self) -> None:
        self._offline_timer = None
        if self._resume_task is None:
            self._resume_task = self.spawn(self._resume(self.come_back()))

    async def _resume(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        finally:
            if self._resume_task is asyncio.current_task():
                self._resume_task = None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a background task owned (and cancelled) by the simulator."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            _LOGGER.error("Simulator task failed", exc_info=error)

    def _call_later(
        self, delay: float, callback: Callable[[], None]
    ) -> asyncio.TimerHandle:
        def fire() -> None:
            self._timers.discard(handle)
            callback()

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)
        return handle

    def _cancel_timer(self, handle: asyncio.TimerHandle | None) -> None:
        if handle is not None:
            handle.cancel()
            self._timers.discard(handle)

    async def _sleep(self, seconds: float) -> None:
        # ends early when the simulator stops, so no request outlives stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    async def _push_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while (interval := self.push_interval) is not None:
            next_at = max(next_at + interval, loop.time())
            await asyncio.sleep(next_at - loop.time())
            if not self._rebooting:
                self.push_meter()

    # ---- public properties -------------------------------------------------

    @property
    def port(self) -> int:
        """TCP port the simulator listens on (0 before start())."""
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8080``."""
        host = self._host
        if host in ("", "0.0.0.0"):  # noqa: S104 - comparing, not binding
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._port}"

    @property
    def stream_clients(self) -> int:
        """Number of open WebSocket and SSE connections."""
        return len(self._clients)

    @property
    def rebooting(self) -> bool:
        """Whether the simulated reader is down for a reboot."""
        return self._rebooting

    @property
    def offline(self) -> bool:
        """Whether the reader is without power (``go_offline()``)."""
        return self._offline

    @property
    def listening(self) -> bool:
        """Whether new connections are accepted (False offline and in refusing reboots)."""
        return self._server is not None

    @property
    def faults(self) -> dict[str, dict[str, Any]]:
        """Active faults and their parameters (a copy)."""
        return {fault.value: dict(params) for fault, params in self._faults.items()}

    @property
    def state(self) -> dict[str, Any]:
        """Current ``HAN_STATE_MESSAGE`` (a snapshot)."""
        return self._state_message()

    @property
    def configuration(self) -> dict[str, Any]:
        """Current ``GET /configuration`` body, password masked (a snapshot)."""
        return {"type": "HAN_CONFIGURATION", **masked(self._config)}

    @property
    def ota(self) -> dict[str, Any]:
        """Current ``HAN_OTA_MESSAGE`` (a snapshot)."""
        return self._ota.message()

    @property
    def health(self) -> dict[str, Any]:
        """A fresh ``HAN_HEALTH_MESSAGE`` (uptime and RSSI move on every call)."""
        return self._health_message()

    @property
    def firmware(self) -> dict[str, Any]:
        """Current ``HAN_FIRMWARE_MESSAGE`` (a snapshot)."""
        return dict(self._firmware)

    @property
    def meter_identity(self) -> dict[str, Any]:
        """``HAN_METER_IDENTITY_MESSAGE`` (a snapshot)."""
        return dict(self._identity)

    @property
    def installed_version(self) -> str:
        """Firmware version running now."""
        return str(self._state["version"])

    @property
    def update_policy(self) -> str:
        """Configured update policy (``up``)."""
        return str(self._config["up"])

    @property
    def wifi_password(self) -> str:
        """The stored (unmasked) WiFi password, for tests."""
        return str(self._config["w"].get("p", ""))

    def offer_update(
        self, version: str, release_notes: str | None = None, *, critical: bool = False
    ) -> dict[str, Any]:
        """Make the cloud offer ``version`` (OTA status UPDATE_AVAILABLE); broadcast."""
        self._ota.offer(version, release_notes, critical=critical)
        message = self._ota.message()
        self.broadcast(message)
        return message

    def issue_token(
        self, scope: str = DEFAULT_SCOPE, expires_in: int = TOKEN_LIFETIME
    ) -> str:
        """Return a bearer JWT signed by this reader (negative lifetime: expired)."""
        return self._tokens.issue(scope=scope, expires_in=expires_in)

    # ---- messages ----------------------------------------------------------

    def _state_message(self) -> dict[str, Any]:
        return {
            "type": "HAN_STATE_MESSAGE",
            "ts": int(time.time() * 1000),
        } | copy.deepcopy(self._state)

    def _config_message(self) -> dict[str, Any]:
        return {"type": "HAN_CONFIGURATION_MESSAGE", **masked(self._config)}

    def _health_message(self) -> dict[str, Any]:
        self._rssi = min(
            -45, max(-85, self._rssi + self._rng.choice((-2, -1, 0, 0, 1, 2)))
        )
        free = 182144 + self._rng.randint(-6144, 6144)
        self._min_free_heap = min(self._min_free_heap, free)
        websockets = sum(1 for client in self._clients if client.kind == "ws")
        return {
            "type": "HAN_HEALTH_MESSAGE",
            "ts": int(time.time() * 1000),
            "uuid": self._uuid,
            "hostname": self._state["name"],
            "heap_size": HEAP_SIZE,
            "free_heap_size": free,
            "free_heap_percent": round(free * 100 / HEAP_SIZE, 1),
            "minimum_free_heap_size": self._min_free_heap,
            "tlsReady": True,
            "wifi_rssi": self._rssi,
            "cpu_reset_reason": self._reset_reason,
            "connections": {
                "websocket": websockets,
                "sse": len(self._clients) - websockets,
                "cloud": bool(self._state.get("online")),
                "mqtt": False,
            },
            "uptime_ms": int((time.monotonic() - self._boot_mono) * 1000),
            "services": ["http", "websocket", "sse", "ota", "cloud", "ntp"],
        }

    def _set_firmware_version(self, version: str, built: str | None = None) -> None:
        digest = hashlib.sha1(version.encode(), usedforsecurity=False).hexdigest()
        self._firmware["version"] = version
        self._firmware["commit"] = digest[:7]
        self._firmware["time"] = built or datetime.now(UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        self._firmware["assetsVersion"] = digest[-12:]

    def _set_version(self, version: str) -> None:
        self._state["version"] = version
        self._config["v"] = version
        self._set_firmware_version(version)

    # ---- streams -----------------------------------------------------------

    @property
    def _stalled(self) -> bool:
        return HanFault.STALL_STREAM in self._faults

    def _extras(self, message: dict[str, Any]) -> dict[str, Any]:
        """Return ``message`` with the EXTRA_FIELDS keys added while that fault is on."""
        if HanFault.EXTRA_FIELDS in self._faults:
            return _with_fields(message, EXTRA_FIELDS)
        return message

    def _frame(self, kind: str, message: dict[str, Any]) -> str:
        message = self._extras(message)
        text = _dumps(message)
        if kind == "ws":
            return text
        if "type" in message:
            return f"event: {message['type']}\ndata: {text}\n\n"
        return f"data: {text}\n\n"

    def _enqueue(self, client: _StreamClient, item: str | _Control) -> None:
        if client.closing:
            return
        if isinstance(item, _Control):
            client.closing = True
            client.queue.put_nowait(item)
        elif client.queue.qsize() >= QUEUE_LIMIT:
            _LOGGER.warning("Dropping %s client that stopped reading", client.kind)
            client.abort()
        else:
            client.queue.put_nowait(item)

    def _attach(self, kind: str, request: web.Request) -> _StreamClient:
        transport = request.transport
        client = _StreamClient(
            kind, transport if isinstance(transport, asyncio.Transport) else None
        )
        if not self._stalled:
            for message in (
                self._state_message(),
                self._config_message(),
                self._ota.message(),
                self._current_reading().message(),
            ):
                self._enqueue(client, self._frame(kind, message))
        # registered in the same step as the burst, so no broadcast can slip in between
        self._clients.add(client)
        _LOGGER.debug("%s client connected (%d open)", kind, len(self._clients))
        return client

    def _detach(self, client: _StreamClient) -> None:
        self._clients.discard(client)
        client.closing = True
        client.done.set()

    def broadcast(self, message: dict[str, Any]) -> None:
        """Send one JSON message to every ws and sse client (SSE event = ``type``)."""
        if self._stalled:
            return
        frames = {kind: self._frame(kind, message) for kind in ("ws", "sse")}
        for client in list(self._clients):
            self._enqueue(client, frames[client.kind])

    def send_raw(self, ws_text: str, sse_block: str) -> None:
        """Send raw text to ws clients and a raw block to sse clients (may be malformed)."""
        if self._stalled:
            return
        for client in list(self._clients):
            self._enqueue(client, ws_text if client.kind == "ws" else sse_block)

    def send_malformed(self, kind: str) -> None:
        """Send a malformed message of ``kind`` (see ``MALFORMED_KINDS``) to all clients."""
        if kind not in MALFORMED_KINDS:
            raise ValueError(
                f"unknown kind {kind!r}, expected one of {MALFORMED_KINDS}"
            )
        if kind == "malformed_json":
            text = '{"type": "HAN_METER_MESSAGE", "p": [1,'
            self.send_raw(text, f"event: HAN_METER_MESSAGE\ndata: {text}\n\n")
        elif kind == "truncated_frame":
            full = _dumps(self._current_reading().message())
            if self._stalled:
                return
            for client in list(self._clients):
                if client.kind == "ws":
                    self._enqueue(client, full[: len(full) // 2])
                else:
                    self._enqueue(
                        client, 'event: HAN_METER_MESSAGE\ndata: {"type": "HAN_ME'
                    )
                    self._enqueue(client, HANGUP)
        elif kind == "unknown_type":
            self.broadcast(
                {
                    "type": "HAN_FUTURE_MESSAGE",
                    "ts": int(time.time() * 1000),
                    "uuid": self._uuid,
                    "payload": {"feature": "not yet invented", "values": [1, 2, 3]},
                }
            )
        elif kind == "numbers_as_strings":
            self.broadcast(_stringify(self._take_reading().message()))
        elif kind == "unknown_fields":
            message = self._take_reading().message()
            self.broadcast(_with_fields(message, UNKNOWN_METER_FIELDS))
        else:
            reading = self._current_reading()
            self.broadcast(
                {
                    "type": "HAN_METER_MESSAGE",
                    "ts": int(time.time() * 1000),
                    "p": list(reading.p[:2]),
                }
            )

    def drop_streams(self) -> None:
        """Close every open ws/sse connection now; the server stays up."""
        for client in list(self._clients):
            self._enqueue(client, CLOSE)

    async def _handle_ws(self, request: web.Request) -> web.StreamResponse:
        if HanFault.REFUSE_WEBSOCKET in self._faults:
            return _not_found()
        ws = web.WebSocketResponse(timeout=1.0, compress=False)
        if not ws.can_prepare(request).ok:
            return _error(400, "WebSocket upgrade expected")
        await ws.prepare(request)
        client = self._attach("ws", request)
        writer = self.spawn(self._ws_writer(ws, client))
        try:
            async for _message in ws:
                pass  # the reader ignores what clients send; reading answers pings
            if not client.closing:
                writer.cancel()
            # a close we started: let the writer finish the close handshake
            await asyncio.wait({writer}, timeout=2.0)
        finally:
            if not writer.done():
                writer.cancel()
            self._detach(client)
        await ws.close()
        return ws

    async def _ws_writer(
        self, ws: web.WebSocketResponse, client: _StreamClient
    ) -> None:
        try:
            while isinstance(item := await client.queue.get(), str):
                await ws.send_str(item)
            if item is HANGUP and client.transport is not None:
                client.transport.close()
            else:
                await ws.close(code=WSCloseCode.GOING_AWAY, message=b"closing")
        except OSError:
            client.closing = True

    async def _handle_sse(self, request: web.Request) -> web.StreamResponse:
        if HanFault.REFUSE_SSE in self._faults or (
            request.path == "/sse" and HanFault.SSE_EVENTS_ONLY in self._faults
        ):
            return _not_found()
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        client = self._attach("sse", request)
        item: str | _Control = CLOSE
        try:
            while isinstance(item := await client.queue.get(), str):
                await response.write(item.encode())
        except OSError:
            item = HANGUP
        finally:
            self._detach(client)
        if item is HANGUP and client.transport is not None:
            # no terminating chunk: the client sees the body end mid-event
            client.transport.close()
        response.force_close()
        return response

    # ---- meter readings ----------------------------------------------------

    def _meter_zone(self) -> tzinfo:
        meter_zone = self._config["m"].get("t") or self._config["t"]
        return get_zone(str(meter_zone))

    def _take_reading(self) -> MeterReading:
        now_mono = time.monotonic()
        reading = self._meter.read(time.time(), now_mono)
        self._latest = reading
        self._latest_mono = now_mono
        self._telegram = build_telegram(reading, self._identity, self._meter_zone())
        self._raw += self._telegram.encode("ascii")
        del self._raw[:-RAW_BUFFER_SIZE]
        return reading

    def _current_reading(self) -> MeterReading:
        period = self.push_interval or METER_PERIOD
        if self._latest is None or time.monotonic() - self._latest_mono >= period:
            return self._take_reading()
        return self._latest

    def _publish(self, reading: MeterReading) -> dict[str, Any]:
        """Return the message for ``reading``, consuming a pending counter glitch."""
        message = reading.message()
        glitch = self._faults.pop(HanFault.GLITCH_COUNTER, None)
        if glitch is not None:
            field = str(glitch["field"])
            if glitch["mode"] == "zero":
                value = 0.0
            else:
                last = min(
                    self._last_counters.get(field, math.inf), reading.counter(field)
                )
                value = max(0.0, last - float(glitch["amount"]))
            message[field] = format_counter(field, value)
            _LOGGER.debug("Glitched %s to %s", field, message[field])
        self._last_counters = {
            name: reading.counter(name) for name in ("ic", "ec", "ric", "rec")
        }
        return message

    def push_meter(self) -> dict[str, Any]:
        """Take a fresh reading and broadcast it as ``HAN_METER_MESSAGE``; return it.

        While STALL_STREAM is on or the reader is offline nothing is sent and a
        pending glitch is kept. With EXTRA_FIELDS the message has the extra keys.
        """
        reading = self._take_reading()
        if self._stalled or self._offline:
            return reading.message()
        message = self._extras(self._publish(reading))
        self.broadcast(message)
        self.meter_messages_sent += 1
        return message

    # ---- faults, reboots, state changes ------------------------------------

    def set_fault(self, fault: HanFault | str, **params: Any) -> None:
        """Switch a fault on (replacing its parameters if already on)."""
        fault = parse_fault(fault) if not isinstance(fault, HanFault) else fault
        self._faults[fault] = validate_params(fault, params)
        _LOGGER.info("Fault %s on %s", fault.value, self._faults[fault] or "")

    def clear_fault(self, fault: HanFault | str) -> None:
        """Switch one fault off (no error when it was off)."""
        fault = parse_fault(fault) if not isinstance(fault, HanFault) else fault
        if self._faults.pop(fault, None) is not None:
            _LOGGER.info("Fault %s off", fault.value)

    def clear_faults(self) -> None:
        """Switch every fault off."""
        self._faults.clear()

    def reboot(
        self, duration: float | None = 5.0, *, refuse_connections: bool = False
    ) -> None:
        """Reboot: push rebootPending, close streams, answer 503 until back.

        The reader comes back after ``duration`` seconds, or with None only when
        ``finish_reboot()`` is called. With ``refuse_connections`` it stops
        listening instead, as a booting ESP32 does: new connections are refused
        and open ones are closed (after the rebootPending push) until it is back.
        """
        if self._offline:
            raise RuntimeError("the reader is offline; use come_back()")
        self._begin_reboot(
            duration, "USER_REQUEST", None, refuse_connections=refuse_connections
        )

    def reboot_into(self, version: str) -> None:
        """Reboot for a firmware update; the reader comes back running ``version``."""
        self._begin_reboot(
            self.reboot_duration,
            "OTA_UPDATE",
            version,
            refuse_connections=self.reboot_refuses_connections,
        )

    def _cancel_scan(self) -> None:
        self._cancel_timer(self._scan_timer)
        self._scan_timer = None
        self._scan = {"status": "SCAN_FAILED"}

    def _begin_reboot(
        self,
        duration: float | None,
        reason: str,
        install: str | None,
        *,
        refuse_connections: bool = False,
    ) -> None:
        if install is not None:
            self._pending_install = install
        elif self._pending_install is None:
            self._ota.interrupted()
        if not self._rebooting:
            self._state["rebootPending"] = True
            self._state["rebootReason"] = reason
            self.broadcast(self._state_message())
            self.drop_streams()
            self._rebooting = True
            self._cancel_scan()
            _LOGGER.info("Rebooting (%s)", reason)
        if refuse_connections and self._server is not None:
            self._stop_listening()
            self._close_connections()
        self._cancel_timer(self._reboot_timer)
        self._reboot_timer = (
            self._call_later(duration, self.finish_reboot)
            if duration is not None
            else None
        )

    def _close_connections(self) -> None:
        """Close every open connection once its current request is answered."""
        runner = self._runner
        if runner is not None and runner.server is not None:
            for handler in runner.server.connections:
                # idle keep-alive connections close now; a request in progress
                # (this very POST /reboot) gets its answer first
                handler.close()
        if clients := list(self._clients):
            self.spawn(self._reap_streams(clients))

    async def _reap_streams(self, clients: list[_StreamClient]) -> None:
        # the streams were told to close after the rebootPending push; cut off
        # any whose client does not read it
        if not await self._wait_done(clients, 1.0):
            for client in clients:
                if not client.done.is_set():
                    client.abort()

    def finish_reboot(self) -> None:
        """End a reboot now: the reader answers again (no-op when not rebooting).

        After a reboot that refuses connections the reader listens again a moment
        later (``rebooting`` stays True until it does). While offline the reboot
        ends only when the power returns (``come_back()``).
        """
        if not self._rebooting or self._offline:
            return
        self._cancel_timer(self._reboot_timer)
        self._reboot_timer = None
        if self._server is None:
            if self._resume_task is None:
                self._resume_task = self.spawn(self._resume(self._relisten()))
            return
        self._booted(power_on=False)

    async def _relisten(self) -> None:
        async with self._power_lock:
            if self._rebooting and not self._offline and self._server is None:
                await self._listen()
                self._booted(power_on=False)

    def _booted(self, *, power_on: bool) -> None:
        """Finish booting: uptime restarts, a pending install is applied."""
        self._rebooting = False
        self._boot_mono = time.monotonic()
        self._reset_reason = "RST_POWERON" if power_on else "RST_SW"
        self._min_free_heap = 176320
        self._state["rebootPending"] = False
        if power_on:
            self._state["rebootReason"] = "POWER_ON"
        if (version := self._pending_install) is not None:
            self._pending_install = None
            self._ota.installed(version)
            self._set_version(version)
            self._firmware["activeSlot"] = self._ota.active_slot
        _LOGGER.info(
            "%s, running %s",
            "Power back" if power_on else "Reboot finished",
            self.installed_version,
        )
        self.broadcast(self._state_message())

    def set_state(self, **fields: Any) -> dict[str, Any]:
        """Change fields of the state message and broadcast it; return the message."""
        for key in ("type", "ts"):
            if key in fields:
                raise ValueError(f"{key} cannot be set")
        self._state.update(copy.deepcopy(fields))
        if "version" in fields:
            # /firmware and configuration v report the same running version
            self._set_version(str(fields["version"]))
            self.broadcast(self._config_message())
        message = self._state_message()
        self.broadcast(message)
        return message

    def set_configuration(self, patch: dict[str, Any]) -> dict[str, Any]:
        """Deep-merge ``patch`` (unvalidated) and broadcast; return the message."""
        patch = copy.deepcopy(patch)
        wifi = patch.get("w")
        if isinstance(wifi, dict) and wifi.get("p") == PASSWORD_MASK:
            del wifi["p"]
        self._apply_configuration(deep_merge(self._config, patch))
        message = self._config_message()
        self.broadcast(message)
        return message

    def _apply_configuration(self, config: dict[str, Any]) -> None:
        self._config = config
        _remember_wifi_password(config, "w", "p")
        zone = get_zone(str(config.get("t", "UTC")))
        if str(zone) != str(self.model.zone):
            self.model.zone = zone

    # ---- HTTP plumbing -----------------------------------------------------

    async def _middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        response = await self._dispatch(request, handler)
        if (
            HanFault.EXTRA_FIELDS in self._faults
            and not request.path.startswith("/_sim/")
            and isinstance(response, web.Response)
            and not response.prepared
            and response.content_type == "application/json"
            and isinstance(body := response.body, bytes)
        ):
            message = json.loads(body)
            if isinstance(message, dict):
                response.body = _dumps(self._extras(message)).encode()
        return response

    async def _dispatch(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        path = request.path
        if not path.startswith("/_sim/"):
            self.requests[path] += 1
            if self._rebooting:
                return _error(503, "rebooting")
            failure = self._faults.get(HanFault.HTTP_ERROR)
            if failure is not None and path.startswith(str(failure["path"])):
                return _error(int(failure["status"]), "unable to process request")
            slow = self._faults.get(HanFault.SLOW_RESPONSE)
            if slow is not None and path not in STREAM_PATHS:
                await self._sleep(float(slow["seconds"]))
        try:
            return await handler(request)
        except (_RequestError, OtaError, TokenError) as err:
            return _error(err.status, err.message)
        except ConfigError as err:
            return _error(400, str(err))

    @staticmethod
    async def _read_json(request: web.Request, *, optional: bool = False) -> Any:
        text = await request.text()
        if optional and not text.strip():
            return {}
        try:
            return json.loads(text)
        except ValueError:
            raise _RequestError(400, "request body is not valid JSON") from None

    @staticmethod
    async def _read_image(request: web.Request) -> bytes:
        if not request.content_type.startswith("multipart/"):
            raise _RequestError(
                400, "multipart/form-data with field 'filename' expected"
            )
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name != "filename":
                    continue
                image = bytearray()
                while chunk := await part.read_chunk(65536):
                    image += chunk
                    if len(image) > MAX_IMAGE_SIZE:
                        raise _RequestError(413, "image too large")
                return bytes(image)
        except ValueError, AssertionError:
            raise _RequestError(400, "malformed multipart body") from None
        raise _RequestError(400, "multipart field 'filename' missing")

    def _add_routes(self, app: web.Application) -> None:
        app.add_routes(
            [
                web.get("/", self._get_index),
                web.get("/han", self._get_state),
                web.get("/ws", self._handle_ws),
                web.get("/sse", self._handle_sse),
                web.get("/events", self._handle_sse),
                web.get("/auth/token", self._get_token),
                web.get("/health", self._get_health),
                web.get("/firmware", self._get_firmware),
                web.get("/update", self._get_update),
                web.post("/update", self._post_update),
                web.get("/ota", self._get_ota),
                web.post("/ota", self._post_ota),
                web.post("/ota/download", self._post_ota_download),
                web.post("/ota/clear", self._post_ota_clear),
                web.post("/ota/activate", self._post_ota_activate),
                web.post("/setup", self._post_setup),
                web.get("/configuration", self._get_configuration),
                web.post("/configuration", self._post_configuration),
                web.get("/definitions", self._get_definitions),
                web.post("/reboot", self._post_reboot),
                web.get("/scan", self._get_scan),
                web.get("/meter", self._get_meter),
                web.get("/meter/id", self._get_meter_id),
                web.get("/data", self._get_data),
                web.get("/prices", self._get_prices),
                web.get("/telegram", self._get_telegram),
                web.get("/raw", self._get_raw),
                web.get(
                    "/history/{kind:hourly|weekly|monthly|yearly}", self._get_history
                ),
                # simulator control, never faulted or counted
                web.get("/_sim/status", self._sim_status),
                web.get("/_sim/fault", self._sim_faults),
                web.delete("/_sim/fault", self._sim_clear_faults),
                web.post("/_sim/fault/{name}", self._sim_set_fault),
                web.delete("/_sim/fault/{name}", self._sim_clear_fault),
                web.post("/_sim/push_meter", self._sim_push_meter),
                web.post("/_sim/drop_streams", self._sim_drop_streams),
                web.post("/_sim/reboot", self._sim_reboot),
                web.post("/_sim/finish_reboot", self._sim_finish_reboot),
                web.post("/_sim/malformed/{kind}", self._sim_malformed),
                web.post("/_sim/state", self._sim_state),
                web.post("/_sim/configuration", self._sim_configuration),
            ]
        )

    # ---- REST handlers -----------------------------------------------------

    async def _get_index(self, _request: web.Request) -> web.StreamResponse:
        return web.Response(
            text=f"Cozify HAN reader simulator {self._state['serial']}\n"
            "API: /han /meter /configuration /ws /sse; control: /_sim/status\n"
        )

    async def _get_state(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._state_message())

    async def _get_token(self, _request: web.Request) -> web.StreamResponse:
        expired = self._faults.pop(HanFault.EXPIRED_TOKEN, None) is not None
        scope = "ota:read" if HanFault.TOKEN_SCOPE in self._faults else DEFAULT_SCOPE
        return web.json_response(
            {
                "type": "HAN_AUTH_TOKEN",
                "tokenType": "Bearer",
                "accessToken": self._tokens.issue(
                    scope, -60 if expired else TOKEN_LIFETIME
                ),
                "audience": AUDIENCE,
                "scope": DEFAULT_SCOPE,
                "expiresIn": TOKEN_LIFETIME,
            }
        )

    async def _get_health(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._health_message())

    async def _get_firmware(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._firmware)

    async def _get_update(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._ota.legacy)

    async def _post_update(self, request: web.Request) -> web.StreamResponse:
        image = await self._read_image(request)
        self.last_uploaded_image = image
        status, body = self._ota.legacy_upload(image)
        return web.json_response(body, status=status)

    async def _get_ota(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._ota.message())

    async def _post_ota(self, request: web.Request) -> web.StreamResponse:
        if HanFault.NO_OTA_ENDPOINT in self._faults:
            raise web.HTTPNotFound
        # authorization first: an unauthorised client must not get to upload
        self._tokens.authorize(request.headers.get("Authorization"))
        image = await self._read_image(request)
        self.last_uploaded_image = image
        if self._faults.pop(HanFault.OTA_FAIL, None) is not None:
            image = b"corrupt"
        status, body = self._ota.upload(image)
        return web.json_response(body, status=status)

    async def _post_ota_download(self, _request: web.Request) -> web.StreamResponse:
        self._ota.fail_next = self._faults.pop(HanFault.OTA_FAIL, None) is not None
        return web.json_response(self._ota.download())

    async def _post_ota_clear(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._ota.clear())

    async def _post_ota_activate(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._ota.activate())

    async def _post_setup(self, request: web.Request) -> web.StreamResponse:
        body = await self._read_json(request)
        # even a password the validation rejects was sent in the clear
        _remember_wifi_password(body, "sp")
        config = validate_setup(self._config, body)
        self._apply_configuration(config)
        self.broadcast(self._config_message())
        return web.json_response({"success": True, "message": "setup:ok"})

    async def _get_configuration(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self.configuration)

    async def _post_configuration(self, request: web.Request) -> web.StreamResponse:
        body = await self._read_json(request)
        _remember_wifi_password(body, "w", "p")
        self.configuration_posts.append(copy.deepcopy(body))
        merged, changed = validate_update(self._config, body)
        if changed:
            self._apply_configuration(merged)
            self.broadcast(self._config_message())
        return web.json_response(
            {
                "success": True,
                "message": "configuration:ok" if changed else "configuration:unchanged",
                "rebootRequired": bool(changed & REBOOT_KEYS),
            }
        )

    async def _get_definitions(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(definitions())

    async def _post_reboot(self, _request: web.Request) -> web.StreamResponse:
        response = web.json_response(
            {"success": True, "message": "reboot:ok", "rebootRequired": True}
        )
        # this request already passed the checks, so it is answered before going down
        self._begin_reboot(
            self.reboot_duration,
            "USER_REQUEST",
            None,
            refuse_connections=self.reboot_refuses_connections,
        )
        return response

    async def _get_scan(self, request: web.Request) -> web.StreamResponse:
        if "X-Scan-Start" in request.headers and self._scan["status"] != "SCAN_RUNNING":
            self._scan = {"status": "SCAN_RUNNING"}
            self._scan_timer = self._call_later(self.scan_seconds, self._finish_scan)
        return web.json_response(self._scan)

    def _finish_scan(self) -> None:
        self._scan_timer = None
        if self.scan_fails:
            self._scan = {"status": "SCAN_FAILED"}
            return
        networks: list[dict[str, Any]] = []
        for index, (ssid, auth, channel, rssi) in enumerate(_SCAN_NETWORKS):
            octets = [
                int(unit(seed_from(self._uuid), 70 + index, n) * 256) for n in range(6)
            ]
            octets[0] &= 0xFC  # unicast, globally administered
            networks.append(
                {
                    "ssid": ssid,
                    "bssid": ":".join(f"{octet:02X}" for octet in octets),
                    "rssi": rssi + self._rng.randint(-3, 3),
                    "channel": channel,
                    "auth": auth,
                }
            )
        networks.sort(key=lambda network: -int(network["rssi"]))
        self._scan = {"status": "SCAN_SUCCESS", "networks": networks}

    async def _get_meter(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._publish(self._current_reading()))

    async def _get_meter_id(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._identity)

    def _device_zone(self) -> tzinfo:
        return get_zone(str(self._config["t"]))

    def _price_now(self, now: float) -> float:
        slot = int(now // 900) * 900
        return self._prices.price(self._config, slot, self._device_zone())

    async def _get_data(self, _request: web.Request) -> web.StreamResponse:
        reading = self._current_reading()
        now = time.time()
        zone = self._device_zone()
        fuse = int(self._config["m"]["f"])
        hour_start = int(now // 3600) * 3600
        day_start = local_day_start(now, zone)
        local = datetime.fromtimestamp(now, zone)
        month_start = int(datetime(local.year, local.month, 1, tzinfo=zone).timestamp())
        # nested sums keep h <= d <= m
        hour = imported_energy(self.model, hour_start, now, 60.0)
        day = hour + imported_energy(self.model, day_start, min(hour_start, now), 900.0)
        month = day + imported_energy(self.model, month_start, day_start, 3600.0)
        data: dict[str, Any] = {
            "type": "HAN_COMPACT_DATA_MESSAGE",
            # 240 V x fuse per phase, as in the vendor sample (25 A -> 18000 W)
            "im": fuse * 240 * self.phases,
            "mf": fuse,
            "i": reading.pi[0],
            "e": reading.pe[0],
            "ri": reading.ri[0],
            "re": reading.re[0],
            "ic": round(reading.ic, 3),
            "ec": round(reading.ec, 3),
            "ric": round(reading.ric, 3),
            "rec": round(reading.rec, 3),
        }
        for phase, voltage in enumerate(reading.u, start=1):
            data[f"u{phase}"] = voltage
        for phase, current in enumerate(reading.i, start=1):
            data[f"i{phase}"] = current
        price = self._price_now(now)
        # "estimated cost values": energy of the running hour/day/month at the
        # current price, in minor currency units (cents, öre) like `p`.
        data.update(
            p=price,
            pc=self._config["pc"],
            c=int(now),
            ep={
                "h": round(hour * price, 3),
                "d": round(day * price, 3),
                "m": round(month * price, 3),
            },
        )
        return web.json_response(data)

    async def _get_prices(self, _request: web.Request) -> web.StreamResponse:
        now = time.time()
        zone = self._device_zone()
        start = local_day_start(now, zone)
        # day-ahead prices for tomorrow are published in the early afternoon
        days = 2 if datetime.fromtimestamp(now, zone).hour >= 14 else 1
        end = local_day_start(now, zone, days)
        slots = [
            {
                "s": slot,
                "e": slot + 900,
                "p": self._prices.price(self._config, slot, zone),
            }
            for slot in range(start, end, 900)
        ]
        return web.json_response(
            {
                "type": "HAN_PRICES_MESSAGE",
                "price": self._price_now(now),
                "currency": self._config["pc"],
                "prices": slots,
            }
        )

    async def _get_telegram(self, _request: web.Request) -> web.StreamResponse:
        self._current_reading()
        return web.Response(text=self._telegram, content_type="text/plain")

    async def _get_raw(self, _request: web.Request) -> web.StreamResponse:
        self._current_reading()
        return web.Response(
            body=bytes(self._raw), content_type="application/octet-stream"
        )

    async def _get_history(self, request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        zone = self._device_zone()
        config = self._config

        def price(slot: int) -> float:
            return self._prices.price(config, slot, zone)

        gap = self._faults.get(HanFault.HISTORY_GAP)
        message = self._history.message(
            kind,
            time.time(),
            price=price,
            currency=str(config["pc"]),
            gap=(gap["start"], gap["end"]) if gap is not None else None,
        )
        return web.json_response(message)

    # ---- control handlers --------------------------------------------------

    def _status(self) -> dict[str, Any]:
        return {
            "success": True,
            "faults": self.faults,
            "rebooting": self._rebooting,
            "stream_clients": self.stream_clients,
            "meter_messages_sent": self.meter_messages_sent,
            "requests": dict(self.requests),
        }

    async def _sim_status(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self._status())

    async def _sim_faults(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response({"success": True, "faults": self.faults})

    async def _sim_set_fault(self, request: web.Request) -> web.StreamResponse:
        params = await self._read_json(request, optional=True)
        if not isinstance(params, dict):
            raise _RequestError(400, "fault parameters must be a JSON object")
        try:
            self.set_fault(parse_fault(request.match_info["name"]), **params)
        except ValueError as err:
            raise _RequestError(400, str(err)) from None
        return web.json_response({"success": True, "faults": self.faults})

    async def _sim_clear_fault(self, request: web.Request) -> web.StreamResponse:
        try:
            self.clear_fault(parse_fault(request.match_info["name"]))
        except ValueError as err:
            raise _RequestError(400, str(err)) from None
        return web.json_response({"success": True, "faults": self.faults})

    async def _sim_clear_faults(self, _request: web.Request) -> web.StreamResponse:
        self.clear_faults()
        return web.json_response({"success": True, "faults": self.faults})

    async def _sim_push_meter(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self.push_meter())

    async def _sim_drop_streams(self, _request: web.Request) -> web.StreamResponse:
        dropped = self.stream_clients
        self.drop_streams()
        return web.json_response({"success": True, "dropped": dropped})

    async def _sim_reboot(self, request: web.Request) -> web.StreamResponse:
        raw = request.query.get("duration", "5")
        duration: float | None
        if raw.lower() in ("none", "manual", ""):
            duration = None
        else:
            try:
                duration = float(raw)
            except ValueError:
                raise _RequestError(400, "duration must be seconds or 'none'") from None
            if not math.isfinite(duration) or duration < 0:
                raise _RequestError(400, "duration must be seconds or 'none'")
        try:
            refuse = _flag(request.query.get("refuse_connections", ""))
        except ValueError as err:
            raise _RequestError(400, f"refuse_connections: {err}") from None
        if refuse and duration is None:
            # /_sim/finish_reboot cannot be reached while connections are refused
            raise _RequestError(400, "refuse_connections needs a duration")
        self.reboot(duration, refuse_connections=refuse)
        return web.json_response(
            {"success": True, "duration": duration, "refuse_connections": refuse}
        )

    async def _sim_finish_reboot(self, _request: web.Request) -> web.StreamResponse:
        self.finish_reboot()
        return web.json_response(self._status())

    async def _sim_malformed(self, request: web.Request) -> web.StreamResponse:
        try:
            self.send_malformed(request.match_info["kind"])
        except ValueError as err:
            raise _RequestError(404, str(err)) from None
        return web.json_response({"success": True})

    async def _sim_state(self, request: web.Request) -> web.StreamResponse:
        fields = await self._read_json(request)
        if not isinstance(fields, dict):
            raise _RequestError(400, "state fields must be a JSON object")
        try:
            return web.json_response(self.set_state(**fields))
        except ValueError as err:
            raise _RequestError(400, str(err)) from None

    async def _sim_configuration(self, request: web.Request) -> web.StreamResponse:
        patch = await self._read_json(request)
        if not isinstance(patch, dict):
            raise _RequestError(400, "configuration patch must be a JSON object")
        return web.json_response(self.set_configuration(patch))
