"""Setting up a ZiggyMeter: the device, its sensors and values, unloading."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from simulators.ziggymeter import ZiggySimulator

from .conftest import READER


async def test_setup_creates_the_reader_and_its_sensors(
    hass: HomeAssistant,
    setup_ziggy: MockConfigEntry,
    ziggy_simulator: ZiggySimulator,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The reader is one device; its meter values are typed sensors."""
    assert setup_ziggy.state is ConfigEntryState.LOADED
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, str(setup_ziggy.unique_id)), setup_ziggy.entry_id
    )
    assert device is not None
    assert (device.manufacturer, device.model) == ("ZiggyMeter", "ZG-400")
    assert device.sw_version == ziggy_simulator.firmware_version
    energy = hass.states.get(f"{READER}_energy_import")
    assert energy is not None
    assert float(energy.state) > 0
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["unit_of_measurement"] == "kWh"
    power = hass.states.get(f"{READER}_power")
    assert power is not None
    assert power.attributes["unit_of_measurement"] == "W"
    source = hass.states.get(f"{READER}_power_source")
    assert source is not None
    assert source.state == "usb"
    states = sorted(
        entity.entity_id
        for entity in er.async_entries_for_config_entry(
            entity_registry, setup_ziggy.entry_id
        )
    )
    assert "sensor.ziggymeter_voltage_l3" in states
    assert "update.ziggymeter_firmware" in states
    assert await hass.config_entries.async_unload(setup_ziggy.entry_id)
    assert setup_ziggy.state is ConfigEntryState.NOT_LOADED
    assert ziggy_simulator.logouts == 1


async def test_every_sensor_has_its_name_and_category(
    hass: HomeAssistant,
    setup_ziggy: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Names come from the translations; the meter's values are primary."""
    entries = {
        entry.entity_id: entry
        for entry in er.async_entries_for_config_entry(
            entity_registry, setup_ziggy.entry_id
        )
    }
    primary = {
        entity_id
        for entity_id, entry in entries.items()
        if entry.entity_category is None and entry.disabled_by is None
    }
    assert primary == {
        f"{READER}_energy_import",
        f"{READER}_energy_export",
        f"{READER}_power",
        f"{READER}_power_import",
        f"{READER}_power_export",
    }
    enabled_diagnostics = {
        entity_id
        for entity_id, entry in entries.items()
        if entry.entity_category is not None and entry.disabled_by is None
    }
    assert enabled_diagnostics == {
        f"{READER}_battery",
        f"{READER}_power_source",
        f"{READER}_device_temperature",
        f"{READER}_last_meter_reading",
        f"{READER}_last_seen",
        "update.ziggymeter_firmware",
    }
    names = {
        entity_id: state.attributes["friendly_name"]
        for entity_id in entries
        if (state := hass.states.get(entity_id)) is not None
    }
    assert names[f"{READER}_power_source"] == "ZiggyMeter Power source"
    assert names[f"{READER}_last_seen"] == "ZiggyMeter Last seen"
    assert names["update.ziggymeter_firmware"] == "ZiggyMeter Firmware"
    assert hass.states.get(f"{READER}_power_source").attributes["options"] == [
        "battery",
        "usb",
    ]
