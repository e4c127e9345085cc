"""The EMS gateway's own page, and which export sensors are enabled by default."""

from __future__ import annotations

from datetime import datetime

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from simulators.gavazzi_ems import EmsFault, EmsSimulator

from ..conftest import advance
from .conftest import GATEWAY, HEAT_PUMP, MAIN, SERIAL

CONNECTION = f"binary_sensor.{GATEWAY}_connection"
FIRMWARE = f"sensor.{GATEWAY}_firmware"
METERS = f"sensor.{GATEWAY}_meters"
LAST_READING = f"sensor.{GATEWAY}_last_reading"


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def test_gateway_page(
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """Connection, firmware, meter count and last reading, enabled, named."""
    expected = {
        CONNECTION: (EntityCategory.DIAGNOSTIC, "EMS BX10000000 Connection"),
        FIRMWARE: (EntityCategory.DIAGNOSTIC, "EMS BX10000000 Firmware"),
        METERS: (None, "EMS BX10000000 Meters"),
        LAST_READING: (EntityCategory.DIAGNOSTIC, "EMS BX10000000 Last reading"),
    }
    for entity_id, (category, name) in expected.items():
        entry = entity_registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert entry.disabled_by is None, entity_id
        assert entry.entity_category is category, entity_id
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert state.attributes["friendly_name"] == name
    connection = hass.states.get(CONNECTION)
    assert connection is not None
    assert connection.state == STATE_ON
    assert connection.attributes["device_class"] == "connectivity"
    assert _state(hass, FIRMWARE) == ems_simulator.firmware
    assert _state(hass, METERS) == "4"
    last = hass.states.get(LAST_READING)
    assert last is not None
    assert last.attributes["device_class"] == "timestamp"
    read_at = setup_ems.runtime_data.coordinator.data.read_at
    assert datetime.fromisoformat(last.state) == read_at.replace(microsecond=0)


async def test_connection_turns_off_but_stays_available(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
) -> None:
    """Gateway out of reach: the meters go unavailable, the connection says "off".

    The time of the last good reading stays, and moves on once it is back.
    """
    last_reading = _state(hass, LAST_READING)
    ems_simulator.set_fault(EmsFault.HTTP_ERROR, status=503)
    await advance(hass, freezer, 10)  # one failed cycle is held back
    assert _state(hass, CONNECTION) == STATE_ON
    await advance(hass, freezer, 10)
    assert _state(hass, f"{HEAT_PUMP}_power") == STATE_UNAVAILABLE
    assert _state(hass, FIRMWARE) == STATE_UNAVAILABLE
    assert _state(hass, METERS) == STATE_UNAVAILABLE
    assert _state(hass, CONNECTION) == STATE_OFF
    assert _state(hass, LAST_READING) == last_reading

    ems_simulator.clear_fault(EmsFault.HTTP_ERROR)
    await advance(hass, freezer, 10)
    assert _state(hass, CONNECTION) == STATE_ON
    assert float(_state(hass, f"{HEAT_PUMP}_power")) > 0
    assert datetime.fromisoformat(_state(hass, LAST_READING)) > datetime.fromisoformat(
        last_reading
    )
    assert datetime.fromisoformat(_state(hass, LAST_READING)) <= dt_util.utcnow()


async def test_firmware_update_reaches_device_and_sensor(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    """New firmware on the gateway: its device and firmware sensor follow."""
    ems_simulator.firmware = "EMS_1.1.0.0.260601.000000"
    await advance(hass, freezer, 601)  # the identity is read with the tree
    gateway = device_registry.async_get_device_by_identifier(
        (DOMAIN, SERIAL), setup_ems.entry_id
    )
    assert gateway is not None
    assert gateway.sw_version == "EMS_1.1.0.0.260601.000000"
    assert _state(hass, FIRMWARE) == "EMS_1.1.0.0.260601.000000"


def _disabled_by(
    registry: er.EntityRegistry, entity_id: str
) -> er.RegistryEntryDisabler | None:
    entry = registry.async_get(entity_id)
    assert entry is not None, entity_id
    return entry.disabled_by


async def test_export_enabled_only_where_exported_or_at_the_grid(
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
    ems_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Export is enabled on the main meter (even before it exported), on the P1
    grid meter and on a load that has exported; a heat pump's is disabled."""
    devices = ems_simulator.installation.devices
    devices[1].loads[0].export_power = 0.0  # main: has not exported (yet)
    devices[60].loads[0].export_power = 3000.0  # an EV charger that feeds back
    ems_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ems_entry.entry_id)
    await hass.async_block_till_done()

    assert _disabled_by(entity_registry, f"{MAIN}_energy_export") is None
    assert _disabled_by(entity_registry, "sensor.grid_energy_export") is None
    assert _disabled_by(entity_registry, "sensor.ev_charger_energy_export") is None
    assert (
        _disabled_by(entity_registry, f"{HEAT_PUMP}_energy_export")
        is er.RegistryEntryDisabler.INTEGRATION
    )
    assert hass.states.get(f"{HEAT_PUMP}_energy_export") is None
    # Import is enabled everywhere.
    for prefix in (MAIN, HEAT_PUMP, "sensor.ev_charger", "sensor.grid"):
        assert _disabled_by(entity_registry, f"{prefix}_energy_import") is None


async def test_existing_installation_keeps_its_entities(
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
    ems_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Entities registered under the old names keep their ids and their state:
    unique ids did not change; an enabled export sensor stays enabled."""
    heat_pump = ems_simulator.installation.devices[30].loads[0]
    uids = {signal.si: signal.uid for signal in heat_pump.signals}
    ems_entry.add_to_hass(hass)
    old_ids = {
        38: "sensor.em1_heat_pump_power",
        44: "sensor.em1_heat_pump_energy_export",
    }
    for si, entity_id in old_ids.items():
        entry = entity_registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{SERIAL}_{uids[si]}",
            config_entry=ems_entry,
            suggested_object_id=entity_id.removeprefix("sensor."),
        )
        assert entry.entity_id == entity_id
    assert await hass.config_entries.async_setup(ems_entry.entry_id)
    await hass.async_block_till_done()

    assert float(_state(hass, "sensor.em1_heat_pump_power")) > 0
    assert hass.states.get(f"{HEAT_PUMP}_power") is None
    assert _disabled_by(entity_registry, "sensor.em1_heat_pump_energy_export") is None
    state = hass.states.get("sensor.em1_heat_pump_power")
    assert state is not None
    assert state.attributes["friendly_name"] == "Heat pump Power"
