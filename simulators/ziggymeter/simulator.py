"""ZiggyMeter meter reader simulator: its REST API over HTTPS."""

import asyncio
from collections import Counter
from dataclasses import dataclass
import json
import logging
import math
from pathlib import Path
import secrets
import string
import time
from typing import Any

from aiohttp import web

from ..params import check_durations
from ..server import (
    AccountServer,
    Handler,
    answer_json_errors,
    json_error,
    send_now,
    send_truncated,
)
from .data import DAY, House, image_version, phase_voltage
from .faults import ZiggyFault, parse_fault, validate_params

_LOGGER = logging.getLogger(__name__)

API = "/api/v1/system"
LOGIN_PATHS: dict[str, tuple[str, ...]] = {
    "both": (f"{API}/login", "/login"),
    "api": (f"{API}/login",),
    "legacy": ("/login",),
}
AUTHENTICATED = frozenset(
    f"{API}/{name}" for name in ("logout", "status", "version", "ota")
)
POWER_SOURCES = ("usb", "battery")
TOKEN_LENGTH = 40
_TOKEN_ALPHABET = string.ascii_letters + string.digits
OTA_WINDOW = 4096
"""Bytes before the OTA rate window opens (the 4096th byte starts it)."""
OTA_TOLERANCE = 1.05
"""The rate may exceed the limit by 5 %."""
OTA_SLACK = 1024
"""Bytes the upload may be ahead of the paced limit (one block of jitter)."""
OTA_REBOOT_DELAY = 0.5
"""Seconds between the answer to an accepted upload and the reboot."""
LINGER_SECONDS = 1.0
"""After refusing an upload, incoming bytes are discarded this long before the
connection closes, so the client reads the answer instead of a reset."""
BATTERY_DRAIN_PER_HOUR = 0.25
"""Battery percent lost per hour on battery."""
FIRMWARE_DATE = "Jan  3 2026"
"""C ``__DATE__`` of the firmware build (days padded with a space)."""
FIRMWARE_TIME = "11:50:00"
FRONTEND_TIME = "11:36:31"
UPGRADE_URL = "https://fw.ziggymeter.com/"


@dataclass(slots=True)
class OtaUpload:
    """One OTA upload attempt (every authenticated ``POST /api/v1/system/ota``)."""

    size: int
    """Bytes received (until the refusal, for a refused one)."""
    content_length: int | None
    accepted: bool
    reason: str | None
    """Why it was refused: ``rate``, ``ota_refuse``, ``length_required``, ``incomplete``."""
    measured_rate: float | None
    """Bytes/s after the first 4 KiB (from the 4096th byte's arrival); None below it."""
    started: float
    """time.monotonic() when the request reached the handler."""
    ended: float
    """time.monotonic() when it was answered."""


def _is_number(item: object) -> bool:
    return isinstance(item, int | float) and not isinstance(item, bool)


def _stringify(item: Any) -> Any:
    if isinstance(item, dict):
        return {key: _stringify(value) for key, value in item.items()}
    if _is_number(item):
        return str(item)
    return item


def _new_token() -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


