"""Carlo Gavazzi EMS gateway simulator: the "EMS Webapi 1.0.0" REST API."""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
import contextlib
import copy
from datetime import datetime
import errno
import json
import logging
import math
from pathlib import Path
import shutil
import socket
import ssl
import tempfile
import time
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import hdrs, web

from ..secrets import remember
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
from .security import (
    TOKEN_LIFETIME,
    TokenError,
    TokenIssuer,
    create_certificate,
    reuse_or_create_certificate,
)

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_LOGGER = logging.getLogger(__name__)

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


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


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


def _bind(host: str, port: int) -> list[socket.socket]:
    """Return sockets listening on every address of ``host`` (as TCPSite binds).

    They listen on return, so connections are accepted (and queued) at once.
    Port 0 picks a free port, the same for every address.
    """
    infos = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    sockets: list[socket.socket] = []
    seen: set[tuple[int, str]] = set()
    try:
        for family, _, _, _, address in infos:
            key = (int(family), str(address[0]))
            if key in seen:
                continue
            seen.add(key)
            try:
                sock = socket.create_server((key[1], port), family=family, backlog=128)
            except OSError as err:
                # an address family the host does not enable (as asyncio does)
                if err.errno == errno.EADDRNOTAVAIL and len(infos) > 1:
                    continue
                raise
            sock.setblocking(False)
            sockets.append(sock)
            port = port or int(sock.getsockname()[1])
        if not sockets:
            raise OSError(errno.EADDRNOTAVAIL, f"cannot bind to {host}")
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


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


