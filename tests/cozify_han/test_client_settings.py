"""The HAN client's configuration and WiFi calls as a library."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from aiohttp import ClientSession, web
import pytest

from custom_components.energy_gateways.devices.cozify_han.client import HanClient
from custom_components.energy_gateways.devices.cozify_han.models import (
    parse_configuration_result,
    parse_definitions,
    parse_wifi_scan,
)
from custom_components.energy_gateways.transport.errors import Rejected
from simulators.cozify_han import HanSimulator


@pytest.fixture
async def refusing_reader(socket_enabled: None) -> AsyncGenerator[int]:
    """A reader that answers 200 but with `success: false`."""

    async def refuse(_: web.Request) -> web.Response:
        return web.json_response({"success": False, "message": "busy saving"})

    async def refuse_silently(_: web.Request) -> web.Response:
        return web.json_response({"success": False})

    app = web.Application()
    app.router.add_post("/configuration", refuse_silently)
    app.router.add_post("/setup", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield runner.addresses[0][1]
    await runner.cleanup()


async def test_masked_secret_is_never_written_back(
    session: ClientSession, han_simulator: HanSimulator
) -> None:
    """Keys holding "***" are left out, also when that empties an object."""
    client = HanClient(session, "127.0.0.1", han_simulator.port)
    config = await client.get_configuration()
    assert config.raw["w"]["p"] == "***"
    result = await client.set_configuration(
        {"w": {"p": "***", "s": "Koti"}, "e": {"n": {"dns": "***"}}, "m": {"f": 35}}
    )
    assert han_simulator.configuration_posts == [{"w": {"s": "Koti"}, "m": {"f": 35}}]
    assert result.success
    assert result.reboot_required  # a WiFi change
    assert han_simulator.wifi_password == "factory-wifi-key"


async def test_refusals_raise_rejected(
    session: ClientSession, refusing_reader: int
) -> None:
    """`success: false` is a refusal even with HTTP 200; the password stays out."""
    client = HanClient(session, "127.0.0.1", refusing_reader)
    with pytest.raises(Rejected, match="configuration refused"):
        await client.set_configuration({"up": "manual"})
    with pytest.raises(Rejected, match="busy saving") as err:
        await client.setup_wifi("Koti", "very-secret-key")
    assert "very-secret-key" not in str(err.value)


async def test_definitions_scan_and_setup(
    session: ClientSession, han_simulator: HanSimulator
) -> None:
    """Definitions, a whole scan and a set-up against the simulator."""
    han_simulator.scan_seconds = 0.01
    client = HanClient(session, "127.0.0.1", han_simulator.port)
    definitions = await client.get_definitions()
    assert "EUR" in definitions.currencies
    assert definitions.price_areas[0] == "FI"
    assert "Europe/Helsinki" in definitions.timezones
    assert (await client.start_wifi_scan()).status == "SCAN_RUNNING"
    while (scan := await client.get_wifi_scan()).status == "SCAN_RUNNING":
        pass
    assert scan.status == "SCAN_SUCCESS"
    assert {network.ssid for network in scan.networks} >= {"Koti", "Telia-Guest"}
    assert all(network.bssid and network.channel for network in scan.networks)
    await client.setup_wifi("Koti", "salasana-123")
    assert han_simulator.wifi_password == "salasana-123"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"success": True}, (True, None, False)),
        (
            {"success": True, "message": "ok", "rebootRequired": True},
            (True, "ok", True),
        ),
        ({"success": False, "message": "no"}, (False, "no", False)),
        ("garbage", (True, None, False)),
    ],
)
def test_configuration_result(payload: Any, expected: tuple[Any, ...]) -> None:
    """Missing flags mean success without a restart."""
    result = parse_configuration_result(payload)
    assert (result.success, result.message, result.reboot_required) == expected


def test_definitions_tolerate_other_item_shapes() -> None:
    """Items may be strings or objects with an id or value; others are skipped."""
    definitions = parse_definitions(
        {
            "type": "HAN_DEFINITIONS",
            "currencies": [{"id": "EUR", "name": "Euro"}, {"value": "SEK"}, "EUR", 5],
            "priceAreas": "FI",
        }
    )
    assert definitions is not None
    assert definitions.currencies == ("EUR", "SEK")
    assert definitions.price_areas == ()
    assert definitions.timezones == ()
    assert parse_definitions({"type": "HAN_STATE_MESSAGE"}) is None


def test_scan_tolerates_missing_keys() -> None:
    """Only the SSID is needed; an answer without a status is not a scan."""
    scan = parse_wifi_scan(
        {"status": "SCAN_SUCCESS", "networks": [{"ssid": "Koti", "rssi": "-50"}, {}]}
    )
    assert scan is not None
    assert [(n.ssid, n.rssi, n.channel, n.auth) for n in scan.networks] == [
        ("Koti", -50, None, None)
    ]
    assert parse_wifi_scan({"status": "SCAN_RUNNING"}).networks == ()  # type: ignore[union-attr]
    assert parse_wifi_scan({"networks": []}) is None
