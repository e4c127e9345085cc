"""Setting up an EMS gateway: devices, sensors, values, unloading."""

from __future__ import annotations

from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from simulators.gavazzi_ems import EmsSimulator

from .conftest import HEAT_PUMP, MAIN, SERIAL


async def test_setup_creates_devices_and_sensors(
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The gateway and its four meters become devices with typed sensors."""
    assert setup_ems.state is ConfigEntryState.LOADED
    gateway = device_registry.async_get_device_by_identifier(
        (DOMAIN, SERIAL), setup_ems.entry_id
    )
    assert gateway is not None
    assert gateway.model == ems_simulator.part_number
    assert gateway.sw_version == ems_simulator.firmware
    meters = [
        device
        for device in dr.async_entries_for_config_entry(
            device_registry, setup_ems.entry_id
        )
        if device.via_device_id == gateway.id
    ]
    assert sorted(meter.name for meter in meters) == [
        "EV charger",
        "Grid",
        "Heat pump",
        "Main",
    ]
    voltage = hass.states.get(f"{MAIN}_voltage_l1")
    assert voltage is not None
    assert 220 < float(voltage.state) < 240
    assert voltage.attributes["unit_of_measurement"] == "V"
    energy = hass.states.get(f"{HEAT_PUMP}_energy_import")
    assert energy is not None
    assert float(energy.state) > 0
    assert energy.attributes["state_class"] == "total_increasing"
    assert await hass.config_entries.async_unload(setup_ems.entry_id)
    assert setup_ems.state is ConfigEntryState.NOT_LOADED


async def test_firmware_upload_is_refused_for_a_gateway(
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    tmp_path: Path,
) -> None:
    """upload_firmware names the device that takes no firmware files."""
    gateway = device_registry.async_get_device_by_identifier(
        (DOMAIN, SERIAL), setup_ems.entry_id
    )
    assert gateway is not None
    with pytest.raises(ServiceValidationError) as failure:
        await hass.services.async_call(
            DOMAIN,
            "upload_firmware",
            {"device_id": gateway.id, "path": str(tmp_path / "image.bin")},
            blocking=True,
        )
    assert failure.value.translation_key == "wrong_device_type"
    assert failure.value.translation_placeholders == {"name": gateway.name}


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_counter_that_really_is_zero_shows_zero(
    hass: HomeAssistant, setup_ems: MockConfigEntry
) -> None:
    """A heat pump exports nothing: after three valid zero readings, 0 is shown.

    (Its export sensor is disabled by default; enabled, it behaves so.)

    A single 0 stays hidden: a false zero on a total would spike the Energy
    dashboard when the real value follows.
    """
    export = f"{HEAT_PUMP}_energy_export"
    state = hass.states.get(export)
    assert state is not None
    assert state.state == "unknown"
    coordinator = setup_ems.runtime_data.coordinator
    await coordinator.async_refresh()
    state = hass.states.get(export)
    assert state is not None
    assert state.state == "unknown"
    await coordinator.async_refresh()
    state = hass.states.get(export)
    assert state is not None
    assert float(state.state) == 0
