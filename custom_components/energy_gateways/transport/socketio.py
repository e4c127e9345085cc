"""Engine.IO 3 / Socket.IO 2 packets, as text frames over one WebSocket.

Only what a client of a Socket.IO 2 server needs over the `websocket`
transport: no long polling, no binary packets. An Engine.IO packet is a type
digit and its data (`4` + a Socket.IO packet, `2` ping, `3` pong, `0` open with
the session's JSON); a Socket.IO packet is a type digit, an optional namespace
(`/live,`), an optional ack id and optional JSON data (`42/live,["live_data",{…}]`).

The codec here is shared by the integration's client and the simulators, so
both speak exactly the same framing. `socketio_events` is a minimal client on
top of it: one WebSocket, one namespace, one event name.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
import contextlib
from dataclasses import dataclass
from enum import IntEnum
import json
import logging
from typing import Any

import aiohttp

from .errors import (
    CannotConnect,
    DeviceBusy,
    InvalidAuth,
    InvalidResponse,
    TransportUnsupported,
)
from .http import SslOption, mapped_errors, ssl_value
from .values import as_float

_LOGGER = logging.getLogger(__name__)


class EngineIO(IntEnum):
    """Engine.IO 3 packet types."""

    OPEN = 0
    CLOSE = 1
    PING = 2
    PONG = 3
    MESSAGE = 4
    UPGRADE = 5
    NOOP = 6


class SocketIO(IntEnum):
    """Socket.IO 2 packet types."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


ROOT = "/"
"""The default namespace."""


@dataclass(frozen=True, slots=True)
class EnginePacket:
    """One Engine.IO packet: its type and its (text) data."""

    type: EngineIO
    data: str = ""


@dataclass(frozen=True, slots=True)
class SocketPacket:
    """One Socket.IO packet inside an Engine.IO MESSAGE."""

    type: SocketIO
    namespace: str = ROOT
    data: Any = None
    ack_id: int | None = None


def encode_engine(packet: EnginePacket) -> str:
    """Return the text frame of an Engine.IO packet."""
    return f"{packet.type.value}{packet.data}"


def decode_engine(frame: str) -> EnginePacket:
    """Read a text frame; InvalidResponse if it is not an Engine.IO packet."""
    if not frame or not frame[0].isdigit():
        raise InvalidResponse("not an Engine.IO packet")
    try:
        kind = EngineIO(int(frame[0]))
    except ValueError as err:
        raise InvalidResponse(f"unknown Engine.IO packet type {frame[0]}") from err
    return EnginePacket(kind, frame[1:])


def encode_socket(packet: SocketPacket) -> str:
    """Return the text of a Socket.IO packet (the data of an Engine.IO MESSAGE)."""
    text = str(packet.type.value)
    if packet.namespace != ROOT:
        text += packet.namespace
        if packet.data is not None or packet.ack_id is not None:
            text += ","
    if packet.ack_id is not None:
        text += str(packet.ack_id)
    if packet.data is not None:
        text += json.dumps(packet.data, separators=(",", ":"))
    return text


def decode_socket(text: str) -> SocketPacket:
    """Read a Socket.IO packet; InvalidResponse if it is not one.

    Binary packets (types 5 and 6) are refused: their attachments travel in
    separate frames, which no server this integration talks to sends.
    """
    if not text or not text[0].isdigit():
        raise InvalidResponse("not a Socket.IO packet")
    try:
        kind = SocketIO(int(text[0]))
    except ValueError as err:
        raise InvalidResponse(f"unknown Socket.IO packet type {text[0]}") from err
    if kind in (SocketIO.BINARY_EVENT, SocketIO.BINARY_ACK):
        raise InvalidResponse("binary Socket.IO packets are not supported")
    rest = text[1:]
    namespace = ROOT
    if rest.startswith("/"):
        end = rest.find(",")
        if end < 0:
            namespace, rest = rest, ""
        else:
            namespace, rest = rest[:end], rest[end + 1 :]
    digits = len(rest) - len(rest.lstrip("0123456789"))
    ack_id = int(rest[:digits]) if digits else None
    rest = rest[digits:]
    data: Any = None
    if rest:
        try:
            data = json.loads(rest)
        except ValueError as err:
            raise InvalidResponse("Socket.IO packet data is not JSON") from err
    return SocketPacket(kind, namespace, data, ack_id)


