"""WiFi set-up in the HAN reader's options flow: warn, scan, choose, set up."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any
from unittest.mock import patch

from aiohttp import web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from simulators.cozify_han import HanFault, HanSimulator

from .conftest import until

FLOW = "custom_components.energy_gateways.devices.cozify_han.options_flow"


@pytest.fixture(autouse=True)
def fast_scan(han_simulator: HanSimulator) -> Generator[None]:
    """Scans take 50 ms and are polled every 10 ms (1 s in production)."""
    han_simulator.scan_seconds = 0.05
    with patch(f"{FLOW}.SCAN_POLL_INTERVAL", 0.01):
        yield


async def _scan(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """Open the WiFi set-up, confirm the warning and wait for the scan."""
    assert entry.supports_options  # the entry shows a Configure button
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert "wifi" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "wifi"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "wifi"  # the warning about the WiFi link
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "wifi_scan"
    await hass.async_block_till_done()
    return await hass.config_entries.options.async_configure(result["flow_id"])


def _options(result: dict[str, Any]) -> list[dict[str, str]]:
    schema = result["data_schema"].schema
    ssid = next(key for key in schema if key == "ssid")
    options: list[dict[str, str]] = schema[ssid].config["options"]
    return options


@pytest.mark.parametrize("ssid", ["Koti", "Piilotettu verkko"])
async def test_wifi_is_set_up_from_a_scan(
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
    ssid: str,
) -> None:
    """Networks come strongest first with details; a typed SSID works too."""
    runtime = setup_han.runtime_data
    result = await _scan(hass, setup_han)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "wifi_network"
    options = _options(result)
    assert options[0]["value"] == "Koti"
    assert options[0]["label"].startswith("Koti (-")
    assert options[0]["label"].endswith(" dBm, channel 6, WPA2)")
    strengths = [
        int(option["label"].split("(")[1].split(" dBm")[0]) for option in options
    ]
    assert strengths == sorted(strengths, reverse=True)
    labels = {option["value"]: option["label"] for option in options}
    assert labels["Telia-Guest"].endswith("channel 11, open)")
    assert labels["Elisa-Mokkula"].endswith("channel 11, WPA2/WPA3)")

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"ssid": ssid, "password": "salasana-123"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert han_simulator.configuration["w"]["s"] == ssid
    assert han_simulator.configuration["w"]["e"] is True
    assert han_simulator.wifi_password == "salasana-123"
    # Options unchanged: no reload, and the password is stored nowhere in HA.
    assert setup_han.options == {}
    assert setup_han.state is ConfigEntryState.LOADED
    assert setup_han.runtime_data is runtime
    assert "salasana-123" not in str(setup_han.as_dict())


async def test_refused_wifi_settings_can_be_corrected(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """The reader refusing the SSID shows setup_failed; the network is kept."""
    result = await _scan(hass, setup_han)
    too_long = "x" * 40
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"ssid": too_long, "password": "salasana-123"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "setup_failed"}
    schema = result["data_schema"].schema
    ssid = next(key for key in schema if key == "ssid")
    assert ssid.description == {"suggested_value": too_long}
    assert han_simulator.configuration["w"]["s"] == ""

    han_simulator.set_fault(HanFault.HTTP_ERROR, status=500)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"ssid": "Koti", "password": "salasana-123"}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    han_simulator.clear_faults()
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"ssid": "Koti"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert han_simulator.configuration["w"]["s"] == "Koti"
    assert han_simulator.wifi_password == ""  # an open network


async def test_failed_scan_can_be_retried(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """SCAN_FAILED returns to the warning with scan_failed; a retry works."""
    han_simulator.scan_fails = True
    result = await _scan(hass, setup_han)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "wifi"
    assert result["errors"] == {"base": "scan_failed"}

    han_simulator.scan_fails = False
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_configure(result["flow_id"])
    assert result["step_id"] == "wifi_network"
    assert _options(result)


async def test_scan_that_never_ends_fails(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """The scan is polled a bounded number of times."""
    han_simulator.scan_seconds = 60
    with patch(f"{FLOW}.SCAN_MAX_POLLS", 3):
        result = await _scan(hass, setup_han)
    assert result["errors"] == {"base": "scan_failed"}
    assert han_simulator.requests["/scan"] == 4  # the start and three polls


async def test_scan_of_unreachable_reader(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """A reader that does not answer the scan request gives cannot_connect."""
    han_simulator.set_fault(HanFault.HTTP_ERROR, status=500)
    result = await _scan(hass, setup_han)
    assert result["step_id"] == "wifi"
    assert result["errors"] == {"base": "cannot_connect"}


async def test_reader_lost_while_scanning(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """Polls that fail are retried; if the reader never returns: cannot_connect."""
    han_simulator.scan_seconds = 60
    with patch(f"{FLOW}.SCAN_MAX_POLLS", 3):
        result = await hass.config_entries.options.async_init(setup_han.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "wifi"}
        )
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {}
        )
        assert result["type"] is FlowResultType.SHOW_PROGRESS
        # The scan started; then the reader's WiFi link goes away.
        await until(lambda: han_simulator.requests["/scan"] == 1)
        han_simulator.set_fault(HanFault.HTTP_ERROR, status=503)
        await hass.async_block_till_done()
        result = await hass.config_entries.options.async_configure(result["flow_id"])
    assert result["errors"] == {"base": "cannot_connect"}
    assert han_simulator.requests["/scan"] == 4


@pytest.fixture
async def odd_reader(socket_enabled: None) -> AsyncGenerator[int]:
    """A reader whose scan result lacks details and repeats an SSID."""

    async def scan(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "status": "SCAN_SUCCESS",
                "networks": [
                    {"ssid": "Mesh", "rssi": -80, "channel": 1},
                    {"ssid": "Bare"},
                    {"ssid": "Mesh", "rssi": -60, "auth": "WPA3_PSK"},
                    {"ssid": "Mesh", "rssi": -70},
                    {"ssid": "", "rssi": -40},
                    "not a network",
                ],
            }
        )

    app = web.Application()
    app.router.add_get("/scan", scan)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield runner.addresses[0][1]
    await runner.cleanup()


async def test_scan_results_are_tidied(hass: HomeAssistant, odd_reader: int) -> None:
    """One entry per SSID (the strongest), hidden ones left out, missing details too."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="HAN00000001",
        data={CONF_DEVICE_TYPE: "cozify_han", "host": "127.0.0.1", "port": odd_reader},
    )
    entry.add_to_hass(hass)
    result = await _scan(hass, entry)
    assert _options(result) == [
        {"value": "Mesh", "label": "Mesh (-60 dBm, WPA3)"},
        {"value": "Bare", "label": "Bare"},
    ]