class ZiggySimulator(AccountServer):
    """A simulated ZiggyMeter serving its REST API over HTTPS only.

    ``power`` ``usb`` listens all the time; ``battery`` runs a duty cycle of
    ``awake_seconds`` listening and ``asleep_seconds`` refusing connections
    (``loop.call_later`` timers, so a frozen test clock drives it).
    """

    CERT_STEM = "ziggymeter"
    CERT_NAME = "ZiggyMeter"
    LOG_NAME = "ZiggyMeter simulator"

    def __init__(
        self,
        username: str = "admin",
        password: str = "ziggy-password",  # noqa: S107 - a simulator default
        *,
        login_paths: str = "both",
        token_lifetime: float = 3600.0,
        phases: int = 3,
        export: bool = True,
        power: str = "usb",
        awake_seconds: float = 20.0,
        asleep_seconds: float = 280.0,
        ota_limit: float = 1024.0,
        reboot_seconds: float = 5.0,
        firmware_version: str = "1.0.320",
        build_number: int = 320,
        extra_keys: bool = False,
        integers: bool = False,
        identifier: str | None = None,
    ) -> None:
        if login_paths not in LOGIN_PATHS:
            raise ValueError(f"login_paths must be one of {', '.join(LOGIN_PATHS)}")
        if power not in POWER_SOURCES:
            raise ValueError(f"power must be one of {', '.join(POWER_SOURCES)}")
        check_durations(
            {
                "token_lifetime": token_lifetime,
                "awake_seconds": awake_seconds,
                "asleep_seconds": asleep_seconds,
                "ota_limit": ota_limit,
            },
            {"reboot_seconds": reboot_seconds},
        )
        super().__init__(password)
        self.username = username
        self.login_paths = login_paths
        """Which login paths answer: ``both``, ``api`` or ``legacy``."""
        self.token_lifetime = token_lifetime
        """Seconds a newly issued token stays valid (``expires_in_secs``)."""
        self.phases = phases
        self.export = export
        self.power = power
        """Current supply: ``usb`` or ``battery`` (switch with set_power())."""
        self.awake_seconds = awake_seconds
        self.asleep_seconds = asleep_seconds
        self.ota_limit = ota_limit
        """Upload rate (bytes/s) above which an OTA upload is refused."""
        self.reboot_seconds = reboot_seconds
        """Seconds the device is off after an accepted upload."""
        self.firmware_version = firmware_version
        self.build_number = build_number
        self.extra_keys = extra_keys
        self.integers = integers
        self.identifier = identifier
        self.requests: Counter[str] = Counter()
        """Requests per path (control paths under ``/_sim`` are not counted)."""
        self.logins = 0
        """Successful logins."""
        self.logouts = 0
        """Successful logouts."""
        self.uploads: list[OtaUpload] = []
        """Every OTA upload attempt, oldest first."""
        self._house = House(phases, solar=export, digits=0 if integers else 1)
        self._faults: dict[ZiggyFault, dict[str, Any]] = {}
        self._served_import: float | None = None
        self._boot_time = time.time()
        self._asleep = False
        self._unplugged = False
        self._duty_timer: asyncio.TimerHandle | None = None
        self._ota_timer: asyncio.TimerHandle | None = None
        self._pending_firmware: tuple[int, str] | None = None
        self._battery_level = 87.0
        self._battery_since = time.time()

    # ---- lifecycle -------------------------------------------------------------

    async def start(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        cert_dir: Path | str | None = None,
    ) -> None:
        """Serve HTTPS (port 0 picks a free port) with a self-signed certificate.

        ``cert_dir``: keep the certificate there across restarts:
        ``ziggymeter.crt`` and ``ziggymeter.key`` are reused when they parse,
        match and cover ``host``, and written there otherwise; ``stop()``
        leaves them. Without it the certificate lives in a temporary directory
        that ``stop()`` removes.
        """
        await self._start(host, port, tls_on=True, cert_dir=cert_dir)
        self._boot_time = time.time()
        self._asleep = False
        self._unplugged = False
        if self.power == "battery":
            self._schedule(self.awake_seconds, self._duty_sleep)

    async def stop(self) -> None:
        """Stop the server, its timers, and remove the certificate files."""
        self._cancel_duty()
        self._cancel_ota_reboot()
        await super().stop()

    def _application(self) -> web.Application:
        @web.middleware
        async def middleware(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            return await self._middleware(request, handler)

        app = web.Application(middlewares=[middleware])
        app.add_routes(
            [
                web.post(f"{API}/login", self._post_login),
                web.post("/login", self._post_login),
                web.post(f"{API}/logout", self._post_logout),
                web.get(f"{API}/version", self._get_version),
                web.get(f"{API}/status", self._get_status),
                web.post(f"{API}/ota", self._post_ota),
                # simulator control, never faulted, counted or authenticated
                web.get("/_sim/status", self._sim_status),
                web.post("/_sim/sleep", self._sim_sleep),
                web.post("/_sim/wake", self._sim_wake),
                web.post("/_sim/power", self._sim_power),
                *self._control_routes(),
            ]
        )
        return app

    # ---- power, sleep and connection-level life cycle ---------------------------

    @property
    def awake(self) -> bool:
        """False while asleep (battery duty cycle or sleep_now())."""
        return not self._asleep

    async def go_offline(self) -> None:
        """Unplug: every connection cut, new ones refused until come_back().

        Tokens, counters, faults, certificate and password are kept until the
        come-back (a fresh boot drops the tokens). A pending reboot and the
        duty cycle stop.
        """
        self._require_started()
        self._cancel_duty()
        self._cancel_ota_reboot()
        self._unplugged = True
        self._asleep = False
        await super().go_offline()

    async def come_back(self) -> None:
        """Power again after go_offline() (or end a reboot early): a fresh boot.

        Every token is dropped and the uptime restarts. While merely asleep
        this wakes the device (no new boot); no-op while online.
        """
        self._require_started()
        if self._asleep and not self._unplugged and not self._rebooting:
            self.wake_now()
            await self._settle()
            return
        self._unplugged = False
        await super().come_back()

    def reboot(self, duration: float = 10.0) -> None:
        """Refuse connections for ``duration`` s, then come back freshly booted.

        Every token is dropped and the uptime restarts at the come-back (a
        ``loop.call_later`` timer).
        """
        self._require_started()
        self._cancel_duty()
        self._cancel_ota_reboot()
        super().reboot(duration)
        self._unplugged = False
        self._asleep = False

    def sleep_now(self, seconds: float | None = None) -> None:
        """Stop listening now (connections refused); tokens and uptime are kept.

        Asleep until wake_now(), the next scheduled wake (on battery, after
        ``asleep_seconds``) or, with ``seconds``, after that many seconds.
        Ignored while unplugged or rebooting.
        """
        self._require_started()
        if seconds is not None and (not math.isfinite(seconds) or seconds < 0):
            raise ValueError("seconds must be finite and not negative")
        if self._unplugged or self._rebooting:
            return
        self._cancel_duty()
        self._asleep = True
        if self._online:
            self._go_down()
        if seconds is not None:
            self._schedule(seconds, self._duty_wake)
        elif self.power == "battery":
            self._schedule(self.asleep_seconds, self._duty_wake)

    def wake_now(self) -> None:
        """Listen now; on battery stay awake ``awake_seconds``, then sleep again.

        Ignored while unplugged or rebooting.
        """
        self._require_started()
        if self._unplugged or self._rebooting:
            return
        self._cancel_duty()
        self._asleep = False
        if not self._online:
            self._bring_up(boot=False)
        if self.power == "battery":
            self._schedule(self.awake_seconds, self._duty_sleep)

    def set_power(self, source: str) -> None:
        """Switch the supply to ``usb`` (always listening) or ``battery``.

        Battery starts an awake window now, then follows the duty cycle.
        """
        if source not in POWER_SOURCES:
            raise ValueError(f"power must be one of {', '.join(POWER_SOURCES)}")
        now = time.time()
        if source != self.power:
            if source == "usb":
                self._battery_level = self._battery_percent(now)
            else:
                self._battery_since = now
        self.power = source
        if self._runner is None:
            return
        if source == "battery" or self._asleep:
            self.wake_now()
        else:
            self._cancel_duty()

    def _schedule(self, delay: float, callback: Any) -> None:
        self._cancel_duty()
        loop = asyncio.get_running_loop()
        self._duty_timer = loop.call_later(delay, callback)

    def _cancel_duty(self) -> None:
        if self._duty_timer is not None:
            self._duty_timer.cancel()
            self._duty_timer = None

    def _duty_sleep(self) -> None:
        self._duty_timer = None
        if self.power == "battery" and not (self._unplugged or self._rebooting):
            self.sleep_now()

    def _duty_wake(self) -> None:
        self._duty_timer = None
        if self._unplugged or self._rebooting:
            return
        self._asleep = False
        if not self._online:
            self._try_bring_up(boot=False)
        if self.power == "battery":
            self._schedule(self.awake_seconds, self._duty_sleep)

    def _fresh_boot(self) -> None:
        self._tokens.clear()
        self._boot_time = time.time()
        self._asleep = False
        if self._pending_firmware is not None:
            self.build_number, self.firmware_version = self._pending_firmware
            self._pending_firmware = None
        if self.power == "battery":
            self._schedule(self.awake_seconds, self._duty_sleep)

    def _cancel_ota_reboot(self) -> None:
        if self._ota_timer is not None:
            self._ota_timer.cancel()
            self._ota_timer = None

    def _ota_reboot(self) -> None:
        self._ota_timer = None
        if self._runner is not None and not self._unplugged:
            self.reboot(self.reboot_seconds)

    # ---- accounts and tokens -----------------------------------------------------

    def issue_token(self, lifetime: float | None = None) -> str:
        """Return a valid token without a login (``lifetime`` s, default token_lifetime)."""
        lifetime = self.token_lifetime if lifetime is None else lifetime
        return self._tokens.issue(_new_token(), lifetime)

    def _token(self, request: web.Request) -> str | None:
        """Return the request's valid Bearer token, or None."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        return token if self._tokens.valid(token) else None

    # ---- faults ----------------------------------------------------------------

    @property
    def faults(self) -> dict[str, dict[str, Any]]:
        """Active faults with their parameters."""
        return {fault.value: dict(params) for fault, params in self._faults.items()}

    def set_fault(self, fault: ZiggyFault | str, **params: Any) -> None:
        """Switch a fault on (replacing its parameters if already on)."""
        fault = parse_fault(fault) if not isinstance(fault, ZiggyFault) else fault
        self._faults[fault] = validate_params(fault, params)

    def clear_fault(self, fault: ZiggyFault | str) -> None:
        """Switch one fault off (no error when it was off)."""
        fault = parse_fault(fault) if not isinstance(fault, ZiggyFault) else fault
        self._faults.pop(fault, None)

    def clear_faults(self) -> None:
        """Switch every fault off."""
        self._faults.clear()

    # ---- values ------------------------------------------------------------------

    @property
    def energy_import_kwh(self) -> float:
        """The import counter now (kWh, unrounded, no fault applied)."""
        return self._house.energy(time.time())[0]

    @property
    def energy_export_kwh(self) -> float:
        """The export counter now (kWh, unrounded)."""
        return self._house.energy(time.time())[1]

    def _battery_percent(self, now: float) -> float:
        if self.power == "usb":
            return self._battery_level
        hours = max(0.0, now - self._battery_since) / 3600
        return max(1.0, self._battery_level - hours * BATTERY_DRAIN_PER_HOUR)

    def _number(self, value: float, digits: int) -> float | int:
        return round(value) if self.integers else round(value, digits)

    def status(self, now: float | None = None) -> dict[str, Any]:
        """Return the status payload (faults not applied) at epoch ``now``."""
        now = time.time() if now is None else now
        reading = self._house.reading(now)
        imported, exported = self._house.energy(now)
        meter: dict[str, Any] = {
            "energy_import_kwh": self._number(imported, 3),
            "energy_export_kwh": self._number(exported, 3),
            "power_w": self._number(reading.net_w, 1),
            "power_import_w": self._number(reading.import_w, 1),
            "power_export_w": self._number(reading.export_w, 1),
        }
        for index in range(1, self.phases + 1):
            voltage = self._number(phase_voltage(index, reading.time), 1)
            meter[f"voltage_l{index}_v"] = voltage
        for index, power in enumerate(reading.phases, start=1):
            current = abs(power) / float(meter[f"voltage_l{index}_v"])
            meter[f"current_l{index}_a"] = self._number(current, 2)
        for index, power in enumerate(reading.phases, start=1):
            meter[f"power_l{index}_w"] = self._number(power, 1)
        meter["last_reading"] = reading.time
        if not self.export:
            del meter["energy_export_kwh"], meter["power_export_w"]
        on_battery = self.power == "battery"
        percent = round(self._battery_percent(now)) if on_battery else 100
        voltage = 2.6 + 0.45 * percent / 100 if on_battery else 3.2
        status: dict[str, Any] = {
            "battery": {
                "percent": percent,
                "voltage": self._number(voltage, 2),
                "source": self.power,
            },
            "wifi": {
                "ssid": "home-net",
                "rssi": -61 + round(2 * math.sin(2 * math.pi * now / 300)),
                "ip": "192.168.1.77",
            },
            "uptime_s": max(0, int(now - self._boot_time)),
            "temperature_c": self._number(
                24.0
                + 0.6 * math.sin(2 * math.pi * now / DAY)
                + 0.2 * math.sin(2 * math.pi * now / 900),
                1,
            ),
            "meter": meter,
        }
        if self.identifier is not None:
            status["serial"] = self.identifier
        if self.extra_keys or ZiggyFault.EXTRA_FIELDS in self._faults:
            self._add_extra_keys(status, now)
        return status

    def _add_extra_keys(self, status: dict[str, Any], now: float) -> None:
        """Add the unknown keys a later firmware might send (known keys unchanged)."""
        status["meter"]["frequency_hz"] = self._number(
            50.0 + 0.02 * math.sin(2 * math.pi * now / 60), 2
        )
        status["meter"]["tariffs"] = [1, 2]
        status["wifi"]["channel"] = 6
        status["wifi"]["bssid"] = "AA:BB:CC:DD:EE:FF"
        status["fw_crc"] = 12345
        status["zigbee_enabled"] = False
        status["diag"] = {"resets": 3, "heap_free_b": 41000}

    def _served_status(self) -> dict[str, Any]:
        """Return the status with the value faults applied."""
        status = self.status()
        meter = status["meter"]
        glitch = self._faults.get(ZiggyFault.GLITCH_COUNTER)
        if glitch is not None:
            if glitch["mode"] == "zero":
                meter["energy_import_kwh"] = 0
            else:
                previous = self._served_import
                if previous is None:
                    previous = float(meter["energy_import_kwh"])
                meter["energy_import_kwh"] = self._number(
                    previous - float(glitch["amount"]), 3
                )
        else:
            self._served_import = float(meter["energy_import_kwh"])
        if ZiggyFault.MISSING_FIELD in self._faults:
            meter.pop("power_w", None)
            status["battery"].pop("percent", None)
        if ZiggyFault.NUMBERS_AS_STRINGS in self._faults:
            status = _stringify(status)
        return status

    # ---- HTTP plumbing -----------------------------------------------------------

    async def _middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        path = request.path
        if path.startswith("/_sim/"):
            return await handler(request)
        self.requests[path] += 1
        failure = self._faults.get(ZiggyFault.HTTP_ERROR)
        if failure is not None and path.startswith(str(failure["path"])):
            return await self._answer_early(
                request, json_error(int(failure["status"]), "unable to process request")
            )
        slow = self._faults.get(ZiggyFault.SLOW_RESPONSE)
        if slow is not None:
            await self._sleep(float(slow["seconds"]))
        if path in AUTHENTICATED:
            if self._token(request) is None:
                return await self._answer_early(
                    request, json_error(401, "unauthorized")
                )
            if self._faults.pop(ZiggyFault.UNAUTHORIZED_ONCE, None) is not None:
                return await self._answer_early(
                    request, json_error(401, "unauthorized")
                )
        return await answer_json_errors(handler, request)

    async def _post_login(self, request: web.Request) -> web.StreamResponse:
        if request.path not in LOGIN_PATHS[self.login_paths]:
            raise web.HTTPNotFound
        try:
            body = await request.json()
        except ValueError:
            return json_error(400, "request body is not valid JSON")
        if not isinstance(body, dict):
            return json_error(400, "request body must be an object")
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return json_error(400, "username and password are required")
        if username != self.username or password != self.password:
            return json_error(401, "invalid username or password")
        self.logins += 1
        token = self.issue_token()
        remaining = max(0, int(self._tokens[token] - time.time()))
        return web.json_response({"token": token, "expires_in_secs": remaining})

    async def _post_logout(self, request: web.Request) -> web.StreamResponse:
        token = self._token(request)
        if token is not None:
            self._tokens.pop(token, None)
            self.logouts += 1
        return web.Response(status=200)

    async def _get_version(self, _request: web.Request) -> web.StreamResponse:
        version = self.firmware_version
        return web.json_response(
            {
                "firmware": {
                    "version": version,
                    "date": FIRMWARE_DATE,
                    "time": FIRMWARE_TIME,
                },
                "frontend": {
                    "version": version,
                    "date": FIRMWARE_DATE,
                    "time": FRONTEND_TIME,
                },
                "build_number": self.build_number,
                "upgrade_url": UPGRADE_URL,
            }
        )

    async def _get_status(self, request: web.Request) -> web.StreamResponse:
        text = json.dumps(self._served_status())
        if ZiggyFault.MALFORMED_JSON in self._faults:
            # a proper prefix of a JSON object is never valid JSON
            text = text[: len(text) // 2]
        if ZiggyFault.TRUNCATED_BODY in self._faults:
            return await send_truncated(request, text.encode())
        return web.Response(text=text, content_type="application/json")

    # ---- OTA ---------------------------------------------------------------------

    async def _post_ota(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        upload = OtaUpload(
            0, request.content_length, False, None, None, started, started
        )
        self.uploads.append(upload)
        if upload.content_length is None:
            upload.reason = "length_required"
            return await self._refuse_upload(request, upload, 411, "length required")
        if ZiggyFault.OTA_REFUSE in self._faults:
            upload.reason = "ota_refuse"
            return await self._refuse_upload(request, upload, 500, "upload failed")
        head = b""
        window_start: float | None = None
        try:
            while chunk := await request.content.readany():
                now = time.monotonic()
                upload.size += len(chunk)
                if len(head) < 256:
                    head += chunk[: 256 - len(head)]
                if window_start is None and upload.size >= OTA_WINDOW:
                    window_start = now
                if window_start is None:
                    continue
                upload.measured_rate = self._rate(upload.size, window_start, now)
                allowed = self.ota_limit * (now - window_start) * OTA_TOLERANCE
                if upload.size - OTA_WINDOW > allowed + OTA_SLACK:
                    upload.reason = "rate"
                    return await self._refuse_upload(
                        request, upload, 400, "upload rate exceeded"
                    )
        except (ConnectionError, web.HTTPException, ValueError) as err:
            _LOGGER.debug("OTA upload cut off: %s", err)
        upload.ended = time.monotonic()
        if window_start is not None:
            upload.measured_rate = self._rate(upload.size, window_start, upload.ended)
        if upload.size != upload.content_length:
            upload.reason = "incomplete"
            return web.Response(status=400, text="incomplete upload")
        upload.accepted = True
        found = image_version(head)
        build = self.build_number + 1
        self._pending_firmware = found or (build, f"1.0.{build}")
        self._cancel_ota_reboot()
        loop = asyncio.get_running_loop()
        self._ota_timer = loop.call_later(OTA_REBOOT_DELAY, self._ota_reboot)
        return web.Response(text="OK")

    @staticmethod
    def _rate(size: int, window_start: float, now: float) -> float:
        after = size - OTA_WINDOW
        return after / (now - window_start) if now > window_start else math.inf

    async def _refuse_upload(
        self, request: web.Request, upload: OtaUpload, status: int, text: str
    ) -> web.StreamResponse:
        """Answer at once and close; discard what still arrives meanwhile."""
        upload.ended = time.monotonic()
        return await self._answer_early(request, web.Response(status=status, text=text))

    @staticmethod
    async def _answer_early(
        request: web.Request, response: web.StreamResponse
    ) -> web.StreamResponse:
        """Answer before reading the body; then close the connection.

        Without a body (or with all of it read) the answer goes out as usual.
        With an upload still arriving it is sent at once, and what arrives
        during LINGER_SECONDS is discarded before hanging up, so the client
        reads the answer instead of a reset connection.
        """
        if not request.body_exists or request.content.is_eof():
            return response
        await send_now(request, response)
        try:
            async with asyncio.timeout(LINGER_SECONDS):
                while await request.content.readany():
                    pass
        except TimeoutError, ConnectionError, web.HTTPException, ValueError:
            pass
        return response

    # ---- control endpoints ---------------------------------------------------------

    async def _sim_status(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "faults": self.faults,
                "power": self.power,
                "awake": self.awake,
                "boots": self.boots,
                "logins": self.logins,
                "logouts": self.logouts,
                "requests": dict(self.requests),
                "firmware_version": self.firmware_version,
                "build_number": self.build_number,
                "uploads": [
                    {
                        "size": upload.size,
                        "accepted": upload.accepted,
                        "reason": upload.reason,
                    }
                    for upload in self.uploads
                ],
                "certificate_sha256": self.certificate_sha256,
                "uptime_s": self.status()["uptime_s"],
            }
        )

    async def _sim_sleep(self, request: web.Request) -> web.StreamResponse:
        text = request.query.get("seconds")
        try:
            seconds = None if text is None else float(text)
        except ValueError:
            return json_error(400, "seconds must be a number")
        if seconds is not None and (not math.isfinite(seconds) or seconds < 0):
            return json_error(400, "seconds must be finite and not negative")
        # answer first: falling asleep closes this connection too
        response = web.json_response({"asleep": True, "seconds": seconds})
        await send_now(request, response)
        self.sleep_now(seconds)
        return response

    async def _sim_wake(self, _request: web.Request) -> web.StreamResponse:
        self.wake_now()
        return web.json_response({"awake": True, "power": self.power})

    async def _sim_power(self, request: web.Request) -> web.StreamResponse:
        source = request.query.get("source", "")
        if source not in POWER_SOURCES:
            return json_error(400, f"source must be one of {', '.join(POWER_SOURCES)}")
        self.set_power(source)
        return web.json_response({"power": self.power, "awake": self.awake})