def event(namespace: str, name: str, *args: Any) -> str:
    """Return the Engine.IO frame of a Socket.IO event (`42/ns,["name",…]`)."""
    packet = SocketPacket(SocketIO.EVENT, namespace, [name, *args])
    return encode_engine(EnginePacket(EngineIO.MESSAGE, encode_socket(packet)))


def _frame(kind: SocketIO, namespace: str) -> str:
    """Return the Engine.IO frame of a Socket.IO packet without data."""
    packet = SocketPacket(kind, namespace)
    return encode_engine(EnginePacket(EngineIO.MESSAGE, encode_socket(packet)))


# -- client ----------------------------------------------------------------

OPEN_TIMEOUT = 15.0
"""Seconds to connect and receive the Engine.IO OPEN packet."""
DEFAULT_PING_INTERVAL = 25.0
DEFAULT_PING_TIMEOUT = 60.0
MIN_PING_SECONDS = 0.01
"""Announced ping figures below this (s) are raised to it."""
ERROR_TEXT_LENGTH = 120


class PingTimeout(CannotConnect):
    """The server did not answer a ping (no pong within its pingTimeout)."""


@dataclass(frozen=True, slots=True)
class Handshake:
    """The session's figures from the Engine.IO OPEN packet (seconds)."""

    ping_interval: float = DEFAULT_PING_INTERVAL
    ping_timeout: float = DEFAULT_PING_TIMEOUT


def parse_handshake(data: str) -> Handshake:
    """Read the OPEN packet's JSON; missing or odd figures take the defaults."""
    try:
        session = json.loads(data) if data else {}
    except ValueError as err:
        raise InvalidResponse("Engine.IO OPEN data is not JSON") from err
    if not isinstance(session, dict):
        raise InvalidResponse("Engine.IO OPEN data is not an object")

    def seconds(key: str, default: float) -> float:
        value = as_float(session.get(key))
        if value is None or value <= 0:
            return default
        return max(MIN_PING_SECONDS, value / 1000)

    return Handshake(
        seconds("pingInterval", DEFAULT_PING_INTERVAL),
        seconds("pingTimeout", DEFAULT_PING_TIMEOUT),
    )


def _error_text(data: Any) -> str:
    """Return a Socket.IO ERROR packet's text, short and on one line."""
    if isinstance(data, dict):
        data = data.get("message", data)
    text = data if isinstance(data, str) else json.dumps(data)
    return " ".join(text.split())[:ERROR_TEXT_LENGTH]


async def _connect(
    session: aiohttp.ClientSession,
    url: str,
    label: str,
    headers: Mapping[str, str] | None,
    ssl: SslOption,
) -> aiohttp.ClientWebSocketResponse:
    """Open the WebSocket; map a refused upgrade and every failure."""
    with mapped_errors(label):
        try:
            async with asyncio.timeout(OPEN_TIMEOUT):
                return await session.ws_connect(
                    url,
                    headers=headers,
                    ssl=ssl_value(ssl),
                    autoping=True,
                    timeout=aiohttp.ClientWSTimeout(ws_close=5),
                )
        except aiohttp.WSServerHandshakeError as err:
            raise handshake_error(err.status, label) from err


def handshake_error(
    status: int, label: str
) -> CannotConnect | InvalidAuth | TransportUnsupported:
    """Return the error of a refused WebSocket upgrade (an HTTP answer, not 101).

    401/422 → InvalidAuth, 503 → DeviceBusy, other 5xx (and an odd 101) →
    CannotConnect; anything else (200 with a page, 400, 404 …) means the
    server does not offer the transport: TransportUnsupported.
    """
    if status in (401, 422):
        return InvalidAuth(f"{label}: rejected ({status})")
    if status == 503:
        return DeviceBusy(f"{label}: busy (503)")
    if status >= 500 or status == 101:
        return CannotConnect(f"{label}: HTTP {status}")
    return TransportUnsupported(f"{label}: HTTP {status}")