async def _send_now(request: web.Request, response: web.StreamResponse) -> None:
    """Write ``response`` completely before the handler goes on (then hang up)."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()


class EmsSimulator:
    """A simulated Carlo Gavazzi EMS gateway serving its REST API.

    The installation is the built-in 3-phase main meter (device 1, Meter-Bus),
    an EM24 on Modbus RTU (30), an EM24 on Modbus TCP (60) and a P1 meter (90),
    one load each with 22 signals. ``extra_signals`` adds that many signals
    with unknown codes to the main meter's load (to exercise pagination).
    """

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
        self.boots = 0
        """Times the gateway started listening: 1 after start(), +1 per come-back."""
        self._tokens = TokenIssuer()
        self._faults: dict[EmsFault, dict[str, Any]] = {}
        self._appeared: int | None = None
        self._reported: dict[int, float] = {}
        self._runner: web.AppRunner | None = None
        self._listeners: list[asyncio.Server] = []
        self._serving: asyncio.Task[None] | None = None
        self._online = False
        self._generation = 0
        self._rebooting = False
        self._reboot_timer: asyncio.TimerHandle | None = None
        self._booted = time.monotonic()
        self._stopping = asyncio.Event()
        self._tempdir: Path | None = None
        self._ssl_context: ssl.SSLContext | None = None
        self._certificates = 1
        self._host = "127.0.0.1"
        self._port = 0
        self._tls = False
        self.certificate_sha256: str | None = None
        """Hex SHA-256 fingerprint of the TLS certificate (None without TLS)."""
        self.certificate_path: Path | None = None
        """PEM file of the TLS certificate while running with TLS."""

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
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        self._stopping = asyncio.Event()
        if tls:
            self._tempdir = Path(tempfile.mkdtemp(prefix="ems-sim-"))
            try:
                if cert_dir is None:
                    directory = self._tempdir
                    self._ssl_context, fingerprint = create_certificate(directory, host)
                else:
                    directory = Path(cert_dir)
                    self._ssl_context, fingerprint = await asyncio.to_thread(
                        reuse_or_create_certificate, directory, host
                    )
            except BaseException:
                self._remove_tempdir()
                raise
            self.certificate_sha256 = fingerprint
            self.certificate_path = directory / "ems.crt"
            self._certificates = 1

        @web.middleware
        async def middleware(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            return await self._middleware(request, handler)

        app = web.Application(middlewares=[middleware])
        self._add_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            sockets = _bind(host, port)
            self._generation += 1
            await self._serve(runner, sockets, self._generation)
        except BaseException:
            await runner.cleanup()
            self._remove_tempdir()
            raise
        self._runner = runner
        self._host = host
        self._port = int(sockets[0].getsockname()[1])
        self._tls = tls
        self._online = True
        self._booted = time.monotonic()
        self.boots += 1

    async def stop(self) -> None:
        """Stop the server and remove the certificate files."""
        runner = self._runner
        if runner is None:
            return
        self._cancel_reboot()
        self._go_down()
        serving, self._serving = self._serving, None
        if serving is not None:
            await asyncio.gather(serving, return_exceptions=True)
        self._runner = None
        await runner.cleanup()
        self._remove_tempdir()
        # let connection_lost callbacks scheduled by the cleanup run
        for _ in range(3):
            await asyncio.sleep(0)

    # ---- connection-level life cycle ----------------------------------------

    @property
    def online(self) -> bool:
        """Whether the simulator accepts connections (False while offline)."""
        return self._online

    @property
    def rebooting(self) -> bool:
        """Whether a reboot() is under way (offline until it comes back)."""
        return self._rebooting

    @property
    def uptime(self) -> float:
        """Seconds since the gateway last started listening (0 while offline)."""
        return time.monotonic() - self._booted if self._online else 0.0

    async def go_offline(self) -> None:
        """Close every connection and stop listening (new ones are refused).

        Installation, counters, faults, certificate and password are kept.
        A pending reboot is called off: the simulator stays offline until
        come_back().
        """
        self._require_started()
        self._cancel_reboot()
        self._go_down()
        serving = self._serving
        if serving is not None and not serving.done():
            await asyncio.gather(serving, return_exceptions=True)
        for _ in range(3):
            await asyncio.sleep(0)

    async def come_back(self) -> None:
        """Listen again on the same host, port and certificate, freshly booted.

        Every token issued before is invalid (a new signing key) and the uptime
        restarts at 0. No-op while online; ends a pending reboot early.
        """
        self._require_started()
        self._cancel_reboot()
        if not self._online:
            self._bring_up()
        serving = self._serving
        if serving is not None and not serving.done():
            await serving

    def reboot(self, duration: float = 10.0) -> None:
        """Go offline now and come_back() after ``duration`` seconds.

        The come-back is a ``loop.call_later`` timer, so a test moving a frozen
        clock (``async_fire_time_changed``) runs it.
        """
        if not math.isfinite(duration) or duration < 0:
            raise ValueError("duration must be finite and not negative")
        self._require_started()
        loop = asyncio.get_running_loop()
        self._cancel_reboot()
        self._go_down()
        self._rebooting = True
        self._reboot_timer = loop.call_later(duration, self._finish_reboot)

    def change_password(self, password: str) -> None:
        """Accept only ``password`` from now on; every issued token is revoked."""
        if not password:
            raise ValueError("password must not be empty")
        self.password = password
        remember(password)
        self._tokens.revoke_all()

    async def rotate_certificate(self) -> None:
        """Serve a new self-signed certificate for the same host (TLS only).

        New connections get it (``certificate_sha256`` and ``certificate_path``
        follow); open connections (keep-alive ones too) are closed, so clients
        handshake again.
        """
        self._new_certificate()
        self._drop_connections()
        for _ in range(3):
            await asyncio.sleep(0)

    def _require_started(self) -> web.AppRunner:
        if self._runner is None:
            raise RuntimeError("simulator not started")
        return self._runner

    async def _serve(
        self, runner: web.AppRunner, sockets: list[socket.socket], generation: int
    ) -> None:
        server = runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        listeners: list[asyncio.Server] = []
        try:
            for sock in sockets:
                listener = await loop.create_server(
                    server, sock=sock, ssl=self._ssl_context
                )
                listeners.append(listener)
        except Exception:
            for listener in listeners:
                listener.close()
            for sock in sockets[len(listeners) :]:
                sock.close()
            if generation == self._generation:
                self._online = False
            raise
        if generation != self._generation:
            # taken offline again while the listeners were starting
            for listener in listeners:
                listener.close()
            self._drop_connections()
            return
        self._listeners = listeners

    def _go_down(self) -> None:
        """Stop listening and cut every connection, synchronously."""
        self._generation += 1
        self._online = False
        listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener.close()
        self._stopping.set()
        self._drop_connections()

    def _drop_connections(self) -> None:
        server = self._runner.server if self._runner is not None else None
        if server is not None:
            for connection in server.connections:
                connection.force_close()

    def _bring_up(self) -> None:
        """Listen again (the socket is bound on return) as a freshly booted gateway."""
        runner = self._require_started()
        sockets = _bind(self._host, self._port)
        self._online = True
        self._generation += 1
        self._stopping = asyncio.Event()
        self._tokens.revoke_all()
        self._booted = time.monotonic()
        self.boots += 1
        self._serving = asyncio.get_running_loop().create_task(
            self._serve(runner, sockets, self._generation), eager_start=True
        )

    def _finish_reboot(self) -> None:
        self._reboot_timer = None
        self._rebooting = False
        try:
            self._bring_up()
        except OSError as err:
            _LOGGER.error(
                "EMS simulator cannot listen on %s:%s again: %s",
                self._host,
                self._port,
                err,
            )

    def _cancel_reboot(self) -> None:
        if self._reboot_timer is not None:
            self._reboot_timer.cancel()
            self._reboot_timer = None
        self._rebooting = False

    def _new_certificate(self) -> None:
        """Load a new certificate into the live SSL context (new handshakes)."""
        self._require_started()
        if self._ssl_context is None or self._tempdir is None:
            raise RuntimeError("rotate_certificate needs a simulator started with TLS")
        self._certificates += 1
        name = f"ems-{self._certificates}"
        _, fingerprint = create_certificate(self._tempdir, self._host, name)
        certificate = self._tempdir / f"{name}.crt"
        self._ssl_context.load_cert_chain(certificate, self._tempdir / f"{name}.key")
        self.certificate_sha256 = fingerprint
        self.certificate_path = certificate

    def _remove_tempdir(self) -> None:
        self._ssl_context = None
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None
            self.certificate_path = None

    async def _sleep(self, seconds: float) -> None:
        # ends early when the simulator stops, so no request outlives stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    # ---- public properties and helpers --------------------------------------

    @property
    def port(self) -> int:
        """TCP port the simulator listens on (0 before start())."""
        return self._port

    @property
    def url(self) -> str:
        """Base URL, ``http://host:port`` or ``https://host:port``."""
        scheme = "https" if self._tls else "http"
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{scheme}://{host}:{self._port}"

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
                return _error(err.status, err.message)
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
        data = text.encode()
        response = web.StreamResponse(
            headers={hdrs.CONTENT_TYPE: "application/json; charset=utf-8"}
        )
        response.content_length = len(data)
        await response.prepare(request)
        await response.write(data[: len(data) // 2])
        # Hang up mid-body. aiohttp treats the failing end of the response as
        # a client that went away: no traceback is logged.
        request.protocol.force_close()
        return response

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
                get("/_sim/fault", self._sim_faults),
                web.delete("/_sim/fault", self._sim_clear_faults),
                web.post("/_sim/fault/{name}", self._sim_set_fault),
                web.delete("/_sim/fault/{name}", self._sim_clear_fault),
                web.post("/_sim/devices", self._sim_add_device),
                web.delete("/_sim/devices/{uid}", self._sim_remove_device),
                web.post("/_sim/tokens/expire", self._sim_expire_tokens),
                web.post("/_sim/reboot", self._sim_reboot),
                web.post("/_sim/password", self._sim_password),
                web.post("/_sim/certificate", self._sim_certificate),
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

    async def _sim_faults(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self.faults)

    async def _sim_clear_faults(self, _request: web.Request) -> web.StreamResponse:
        self.clear_faults()
        return web.json_response(self.faults)

    async def _sim_set_fault(self, request: web.Request) -> web.StreamResponse:
        text = await request.text()
        try:
            params = json.loads(text) if text.strip() else {}
        except ValueError:
            return _error(400, "body is not valid JSON")
        if not isinstance(params, dict):
            return _error(400, "body must be an object of parameters")
        try:
            self.set_fault(request.match_info["name"], **params)
        except ValueError as err:
            return _error(400, str(err))
        return web.json_response(self.faults)

    async def _sim_clear_fault(self, request: web.Request) -> web.StreamResponse:
        try:
            self.clear_fault(request.match_info["name"])
        except ValueError as err:
            return _error(400, str(err))
        return web.json_response(self.faults)

    async def _sim_add_device(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        try:
            uid = self.add_device(
                query.get("label", "EM3"),
                query.get("partNumber", "EM24_E1"),
                query.get("protocol", "tcp"),
            )
        except ValueError as err:
            return _error(400, str(err))
        return web.json_response({"uid": uid})

    async def _sim_expire_tokens(self, _request: web.Request) -> web.StreamResponse:
        self.expire_tokens_now()
        return web.json_response({"expired": True})

    async def _sim_remove_device(self, request: web.Request) -> web.StreamResponse:
        try:
            self.remove_device(_path_uid(request))
        except KeyError:
            return _error(404, "resource not found")
        except _RequestError as err:
            return _error(err.status, err.message)
        return web.json_response({})

    async def _sim_reboot(self, request: web.Request) -> web.StreamResponse:
        try:
            duration = float(request.query.get("duration", "10"))
        except ValueError:
            return _error(400, "duration must be a number of seconds")
        if not math.isfinite(duration) or duration < 0:
            return _error(400, "duration must be finite and not negative")
        # answer first: going down closes this connection too
        response = web.json_response({"rebooting": True, "duration": duration})
        await _send_now(request, response)
        self.reboot(duration)
        return response

    async def _sim_password(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "body is not valid JSON")
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(password, str) or not password:
            return _error(400, 'body must be {"password": "<new password>"}')
        self.change_password(password)
        return web.json_response({"changed": True})

    async def _sim_certificate(self, request: web.Request) -> web.StreamResponse:
        try:
            self._new_certificate()
        except RuntimeError as err:
            return _error(409, str(err))
        # answer first: the rotation closes every open connection, this one too
        response = web.json_response({"certificate_sha256": self.certificate_sha256})
        await _send_now(request, response)
        self._drop_connections()
        return response
