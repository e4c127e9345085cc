"""The Engine.IO 3 / Socket.IO 2 codec (property-based) and the minimal client.

The client runs against small scripted aiohttp servers on loopback, so every
packet kind (ERROR, DISCONNECT, CLOSE, binary frames, unknown packets, missing
pongs) can be sent on cue; the BUZZN simulator covers the ordinary session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
import contextlib
import json
from typing import Any

import aiohttp
from aiohttp import web
from hypothesis import given, strategies as st
import pytest

from custom_components.energy_gateways.transport.errors import (
    CannotConnect,
    DeviceBusy,
    InvalidAuth,
    InvalidResponse,
    TransportUnsupported,
)
from custom_components.energy_gateways.transport.socketio import (
    ROOT,
    EngineIO,
    EnginePacket,
    Handshake,
    PingTimeout,
    SocketIO,
    SocketPacket,
    decode_engine,
    decode_socket,
    encode_engine,
    encode_socket,
    event,
    handshake_error,
    parse_handshake,
    socketio_events,
)

# -- codec ---------------------------------------------------------------------

namespaces = st.just(ROOT) | st.from_regex(r"/[a-z0-9_-]{1,12}", fullmatch=True)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_data = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
)
# Socket.IO data is an array, an object or a string: a bare number would read
# as an ack id, by design of the format.
packet_data = (
    st.none()
    | st.text(max_size=20)
    | st.lists(json_data, max_size=4)
    | st.dictionaries(st.text(max_size=8), json_data, max_size=4)
)
text_types = st.sampled_from(
    [
        kind
        for kind in SocketIO
        if kind not in (SocketIO.BINARY_EVENT, SocketIO.BINARY_ACK)
    ]
)


@given(st.sampled_from(EngineIO), st.text(max_size=50))
def test_engine_round_trip(kind: EngineIO, data: str) -> None:
    """Any Engine.IO packet survives encoding and decoding."""
    packet = EnginePacket(kind, data)
    frame = encode_engine(packet)
    assert frame[0] == str(kind.value)
    assert decode_engine(frame) == packet


@given(
    text_types,
    namespaces,
    packet_data,
    st.none() | st.integers(min_value=0, max_value=10**9),
)
def test_socket_round_trip(
    kind: SocketIO, namespace: str, data: Any, ack_id: int | None
) -> None:
    """Any text Socket.IO packet survives encoding and decoding."""
    packet = SocketPacket(kind, namespace, data, ack_id)
    assert decode_socket(encode_socket(packet)) == packet


@given(namespaces, st.text(min_size=1, max_size=12), st.lists(json_data, max_size=3))
def test_event_frame(namespace: str, name: str, args: list[Any]) -> None:
    """`event()` is an Engine.IO MESSAGE holding a Socket.IO EVENT `[name, *args]`."""
    engine = decode_engine(event(namespace, name, *args))
    assert engine.type is EngineIO.MESSAGE
    socket = decode_socket(engine.data)
    assert (socket.type, socket.namespace, socket.data) == (
        SocketIO.EVENT,
        namespace,
        [name, *args],
    )


def test_known_frames() -> None:
    """The frames of the BUZZN session, byte for byte."""
    assert encode_socket(SocketPacket(SocketIO.CONNECT, "/live")) == "0/live"
    assert encode_socket(SocketPacket(SocketIO.CONNECT)) == "0"
    assert event("/live", "live_data", {"data": "x"}) == (
        '42/live,["live_data",{"data":"x"}]'
    )
    assert decode_socket('2/live,["live_data",{"data":"{}"}]').data == [
        "live_data",
        {"data": "{}"},
    ]
    assert decode_socket("1/live") == SocketPacket(SocketIO.DISCONNECT, "/live")
    assert decode_socket('4/live,"Unauthorized"').data == "Unauthorized"
    assert decode_socket("3/live,12[1]") == SocketPacket(SocketIO.ACK, "/live", [1], 12)


@pytest.mark.parametrize("frame", ["", "x", "9", "a0"])
def test_not_engine_packets(frame: str) -> None:
    """Frames that are no Engine.IO packet are refused with InvalidResponse."""
    with pytest.raises(InvalidResponse):
        decode_engine(frame)


@pytest.mark.parametrize("text", ["", "x", "7", '5/live,1-["a"]', "2/live,{bad"])
def test_not_socket_packets(text: str) -> None:
    """Unknown types, binary packets and broken JSON are refused."""
    with pytest.raises(InvalidResponse):
        decode_socket(text)


@given(st.text(max_size=30))
def test_decoders_raise_only_invalid_response(text: str) -> None:
    """Garbage never raises anything but InvalidResponse."""
    for decode in (decode_engine, decode_socket):
        with contextlib.suppress(InvalidResponse):
            decode(text)


def test_handshake() -> None:
    """pingInterval and pingTimeout (ms) become seconds; odd values the defaults."""
    assert parse_handshake(
        '{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":60000}'
    ) == Handshake(25.0, 60.0)
    assert parse_handshake('{"pingInterval":"x","pingTimeout":-1}') == Handshake()
    assert parse_handshake("") == Handshake()
    assert parse_handshake('{"pingInterval":1}').ping_interval == 0.01
    for bad in ("[]", "{", "5"):
        with pytest.raises(InvalidResponse):
            parse_handshake(bad)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (200, TransportUnsupported),
        (400, TransportUnsupported),
        (404, TransportUnsupported),
        (401, InvalidAuth),
        (422, InvalidAuth),
        (503, DeviceBusy),
        (500, CannotConnect),
        (101, CannotConnect),
    ],
)
def test_handshake_errors(status: int, error: type[Exception]) -> None:
    """A refused upgrade: transport missing, auth, or server trouble."""
    result = handshake_error(status, "/socket.io/")
    assert type(result) is error


# -- client against scripted servers -------------------------------------------

OPEN = '0{"sid":"abc","upgrades":[],"pingInterval":%d,"pingTimeout":%d}'


class Peer:
    """The server's side of one scripted session: what the client sent."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.received: list[str] = []
        self.pong = False
        """Answer every ping with a pong."""
        self._changed = asyncio.Event()

    async def read(self) -> None:
        async for message in self.ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                self.received.append(message.data)
                if message.data == "2" and self.pong:
                    await self.ws.send_str("3")
                self._changed.set()

    async def until(self, condition: Callable[[list[str]], bool]) -> None:
        """Wait until the frames the client sent satisfy `condition`."""
        async with asyncio.timeout(5):
            while not condition(self.received):
                self._changed.clear()
                await self._changed.wait()


