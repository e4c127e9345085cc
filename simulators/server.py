"""What every HTTP(S) device simulator does with its socket.

:class:`DeviceServer` owns the aiohttp runner and its listeners, goes offline
(connections cut, new ones refused) and comes back on the same host and port,
reboots by a loop timer, serves a self-signed certificate (:mod:`simulators.tls`)
and rotates it. It also answers the control endpoints every such simulator has
(``/_sim/fault``, ``/_sim/reboot``, ``/_sim/password``, ``/_sim/certificate``,
``/_sim/tokens/expire``). A device simulator subclasses it and adds its API.
"""

from abc import ABC, abstractmethod
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
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
from typing import Any, ClassVar

from aiohttp import hdrs, web

from . import tls
from .secrets import remember

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_LOGGER = logging.getLogger(__name__)


def json_error(status: int, message: str) -> web.Response:
    """Return ``{"error": message}`` with ``status``."""
    return web.json_response({"error": message}, status=status)


async def answer_json_errors(
    handler: Handler, request: web.Request
) -> web.StreamResponse:
    """Run a route's handler; unknown paths and methods answer JSON like the API."""
    try:
        return await handler(request)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        return json_error(err.status, err.reason)


def bind(host: str, port: int) -> list[socket.socket]:
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


async def send_now(request: web.Request, response: web.StreamResponse) -> None:
    """Write ``response`` completely before the handler goes on (then hang up)."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()


async def send_truncated(
    request: web.Request, data: bytes, content_type: str = "application/json"
) -> web.StreamResponse:
    """Announce ``len(data)`` as Content-Length, send half of it, then hang up.

    aiohttp treats the failing end of the response as a client that went
    away: no traceback is logged. The client sees a payload error.
    """
    response = web.StreamResponse(
        headers={hdrs.CONTENT_TYPE: f"{content_type}; charset=utf-8"}
    )
    response.content_length = len(data)
    await response.prepare(request)
    await response.write(data[: len(data) // 2])
    request.protocol.force_close()
    return response


class DeviceServer(ABC):
    """The listening life cycle of a simulated device, HTTP or HTTPS.

    Subclasses set the class attributes, build their application in
    :meth:`_application` and implement the fault and account methods the
    shared control endpoints call. :meth:`_fresh_boot` runs whenever the
    device comes back as freshly booted (not at the first start).
    """

    CERT_STEM: ClassVar[str] = "device"
    """File names of the certificate: ``{CERT_STEM}.crt`` and ``.key``."""
    CERT_NAME: ClassVar[str] = "Device"
    """Common name of the certificate."""
    LOG_NAME: ClassVar[str] = "Device simulator"
    """How log lines name the simulator."""

    def __init__(self) -> None:
        self.boots = 0
        """Times the device started listening: 1 after start(), +1 per come-back."""
        self.certificate_sha256: str | None = None
        """Hex SHA-256 fingerprint of the TLS certificate (None without TLS)."""
        self.certificate_path: Path | None = None
        """PEM file of the TLS certificate while running with TLS."""
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

    # ---- what a device adds ---------------------------------------------------

    @abstractmethod
    def _application(self) -> web.Application:
        """Return the device's application (API, middleware, control routes)."""

    @abstractmethod
    def set_fault(self, fault: str, **params: Any) -> None:
        """Switch a fault on (ValueError for unknown names or bad parameters)."""

    @abstractmethod
    def clear_fault(self, fault: str) -> None:
        """Switch one fault off (ValueError for unknown names)."""

    @abstractmethod
    def clear_faults(self) -> None:
        """Switch every fault off."""

    @property
    @abstractmethod
    def faults(self) -> dict[str, dict[str, Any]]:
        """Active faults with their parameters."""

    @abstractmethod
    def change_password(self, password: str) -> None:
        """Accept only ``password`` from now on; every issued token is revoked."""

    @abstractmethod
    def expire_tokens_now(self) -> None:
        """End every token issued so far (401); logging in again works."""

    def _fresh_boot(self) -> None:  # noqa: B027 - an optional hook
        """Run when the device listens again after a power cycle or reboot."""

    # ---- lifecycle ------------------------------------------------------------

    async def _start(
        self, host: str, port: int, *, tls_on: bool, cert_dir: Path | str | None
    ) -> None:
        """Bind the server (port 0 picks a free port); HTTPS with ``tls_on``.

        ``cert_dir``: keep the certificate there across restarts (reused when
        usable, written there otherwise; ``stop()`` leaves it). Without it the
        certificate is made in a temporary directory that ``stop()`` removes.
        Certificates from ``rotate_certificate()`` always go to a temporary one.
        """
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        self._stopping = asyncio.Event()
        if tls_on:
            self._tempdir = Path(tempfile.mkdtemp(prefix=f"{self.CERT_STEM}-sim-"))
            try:
                if cert_dir is None:
                    directory = self._tempdir
                    self._ssl_context, fingerprint = tls.create_certificate(
                        directory, host, self.CERT_STEM, self.CERT_NAME
                    )
                else:
                    directory = Path(cert_dir)
                    self._ssl_context, fingerprint = await asyncio.to_thread(
                        tls.reuse_or_create_certificate,
                        directory,
                        host,
                        self.CERT_STEM,
                        self.CERT_NAME,
                    )
            except BaseException:
                self._remove_tempdir()
                raise
            self.certificate_sha256 = fingerprint
            self.certificate_path = directory / f"{self.CERT_STEM}.crt"
            self._certificates = 1
        runner = web.AppRunner(
            self._application(), access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        try:
            sockets = bind(host, port)
            self._generation += 1
            await self._serve(runner, sockets, self._generation)
        except BaseException:
            await runner.cleanup()
            self._remove_tempdir()
            raise
        self._runner = runner
        self._host = host
        self._port = int(sockets[0].getsockname()[1])
        self._tls = tls_on
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

    # ---- connection-level life cycle --------------------------------------------

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
        """Seconds since the device last started listening (0 while offline)."""
        return time.monotonic() - self._booted if self._online else 0.0

    async def go_offline(self) -> None:
        """Close every connection and stop listening (new ones are refused).

        State, faults, certificate and password are kept. A pending reboot is
        called off: the simulator stays offline until come_back().
        """
        self._require_started()
        self._cancel_reboot()
        self._go_down()
        await self._settle()

    async def come_back(self) -> None:
        """Listen again on the same host, port and certificate, freshly booted.

        No-op while online; ends a pending reboot early.
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

    # ---- plumbing ---------------------------------------------------------------

    def _require_started(self) -> web.AppRunner:
        if self._runner is None:
            raise RuntimeError("simulator not started")
        return self._runner

    async def _settle(self) -> None:
        """Wait for a listener start under way, then let close callbacks run."""
        serving = self._serving
        if serving is not None and not serving.done():
            await asyncio.gather(serving, return_exceptions=True)
        for _ in range(3):
            await asyncio.sleep(0)

    async def _serve(
        self, runner: web.AppRunner, sockets: list[socket.socket], generation: int
    ) -> None:
        server = runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        listeners: list[asyncio.Server] = []
        try:
            for sock in sockets:
                # without start_serving nothing here suspends: run eagerly (as
                # _bring_up does), _listeners is set before the caller goes on
                listener = await loop.create_server(
                    server, sock=sock, ssl=self._ssl_context, start_serving=False
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
        for listener in listeners:
            if generation != self._generation:
                return  # taken offline meanwhile: _go_down closed them
            await listener.start_serving()

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

    def _bring_up(self, *, boot: bool = True) -> None:
        """Listen again (the socket is bound on return).

        ``boot``: as a freshly booted device (uptime from 0, ``boots`` + 1,
        :meth:`_fresh_boot`); otherwise only the listening resumes.
        """
        runner = self._require_started()
        sockets = bind(self._host, self._port)
        self._online = True
        self._generation += 1
        self._stopping = asyncio.Event()
        if boot:
            self._booted = time.monotonic()
            self.boots += 1
            self._fresh_boot()
        self._serving = asyncio.get_running_loop().create_task(
            self._serve(runner, sockets, self._generation), eager_start=True
        )

    def _try_bring_up(self, *, boot: bool = True) -> None:
        """:meth:`_bring_up` from a timer: a port taken meanwhile is logged."""
        try:
            self._bring_up(boot=boot)
        except OSError as err:
            _LOGGER.error(
                "%s cannot listen on %s:%s again: %s",
                self.LOG_NAME,
                self._host,
                self._port,
                err,
            )

    def _finish_reboot(self) -> None:
        self._reboot_timer = None
        self._rebooting = False
        self._try_bring_up()

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
        name = f"{self.CERT_STEM}-{self._certificates}"
        _, fingerprint = tls.create_certificate(
            self._tempdir, self._host, name, self.CERT_NAME
        )
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

    # ---- shared control endpoints (never faulted, counted or authenticated) -----

    def _control_routes(self) -> list[web.RouteDef]:
        """Return the ``/_sim`` routes every device has."""
        return [
            web.get("/_sim/fault", self._sim_faults),
            web.delete("/_sim/fault", self._sim_clear_faults),
            web.post("/_sim/fault/{name}", self._sim_set_fault),
            web.delete("/_sim/fault/{name}", self._sim_clear_fault),
            web.post("/_sim/tokens/expire", self._sim_expire_tokens),
            web.post("/_sim/reboot", self._sim_reboot),
            web.post("/_sim/password", self._sim_password),
            web.post("/_sim/certificate", self._sim_certificate),
        ]

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
            return json_error(400, "body is not valid JSON")
        if not isinstance(params, dict):
            return json_error(400, "body must be an object of parameters")
        try:
            self.set_fault(request.match_info["name"], **params)
        except ValueError as err:
            return json_error(400, str(err))
        return web.json_response(self.faults)

    async def _sim_clear_fault(self, request: web.Request) -> web.StreamResponse:
        try:
            self.clear_fault(request.match_info["name"])
        except ValueError as err:
            return json_error(400, str(err))
        return web.json_response(self.faults)

    async def _sim_expire_tokens(self, _request: web.Request) -> web.StreamResponse:
        self.expire_tokens_now()
        return web.json_response({"expired": True})

    async def _sim_reboot(self, request: web.Request) -> web.StreamResponse:
        try:
            duration = float(request.query.get("duration", "10"))
        except ValueError:
            return json_error(400, "duration must be a number of seconds")
        if not math.isfinite(duration) or duration < 0:
            return json_error(400, "duration must be finite and not negative")
        # answer first: going down closes this connection too
        response = web.json_response({"rebooting": True, "duration": duration})
        await send_now(request, response)
        self.reboot(duration)
        return response

    async def _sim_password(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            return json_error(400, "body is not valid JSON")
        password = body.get("password") if isinstance(body, dict) else None
        if not isinstance(password, str) or not password:
            return json_error(400, 'body must be {"password": "<new password>"}')
        self.change_password(password)
        return web.json_response({"changed": True})

    async def _sim_certificate(self, request: web.Request) -> web.StreamResponse:
        try:
            self._new_certificate()
        except RuntimeError as err:
            return json_error(409, str(err))
        # answer first: the rotation closes every open connection, this one too
        response = web.json_response({"certificate_sha256": self.certificate_sha256})
        await send_now(request, response)
        self._drop_connections()
        return response


class SessionTokens(dict[str, float]):
    """Opaque session tokens a device issued, each with its expiry (epoch s).

    A revoked token is removed; an expired one stays with an expiry in the past.
    """

    def issue(self, token: str, lifetime: float) -> str:
        """Store a new token valid for `lifetime` seconds (a secret: remembered)."""
        self[token] = time.time() + lifetime
        remember(token)
        return token

    def valid(self, token: str) -> bool:
        """Whether the token was issued, is not revoked and has not expired."""
        expiry = self.get(token)
        return expiry is not None and expiry > time.time()

    def expire_all(self) -> None:
        """Let every token issued so far expire now."""
        for token in self:
            self[token] = -math.inf


class AccountServer(DeviceServer):
    """A device with one account that logs in for session tokens."""

    password: str

    def __init__(self, password: str) -> None:
        super().__init__()
        self.password = password
        remember(password)
        self._tokens = SessionTokens()

    def change_password(self, password: str) -> None:
        """Accept only ``password`` from now on; every issued token is revoked."""
        if not password:
            raise ValueError("password must not be empty")
        self.password = password
        remember(password)
        self._tokens.clear()

    def expire_tokens_now(self) -> None:
        """Every token issued so far answers 401 from now on; a new login works."""
        self._tokens.expire_all()
