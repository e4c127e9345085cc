"""The HAN client as a library: error mapping at the transport boundary."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from aiohttp import ClientSession, web
import pytest

from custom_components.energy_gateways.devices.cozify_han.client import (
    HanClient,
    Transport,
)
from custom_components.energy_gateways.transport.errors import (
    CannotConnect,
    DeviceBusy,
    InvalidResponse,
    TransportUnsupported,
)
from simulators.cozify_han import HanFault, HanSimulator


@pytest.fixture
async def odd_server(socket_enabled: None) -> AsyncGenerator[int]:
    """A server answering with things a HAN reader should not send."""

    async def not_json(_: web.Request) -> web.Response:
        return web.Response(text="<html>hello</html>", content_type="text/html")

    async def teapot(_: web.Request) -> web.Response:
        return web.Response(status=418)

    app = web.Application()
    app.router.add_get("/han", not_json)
    app.router.add_get("/meter", teapot)
    app.router.add_get("/sse", teapot)
    app.router.add_get("/ws", teapot)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield runner.addresses[0][1]
    await runner.cleanup()


async def _first(client: HanClient, transport: Transport) -> object:
    async for message in client.messages(transport):
        return message
    return None


async def test_reads_every_rest_endpoint(
    session: ClientSession, han_simulator: HanSimulator
) -> None:
    """Each typed read returns the simulator's values."""
    client = HanClient(session, "127.0.0.1", han_simulator.port)
    info = await client.get_info()
    assert info.serial == han_simulator.state["serial"]
    assert (await client.get_meter_identity()).meter_id == han_simulator.meter_identity[
        "meterId"
    ]
    assert (await client.get_firmware()).version == han_simulator.firmware["version"]
    assert (await client.get_configuration()).main_fuse == han_simulator.configuration[
        "m"
    ]["f"]
    assert (await client.get_ota()).status == han_simulator.ota["status"]
    assert (await client.get_health()).wifi_rssi is not None
    assert (await client.get_prices()).slots
    assert "1-0:1.8.0" in await client.get_telegram()
    assert 0 < len(await client.get_raw()) <= 4096


async def test_busy_reader_raises_device_busy(
    session: ClientSession, han_simulator: HanSimulator
) -> None:
    """503 (rebooting) is a temporary error on every path."""
    han_simulator.set_fault(HanFault.HTTP_ERROR, status=503)
    client = HanClient(session, "127.0.0.1", han_simulator.port)
    with pytest.raises(DeviceBusy):
        await client.get_meter()
    with pytest.raises(DeviceBusy):
        await client.get_telegram()
    with pytest.raises(DeviceBusy):
        await client.get_raw()
    with pytest.raises(DeviceBusy):
        await _first(client, Transport.WEBSOCKET)
    with pytest.raises(DeviceBusy):
        await _first(client, Transport.SSE)


async def test_server_error_is_cannot_connect(
    session: ClientSession, han_simulator: HanSimulator
) -> None:
    """A 500 is a fault of the reader, not a missing feature."""
    han_simulator.set_fault(HanFault.HTTP_ERROR, status=500)
    client = HanClient(session, "127.0.0.1", han_simulator.port)
    with pytest.raises(CannotConnect):
        await client.get_health()
    with pytest.raises(CannotConnect):
        await _first(client, Transport.WEBSOCKET)
    with pytest.raises(CannotConnect):
        await _first(client, Transport.SSE)


async def test_not_a_reader(session: ClientSession, odd_server: int) -> None:
    """HTML where JSON belongs, and unknown status codes, are reported as such."""
    client = HanClient(session, "127.0.0.1", odd_server)
    with pytest.raises(InvalidResponse):
        await client.get_info()
    with pytest.raises(CannotConnect):
        await client.get_meter()
    with pytest.raises(CannotConnect):
        await _first(client, Transport.SSE)
    with pytest.raises(CannotConnect):
        await _first(client, Transport.WEBSOCKET)
    with pytest.raises(TransportUnsupported):  # an endpoint this firmware lacks
        await client.get_firmware()


async def test_nothing_listening(
    session: ClientSession, han_simulator: HanSimulator
) -> None:
    """A closed port is CannotConnect on every path."""
    port = han_simulator.port
    await han_simulator.stop()
    client = HanClient(session, "127.0.0.1", port)
    with pytest.raises(CannotConnect):
        await client.get_info()
    with pytest.raises(CannotConnect):
        await _first(client, Transport.WEBSOCKET)
    with pytest.raises(CannotConnect):
        await _first(client, Transport.SSE)


async def test_refused_transports(
    session: ClientSession, han_simulator: HanSimulator
) -> None:
    """404 on the stream endpoints means: try the next transport."""
    han_simulator.set_fault(HanFault.REFUSE_WEBSOCKET)
    han_simulator.set_fault(HanFault.REFUSE_SSE)
    client = HanClient(session, "127.0.0.1", han_simulator.port)
    with pytest.raises(TransportUnsupported):
        await _first(client, Transport.WEBSOCKET)
    with pytest.raises(TransportUnsupported):
        await _first(client, Transport.SSE)
    assert client.base_url == f"http://127.0.0.1:{han_simulator.port}"
    assert HanClient(session, "fe80::1", 80).base_url == "http://[fe80::1]:80"