type Script = Callable[[Peer], Awaitable[None]]


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """A plain aiohttp session."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@contextlib.asynccontextmanager
async def serving(
    script: Script | None = None, *, status: int | None = None
) -> AsyncGenerator[tuple[str, list[Peer]]]:
    """Serve `/socket.io/`: run `script(peer)` then read until the client leaves,
    or answer `status`. Yields the WebSocket URL and the sessions served."""
    peers: list[Peer] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        if status is not None:
            return web.Response(status=status, text="<html>no</html>")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        peer = Peer(ws)
        peers.append(peer)
        reader = asyncio.get_running_loop().create_task(peer.read())
        try:
            assert script is not None
            await script(peer)
            await reader
        finally:
            reader.cancel()
        return ws

    app = web.Application()
    app.router.add_get("/socket.io/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"ws://127.0.0.1:{port}/socket.io/?EIO=3&transport=websocket", peers
    finally:
        await runner.cleanup()


async def collect(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> list[Any]:
    """Every event argument until the generator ends."""
    async with asyncio.timeout(10):
        return [
            item
            async for item in socketio_events(
                session, url, namespace="/live", event="live_data", **kwargs
            )
        ]


async def test_session(session: aiohttp.ClientSession) -> None:
    """Join, skip what is not ours, ping on time, end on the namespace's DISCONNECT."""

    async def script(peer: Peer) -> None:
        ws = peer.ws
        await ws.send_str(OPEN % (50, 2000))
        await ws.send_str("40")
        await peer.until(lambda frames: "40/live" in frames)
        await ws.send_str(event("/live", "live_data", {"data": "Connected"}))
        await ws.send_str("40/live")
        for noise in ("6", "5", "x", "9", "4x", "45/live,[]", '42["live_data",1]'):
            await ws.send_str(noise)
        await ws.send_bytes(b"\x04binary")
        await ws.send_str(event("/other", "live_data", 2))
        await ws.send_str(event("/live", "other_event", 3))
        await ws.send_str('43/live,1["ack"]')
        await ws.send_str('42/live,["live_data"]')
        await ws.send_str(event("/live", "live_data", {"data": "{}"}, "second"))
        peer.pong = True
        await peer.until(lambda frames: frames.count("2") >= 2)
        await ws.send_str("41/live")

    async with serving(script) as (url, peers):
        items = await collect(session, url, headers={"X-Test": "1"})
    assert items == [{"data": "Connected"}, None, {"data": "{}"}]
    assert peers[0].received[0] == "40/live"
    assert peers[0].received.count("2") >= 2


async def test_engine_close_ends(session: aiohttp.ClientSession) -> None:
    """Engine.IO CLOSE ends the generator; so does a closed socket."""

    async def close_packet(peer: Peer) -> None:
        await peer.ws.send_str(OPEN % (25000, 60000))
        await peer.ws.send_str(event("/live", "live_data", 1))
        await peer.ws.send_str("1")

    async with serving(close_packet) as (url, _):
        assert await collect(session, url) == [1]

    async def hang_up(peer: Peer) -> None:
        await peer.ws.send_str(OPEN % (25000, 60000))
        await peer.ws.close()

    async with serving(hang_up) as (url, _):
        assert await collect(session, url) == []


