"""The BUZZN live stream over the plain WebSocket and Socket.IO, against the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from decimal import Decimal

from aiohttp import ClientSession
import pytest

from custom_components.energy_gateways.devices.buzzn.client import BuzznClient
from custom_components.energy_gateways.devices.buzzn.live import (
    ALIVE,
    socketio_messages,
    websocket_messages,
)
from custom_components.energy_gateways.devices.buzzn.models import LiveMessage
from custom_components.energy_gateways.transport.errors import (
    CannotConnect,
    InvalidAuth,
    TransportUnsupported,
)
from custom_components.energy_gateways.transport.socketio import PingTimeout
from simulators.buzzn import BuzznFault, BuzznSimulator

from ..conftest import until
from .conftest import EMAIL, PASSWORD, start_simulator

METER_ID = "b4234cd4bed143a6b9bd09e347e17d34"

type Messages = AsyncGenerator[LiveMessage]


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A plain aiohttp session."""
    async with ClientSession() as client_session:
        yield client_session


@pytest.fixture
def sim(buzzn_simulator: BuzznSimulator) -> BuzznSimulator:
    """The simulated server in both variants."""
    return buzzn_simulator


def _client(session: ClientSession, sim: BuzznSimulator) -> BuzznClient:
    return BuzznClient(session, sim.url, EMAIL, PASSWORD)


async def _next_data(messages: Messages) -> LiveMessage:
    """The next message with data (past the greeting's ALIVE)."""
    while (message := await anext(messages)) is ALIVE:
        pass
    return message


async def _pushed(sim: BuzznSimulator, messages: Messages) -> LiveMessage:
    """Connect (if needed), have the server push once, return what arrived."""
    receiving = asyncio.get_running_loop().create_task(_next_data(messages))
    await until(lambda: sim.live_clients == 1 or receiving.done())
    sent = sim.messages_sent
    await until(lambda: _ready(sim) or receiving.done())
    if not receiving.done():
        sim.push_now()
        await until(lambda: sim.messages_sent > sent or receiving.done())
    async with asyncio.timeout(5):
        return await receiving


def _ready(sim: BuzznSimulator) -> bool:
    """Whether the server's live client has joined (Socket.IO) and would get data."""
    return all(client.joined and client.subscribed for client in sim._clients)


def _check(message: LiveMessage, sim: BuzznSimulator) -> None:
    """The message carries the simulated group: three members, exact kWh, W."""
    assert message.date is not None
    assert [member.id for member in message.members] == ["1", "2", "3"]
    own = message.member_by_meter(METER_ID)
    assert own is not None
    assert own.id == "1"
    assert isinstance(own.energy, Decimal)
    assert 100_000 < own.energy < 1_000_000  # kWh of a household counter
    assert own.power is not None
    assert 100 < own.power < 5000  # W
    assert message.group_production is not None
    assert 0 <= message.group_production < 20_000


async def test_websocket(session: ClientSession, document: BuzznSimulator) -> None:
    """The seed's /live: greeting skipped, `{"data": "<json>"}` decoded."""
    client = _client(session, document)
    messages = websocket_messages(client, METER_ID)
    try:
        message = await _pushed(document, messages)
        _check(message, document)
        assert client.logins == 1
        assert document.requests["/live"] == 1
        second = await _pushed(document, messages)
        assert second.date is not None
        assert message.date is not None
        assert second.date >= message.date
    finally:
        await messages.aclose()
    await until(lambda: document.live_clients == 0)


async def test_websocket_unwrapped(session: ClientSession) -> None:
    """Messages sent as the object itself are decoded the same."""
    simulator = await start_simulator(variant="document", wrap_data=False)
    try:
        messages = websocket_messages(_client(session, simulator), METER_ID)
        try:
            _check(await _pushed(simulator, messages), simulator)
        finally:
            await messages.aclose()
    finally:
        await simulator.stop()


async def test_websocket_refused_by_reference(session: ClientSession) -> None:
    """The reference backend answers /live with a page: TransportUnsupported."""
    simulator = await start_simulator(variant="reference")
    try:
        client = _client(session, simulator)
        with pytest.raises(TransportUnsupported, match="HTTP 200"):
            await anext(websocket_messages(client, METER_ID))
        assert simulator.requests["/live"] == 1
    finally:
        await simulator.stop()