class _Pings:
    """Client-driven Engine.IO 3 keep-alive: a ping every interval, pongs awaited."""

    def __init__(
        self, websocket: aiohttp.ClientWebSocketResponse, handshake: Handshake
    ) -> None:
        self._websocket = websocket
        self._handshake = handshake
        self._loop = asyncio.get_running_loop()
        self.unanswered_since: float | None = None
        """Loop time of the oldest ping without a pong."""

    def pong(self) -> None:
        self.unanswered_since = None

    def overdue(self, grace: float = 0.0) -> bool:
        """Whether a ping went unanswered for pingTimeout (+ `grace`) seconds.

        The reader raises at once only when nothing is buffered (a late reader
        may find the pong still queued); with frames flowing but no pong it
        gives up one more pingTimeout later.
        """
        since = self.unanswered_since
        return since is not None and (
            self._loop.time() - since >= self._handshake.ping_timeout + grace
        )

    def wait_limit(self) -> float:
        """Seconds the reader may wait before it must look at the pong deadline."""
        limit = self._handshake.ping_interval
        since = self.unanswered_since
        if since is not None:
            left = since + self._handshake.ping_timeout - self._loop.time()
            limit = min(limit, left)
        return max(MIN_PING_SECONDS, limit)

    async def run(self) -> None:
        """Send `2` every ping interval until the socket closes."""
        ping = encode_engine(EnginePacket(EngineIO.PING))
        while not self._websocket.closed:
            await asyncio.sleep(self._handshake.ping_interval)
            if self.unanswered_since is None:
                self.unanswered_since = self._loop.time()
            try:
                await self._websocket.send_str(ping)
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as err:
                _LOGGER.debug("ping not sent: %s", err)
                return


async def socketio_events(
    session: aiohttp.ClientSession,
    url: str,
    *,
    namespace: str,
    event: str,
    headers: Mapping[str, str] | None = None,
    ssl: SslOption = None,
    label: str = "/socket.io/",
) -> AsyncGenerator[Any]:
    """Yield the first argument of each `event` on `namespace` (None if none).

    `url` is the `ws(s)://…/socket.io/?EIO=3&transport=websocket…` address.
    The client reads the OPEN packet (ping interval and timeout), joins
    `namespace`, pings every interval from a task and raises PingTimeout when
    no pong comes within the timeout. The generator ends when the server
    closes the socket, sends Engine.IO CLOSE or disconnects the namespace.
    Raises TransportUnsupported when the server refuses the upgrade, InvalidAuth
    on 401/422, CannotConnect when the connection fails or the server sends a
    Socket.IO ERROR for the namespace, InvalidResponse when the first packet is
    not OPEN. Binary frames and unknown packets are skipped.
    """
    websocket = await _connect(session, url, label, headers, ssl)
    pinger: asyncio.Task[None] | None = None
    try:
        handshake = await _read_open(websocket, label)
        if namespace != ROOT:
            await websocket.send_str(_frame(SocketIO.CONNECT, namespace))
        pings = _Pings(websocket, handshake)
        pinger = asyncio.get_running_loop().create_task(
            pings.run(), name=f"Engine.IO pings {label}"
        )
        while True:
            if pings.overdue(grace=handshake.ping_timeout):
                raise PingTimeout(
                    f"{label}: no pong within {handshake.ping_timeout:g} s"
                )
            try:
                frame = await websocket.receive(timeout=pings.wait_limit())
            except TimeoutError:
                # Nothing buffered: a pong that is due has not come.
                if pings.overdue():
                    raise PingTimeout(
                        f"{label}: no pong within {handshake.ping_timeout:g} s"
                    ) from None
                continue
            except aiohttp.ClientError as err:
                raise CannotConnect(f"{label}: {type(err).__name__}") from err
            if frame.type is aiohttp.WSMsgType.TEXT:
                outcome = _handle(frame.data, namespace, event, pings, label)
                if outcome is _END:
                    return
                if outcome is not _SKIP:
                    yield outcome
            elif frame.type is aiohttp.WSMsgType.BINARY:
                _LOGGER.debug("%s: skipped a binary frame", label)
            elif frame.type is aiohttp.WSMsgType.ERROR:
                raise CannotConnect(f"{label}: {websocket.exception()!r}")
            else:  # CLOSE, CLOSING, CLOSED
                return
    finally:
        if pinger is not None:
            pinger.cancel()
            await asyncio.wait([pinger])
        if not websocket.closed:
            with contextlib.suppress(
                aiohttp.ClientError, ConnectionError, RuntimeError
            ):
                if namespace != ROOT:
                    await websocket.send_str(_frame(SocketIO.DISCONNECT, namespace))
                await websocket.send_str(encode_engine(EnginePacket(EngineIO.CLOSE)))
        await websocket.close()


