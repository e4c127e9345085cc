"""Diagnostics: useful content, no identifiers."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_gateways.diagnostics import redact_values
from simulators.cozify_han import HanFault, HanSimulator

from ..conftest import wait_for_state
from .conftest import METER


async def test_diagnostics_redacts_identifiers(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """Payloads, telegram and connection figures are there; serial, MAC and IPs are not."""
    han_simulator.set_configuration({"w": {"e": True, "s": "Koti-5G-Mokkula"}})
    message = han_simulator.push_meter()
    await wait_for_state(
        hass, f"{METER}_power", lambda s: s.state == str(float(message["p"][0]))
    )
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, setup_han)
    device = diagnostics["device"]
    assert device["connection"]["transport"] == "websocket"
    assert device["connection"]["link_up"] is True
    assert device["connection"]["messages"] >= 2
    assert "HAN_METER_MESSAGE" in device["payloads"]
    assert "HAN_STATE_MESSAGE" in device["payloads"]
    assert "1.8.0" in device["telegram"]
    assert len(bytes.fromhex(device["raw_head_hex"])) > 0
    assert (
        device["payloads"]["HAN_OTA_MESSAGE"]["status"] == han_simulator.ota["status"]
    )
    configuration = device["payloads"]["HAN_CONFIGURATION"]
    assert configuration["w"]["p"] == "***"  # the reader's mask, never a password

    text = json.dumps(diagnostics)
    state = han_simulator.state
    for secret in (
        state["serial"],
        state["mac"],
        state["mac"].replace(":", "").lower(),
        state["ethIp"],
        state["wifiIp"],
        state["uuid"],
        han_simulator.meter_identity["meterId"],
        han_simulator.configuration["w"]["s"],
        han_simulator.wifi_password,
        "127.0.0.1",
    ):
        assert secret.lower() not in text.lower(), secret


async def test_diagnostics_while_reader_is_down(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """Diagnostics still download when the reader stops answering."""
    han_simulator.set_fault(HanFault.HTTP_ERROR, status=500)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, setup_han)
    assert diagnostics["device"]["telegram"].startswith("unavailable:")
    assert "HAN_STATE_MESSAGE" in diagnostics["device"]["payloads"]


def test_redaction_without_identifiers_keeps_data() -> None:
    """With nothing known to scrub, the data is returned as it is."""
    data = {"a": ["b", 1]}
    assert redact_values(data, [None, "", "abc"]) is data
    assert redact_values({"x": ("AA:BB", "aa:bb:cc")}, ["aa:bb"]) == {
        "x": ["**REDACTED**", "**REDACTED**:cc"]
    }
