"""Setting up and unloading a HAN reader entry; devices and entities."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.energy_gateways.const import DOMAIN
from simulators.cozify_han import HanFault, HanSimulator

from .conftest import METER, NAME, SERIAL, han_entry_for, until


async def test_setup_creates_devices_and_entities(
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The reader and its meter become linked devices with live values."""
    assert setup_han.state is ConfigEntryState.LOADED
    reader = device_registry.async_get_device_by_identifier(
        (DOMAIN, SERIAL), setup_han.entry_id
    )
    assert reader is not None
    assert reader.manufacturer == "Cozify"
    assert reader.serial_number == SERIAL
    assert reader.sw_version == han_simulator.state["version"]
    assert reader.name == NAME
    assert (dr.CONNECTION_NETWORK_MAC, "aa:bb:cc:dd:ee:ff") in reader.connections
    assert reader.configuration_url == f"http://127.0.0.1:{han_simulator.port}/"
    meter = device_registry.async_get_device_by_identifier(
        (DOMAIN, f"{SERIAL}_meter"), setup_han.entry_id
    )
    assert meter is not None
    assert meter.via_device_id == reader.id
    assert meter.serial_number == han_simulator.meter_identity["meterId"]
    assert meter.model == han_simulator.meter_identity["meterName"]

    power = hass.states.get(f"{METER}_power")
    assert power is not None
    assert power.state != STATE_UNAVAILABLE
    assert float(power.state) == pytest.approx(float(power.state))
    energy = hass.states.get(f"{METER}_energy_import")
    assert energy is not None
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["unit_of_measurement"] == "kWh"
    assert float(energy.state) > 0


# The reader's price slots (dates and prices) are state attributes, and the
# simulator derives them from the current time: a fixed instant keeps them fixed.
# 12:00 in the reader's time zone (Europe/Helsinki), before the next day's prices
# are published, so the snapshot holds exactly one day of slots.
SNAPSHOT_TIME = "2026-11-22 10:00:00+00:00"


@pytest.mark.freeze_time(SNAPSHOT_TIME)
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities_snapshot(
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Registry entries and state attributes of every entity (values vary, so not them).

    Time is frozen (the marker requests `freezer` before `hass` and the simulator):
    the price slots in the attributes are then the same on any day. `setup_han`
    waits for the stream, so the simulator never stops in the middle of connecting
    it, where only a timeout (which a frozen clock never ends) would finish the stop.
    """
    entries = er.async_entries_for_config_entry(entity_registry, setup_han.entry_id)
    assert entries
    for entry in sorted(entries, key=lambda e: e.entity_id):
        state = hass.states.get(entry.entity_id)
        assert state is not None, entry.entity_id
        assert entry == snapshot(name=f"{entry.entity_id}-entry")
        assert dict(state.attributes) == snapshot(name=f"{entry.entity_id}-attributes")


async def test_noisy_entities_disabled_by_default(
    hass: HomeAssistant, setup_han: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Voltages, reactive values and most diagnostics start disabled."""
    for entity_id in (
        f"{METER}_voltage_l1",
        f"{METER}_reactive_power",
        f"{METER}_power_import_l1",
        "sensor.cozify_han_123_456_wifi_signal",
    ):
        entry = entity_registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    for entity_id in (
        f"{METER}_power",
        f"{METER}_current_l1",
        f"{METER}_energy_export",
    ):
        entry = entity_registry.async_get(entity_id)
        assert entry is not None
        assert entry.disabled_by is None


async def test_unload_closes_the_stream(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """Unloading leaves no connection behind."""
    assert await hass.config_entries.async_unload(setup_han.entry_id)
    await hass.async_block_till_done()
    assert setup_han.state is ConfigEntryState.NOT_LOADED
    await until(lambda: han_simulator.stream_clients == 0)


async def test_unreachable_reader_retries_setup(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """A reader that does not answer puts the entry into setup retry."""
    han_simulator.set_fault(HanFault.HTTP_ERROR, status=503)
    entry = han_entry_for(han_simulator)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "Cannot reach the device" in str(entry.reason)


async def test_other_reader_at_address_retries_setup(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """Another reader answering at the entry's address is not adopted."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="HAN00000001",
        data={**han_entry_for(han_simulator).data},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "Another device answers" in str(entry.reason)


async def test_retired_main_fuse_sensor_is_removed(
    hass: HomeAssistant, han_entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """The main-fuse sensor of earlier versions leaves the registry on set-up."""
    han_entry.add_to_hass(hass)
    retired = entity_registry.async_get_or_create(
        "sensor", DOMAIN, f"{SERIAL}_main_fuse", config_entry=han_entry
    )
    assert await hass.config_entries.async_setup(han_entry.entry_id)
    await hass.async_block_till_done()
    assert entity_registry.async_get(retired.entity_id) is None
    assert hass.states.get(retired.entity_id) is None
    assert hass.states.get("number.cozify_han_123_456_main_fuse") is not None