_END = object()
"""`_handle`'s answer when the session ended."""
_SKIP = object()
"""`_handle`'s answer when the frame carries nothing to yield."""


async def _read_open(
    websocket: aiohttp.ClientWebSocketResponse, label: str
) -> Handshake:
    """Wait for the Engine.IO OPEN packet; it must come first."""
    try:
        frame = await websocket.receive(timeout=OPEN_TIMEOUT)
    except TimeoutError as err:
        raise CannotConnect(f"{label}: no Engine.IO OPEN") from err
    except aiohttp.ClientError as err:
        raise CannotConnect(f"{label}: {type(err).__name__}") from err
    if frame.type is not aiohttp.WSMsgType.TEXT:
        if frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            raise CannotConnect(f"{label}: closed before the Engine.IO OPEN")
        raise InvalidResponse(f"{label}: no Engine.IO OPEN")
    packet = decode_engine(frame.data)
    if packet.type is not EngineIO.OPEN:
        raise InvalidResponse(f"{label}: first packet is not Engine.IO OPEN")
    return parse_handshake(packet.data)


def _handle(text: str, namespace: str, event: str, pings: _Pings, label: str) -> Any:
    """Read one text frame: the event's argument, _SKIP, or _END."""
    try:
        packet = decode_engine(text)
    except InvalidResponse as err:
        _LOGGER.debug("%s: skipped a frame: %s", label, err)
        return _SKIP
    if packet.type is EngineIO.PONG:
        pings.pong()
        return _SKIP
    if packet.type is EngineIO.CLOSE:
        _LOGGER.debug("%s: the server closed the session", label)
        return _END
    if packet.type is not EngineIO.MESSAGE:
        _LOGGER.debug("%s: skipped an Engine.IO %s packet", label, packet.type.name)
        return _SKIP
    try:
        message = decode_socket(packet.data)
    except InvalidResponse as err:
        _LOGGER.debug("%s: skipped a packet: %s", label, err)
        return _SKIP
    if message.namespace != namespace:
        return _SKIP
    if message.type is SocketIO.EVENT:
        data = message.data
        if isinstance(data, list) and data and data[0] == event:
            return data[1] if len(data) > 1 else None
        _LOGGER.debug("%s: skipped another event", label)
        return _SKIP
    if message.type is SocketIO.DISCONNECT:
        _LOGGER.debug("%s: the server left %s", label, namespace)
        return _END
    if message.type is SocketIO.ERROR:
        raise CannotConnect(f"{label}: Socket.IO error: {_error_text(message.data)}")
    if message.type is SocketIO.CONNECT:
        _LOGGER.debug("%s: joined %s", label, namespace)
    return _SKIP


__all__ = [
    "ROOT",
    "EngineIO",
    "EnginePacket",
    "Handshake",
    "PingTimeout",
    "SocketIO",
    "SocketPacket",
    "decode_engine",
    "decode_socket",
    "encode_engine",
    "encode_socket",
    "event",
    "handshake_error",
    "parse_handshake",
    "socketio_events",
]