async def test_websocket_session_renewed(
    session: ClientSession, document: BuzznSimulator
) -> None:
    """A 401 on the handshake costs one login; a 401 that persists is InvalidAuth."""
    client = _client(session, document)
    await client.login()
    document.expire_sessions_now()
    messages = websocket_messages(client, METER_ID)
    try:
        _check(await _pushed(document, messages), document)
    finally:
        await messages.aclose()
    assert client.logins == 2
    document.change_password("another-password")
    with pytest.raises(InvalidAuth):
        await anext(websocket_messages(client, METER_ID))


@pytest.mark.parametrize("transport", ["websocket", "socketio"])
async def test_stream_ends_when_dropped(
    session: ClientSession, document: BuzznSimulator, transport: str
) -> None:
    """A closed connection ends the generator (the coordinator reconnects)."""
    client = _client(session, document)
    opener = websocket_messages if transport == "websocket" else socketio_messages
    messages = opener(client, METER_ID)
    await _pushed(document, messages)
    document.set_fault(BuzznFault.DROP_STREAMS)
    async with asyncio.timeout(5):
        assert [message async for message in messages if message is not ALIVE] == []


async def test_socketio(session: ClientSession, sim: BuzznSimulator) -> None:
    """Socket.IO 2 in both variants: join `/live`, greeting skipped, data decoded."""
    client = _client(session, sim)
    messages = socketio_messages(client, METER_ID)
    try:
        _check(await _pushed(sim, messages), sim)
        _check(await _pushed(sim, messages), sim)
        assert sim.requests["/socket.io/"] == 1
    finally:
        await messages.aclose()
    await until(lambda: sim.live_clients == 0)


async def test_no_data_is_alive_but_no_values(
    session: ClientSession, sim: BuzznSimulator
) -> None:
    """`{"data": "{}"}` says "alive, nothing new"; null members are unknown, not 0."""
    client = _client(session, sim)
    messages = socketio_messages(client, METER_ID)
    try:
        _check(await _pushed(sim, messages), sim)
        sim.set_fault(BuzznFault.EMPTY_LIVE)
        sim.push_now()
        async with asyncio.timeout(5):
            assert await anext(messages) is ALIVE
        sim.clear_fault(BuzznFault.EMPTY_LIVE)
        sim.set_fault(BuzznFault.MEMBER_WITHOUT_READINGS)
        sim.push_now()
        async with asyncio.timeout(5):
            message = await _next_data(messages)
        second = message.members[1]
        assert (second.energy, second.power) == (None, None)
        assert message.members[0].power is not None
    finally:
        await messages.aclose()


async def test_ping_pong(session: ClientSession) -> None:
    """The client pings every announced interval, so the server keeps sending."""
    simulator = await start_simulator(
        variant="reference", ping_interval=0.05, ping_timeout=0.5, ping_grace=0.1
    )
    try:
        messages = socketio_messages(_client(session, simulator), METER_ID)
        try:
            await _pushed(simulator, messages)
            await asyncio.sleep(0.6)  # > pingTimeout and > interval + grace
            _check(await _pushed(simulator, messages), simulator)
            (live,) = simulator._clients
            assert not live.dropped
        finally:
            await messages.aclose()
    finally:
        await simulator.stop()


async def test_silent_stream(session: ClientSession) -> None:
    """A stalled server answers no ping: PingTimeout within pingTimeout."""
    simulator = await start_simulator(
        variant="reference", ping_interval=0.05, ping_timeout=0.3
    )
    try:
        messages = socketio_messages(_client(session, simulator), METER_ID)
        await _pushed(simulator, messages)
        simulator.set_fault(BuzznFault.STALL_STREAM)
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(PingTimeout) as caught:
            async with asyncio.timeout(5):
                await _next_data(messages)
        assert isinstance(caught.value, CannotConnect)
        assert loop.time() - start < 1.5
    finally:
        await simulator.stop()
