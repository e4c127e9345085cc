"""ZiggyMeter diagnostics and options: what a support request shows, what a user sets."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from simulators.ziggymeter import ZiggySimulator

from ..conftest import set_up_entry
from .conftest import PASSWORD, USERNAME, poll, ziggy_entry_for

IDENTIFIER = "ZM-00C0FFEE"


async def test_diagnostics_hold_the_raw_status_without_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    socket_enabled: None,
) -> None:
    """Raw payloads, login path, power sources; no SSID, IP, id, host or account."""
    simulator = ZiggySimulator(
        username=USERNAME, password=PASSWORD, identifier=IDENTIFIER, extra_keys=True
    )
    await simulator.start(host="127.0.0.1", port=0)
    try:
        entry = await set_up_entry(hass, ziggy_entry_for(simulator))
        simulator.set_power("battery")
        await poll(entry)
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    finally:
        await simulator.stop()
    device = diagnostics["device"]
    status = device["status"]
    assert status["wifi"]["ssid"] == "**REDACTED**"
    assert status["wifi"]["ip"] == "**REDACTED**"
    assert status["serial"] == "**REDACTED**"
    assert "energy_import_kwh" in status["meter"]
    assert "frequency_hz" in status["meter"]  # unknown keys, to map them later
    assert device["version"]["build_number"] == 320
    assert device["polling"]["login_path"] == "/api/v1/system/login"
    assert [s["source"] for s in device["power_sources"]] == ["usb", "battery"]
    text = json.dumps(diagnostics)
    for secret in (
        PASSWORD,
        USERNAME,
        IDENTIFIER,
        IDENTIFIER.lower(),
        "home-net",
        "192.168.1.77",
        f"127.0.0.1:{simulator.port}",
    ):
        assert secret not in text, secret


async def test_options_change_the_intervals_and_reload(
    hass: HomeAssistant, setup_ziggy: MockConfigEntry
) -> None:
    """The options form stores its values; the entry reloads with them."""
    result = await hass.config_entries.options.async_init(setup_ziggy.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ziggymeter_options"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "usb_interval": 60,
            "battery_interval": 600,
            "keep_hours": 48,
            "upload_rate": 2048,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    coordinator = setup_ziggy.runtime_data.coordinator
    assert coordinator.update_interval.total_seconds() == 60


@pytest.mark.parametrize(
    ("field", "value"),
    [("usb_interval", 5), ("battery_interval", 7200), ("upload_rate", 64)],
)
async def test_options_out_of_range_are_refused(
    hass: HomeAssistant, setup_ziggy: MockConfigEntry, field: str, value: int
) -> None:
    """Values outside the ranges are refused by the form."""
    result = await hass.config_entries.options.async_init(setup_ziggy.entry_id)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                "usb_interval": 30,
                "battery_interval": 300,
                "keep_hours": 24,
                "upload_rate": 1024,
                field: value,
            },
        )
    assert field in err.value.schema_errors


async def test_removing_the_entry_deletes_its_stored_values(
    hass: HomeAssistant,
    setup_ziggy: MockConfigEntry,
    hass_storage: dict[str, object],
) -> None:
    """The last values are stored per entry and go with it."""
    key = f"energy_gateways.ziggymeter.{setup_ziggy.entry_id}"
    assert await hass.config_entries.async_unload(setup_ziggy.entry_id)
    assert key in hass_storage  # written when the entry unloads
    assert await hass.config_entries.async_remove(setup_ziggy.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