async def test_socketio_error(session: aiohttp.ClientSession) -> None:
    """A Socket.IO ERROR for the namespace is CannotConnect with its text."""

    async def script(peer: Peer) -> None:
        await peer.ws.send_str(OPEN % (25000, 60000))
        await peer.ws.send_str('44/other,"not ours"')
        await peer.ws.send_str('44/live,{"message":"Invalid namespace"}')

    async with serving(script) as (url, _):
        with pytest.raises(CannotConnect, match="Invalid namespace"):
            await collect(session, url)


async def test_no_pong(session: aiohttp.ClientSession) -> None:
    """No pong within pingTimeout: PingTimeout (a CannotConnect), on time."""

    async def script(peer: Peer) -> None:
        await peer.ws.send_str(OPEN % (50, 200))

    loop = asyncio.get_running_loop()
    async with serving(script) as (url, peers):
        start = loop.time()
        with pytest.raises(PingTimeout, match="no pong"):
            await collect(session, url)
        elapsed = loop.time() - start
    assert 0.2 <= elapsed < 2.0
    assert "2" in peers[0].received


async def test_pong_keeps_session(session: aiohttp.ClientSession) -> None:
    """Pongs answered: the session outlives many ping timeouts."""

    async def script(peer: Peer) -> None:
        peer.pong = True
        await peer.ws.send_str(OPEN % (20, 60))
        await peer.until(lambda frames: frames.count("2") >= 10)
        await peer.ws.send_str(event("/live", "live_data", "alive"))
        await peer.ws.send_str("1")

    async with serving(script) as (url, peers):
        assert await collect(session, url) == ["alive"]
    assert peers[0].received.count("2") >= 10


async def test_first_packet_must_be_open(session: aiohttp.ClientSession) -> None:
    """A server that does not speak Engine.IO is an InvalidResponse."""

    async def script(peer: Peer) -> None:
        await peer.ws.send_str('{"hello": 1}')

    async with serving(script) as (url, _):
        with pytest.raises(InvalidResponse):
            await collect(session, url)


@pytest.mark.parametrize(
    ("status", "error"),
    [(200, TransportUnsupported), (400, TransportUnsupported), (401, InvalidAuth)],
)
async def test_refused_upgrade(
    session: aiohttp.ClientSession, status: int, error: type[Exception]
) -> None:
    """An HTTP answer instead of the upgrade."""
    async with serving(status=status) as (url, _):
        with pytest.raises(error):
            await collect(session, url)


async def test_no_server(session: aiohttp.ClientSession) -> None:
    """Nobody listening: CannotConnect."""
    async with serving(status=200) as (url, _):
        pass
    with pytest.raises(CannotConnect):
        await collect(session, url)


async def test_leaving_says_goodbye(session: aiohttp.ClientSession) -> None:
    """Closing the generator leaves the namespace and closes the session."""

    async def script(peer: Peer) -> None:
        await peer.ws.send_str(OPEN % (25000, 60000))
        await peer.ws.send_str(event("/live", "live_data", json.dumps({"n": 1})))

    async with serving(script) as (url, peers):
        events = socketio_events(session, url, namespace="/live", event="live_data")
        assert await anext(events) == '{"n": 1}'
        await events.aclose()
        await peers[0].until(lambda frames: "1" in frames)
    assert peers[0].received == ["40/live", "41/live", "1"]


async def test_open_must_come_first(session: aiohttp.ClientSession) -> None:
    """Another Engine.IO packet first is InvalidResponse; a close is CannotConnect."""

    async def pong_first(peer: Peer) -> None:
        await peer.ws.send_str("3")

    async with serving(pong_first) as (url, _):
        with pytest.raises(InvalidResponse, match=r"not Engine\.IO OPEN"):
            await collect(session, url)

    async def closed(peer: Peer) -> None:
        await peer.ws.close()

    async with serving(closed) as (url, _):
        with pytest.raises(CannotConnect, match=r"before the Engine\.IO OPEN"):
            await collect(session, url)


async def test_chatty_server_without_pongs(session: aiohttp.ClientSession) -> None:
    """Events keep coming but no pong ever does: PingTimeout all the same.

    At once when a gap between events shows no pong is queued, at the latest
    one more pingTimeout later.
    """
    stop = asyncio.Event()

    async def script(peer: Peer) -> None:
        await peer.ws.send_str(OPEN % (50, 200))
        while not stop.is_set():
            await peer.ws.send_str(event("/live", "live_data", 1))
            await asyncio.sleep(0.01)

    loop = asyncio.get_running_loop()
    async with serving(script) as (url, _):
        start = loop.time()
        try:
            with pytest.raises(PingTimeout):
                await collect(session, url)
        finally:
            stop.set()
        elapsed = loop.time() - start
    assert 0.24 <= elapsed < 3.0
