"""EMS devices: the gateway and its meters, meters coming and going, removal."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.energy_gateways.const import DOMAIN
from simulators.gavazzi_ems import EmsFault, EmsSimulator
from simulators.gavazzi_ems.data import Signal as SimSignal

from ..conftest import advance, number_state
from .conftest import (
    GATEWAY,
    HEAT_PUMP,
    MAIN,
    PASSWORD,
    SERIAL,
    USERNAME,
    ems_entry_for,
)

EV_CHARGER = "sensor.ev_charger"
NEW_METER = "sensor.em3"


async def _next_tree_read(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let 10 minutes pass: the next poll reads the device tree again."""
    await advance(hass, freezer, 601)


def _meter(
    registry: dr.DeviceRegistry, entry: MockConfigEntry, uid: int
) -> dr.DeviceEntry | None:
    return registry.async_get_device_by_identifier(
        (DOMAIN, f"{SERIAL}_{uid}"), entry.entry_id
    )


def _entity_ids(registry: er.EntityRegistry, device: dr.DeviceEntry) -> set[str]:
    return {
        entry.entity_id
        for entry in er.async_entries_for_device(
            registry, device.id, include_disabled_entities=True
        )
    }


async def test_gateway_and_meter_devices(
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The gateway is a device with its MAC; each meter hangs off it."""
    gateway = device_registry.async_get_device_by_identifier(
        (DOMAIN, SERIAL), setup_ems.entry_id
    )
    assert gateway is not None
    assert gateway.identifiers == {(DOMAIN, SERIAL)}
    assert gateway.connections == {(dr.CONNECTION_NETWORK_MAC, "00:1a:2b:3c:4d:5e")}
    assert gateway.manufacturer == "Carlo Gavazzi"
    assert gateway.model == "EMS10AV5S1X"
    assert gateway.sw_version == "EMS_1.0.0.0.250101.000000"
    assert gateway.serial_number == SERIAL
    assert gateway.name == setup_ems.title
    assert gateway.configuration_url == ems_simulator.url
    assert gateway.via_device_id is None

    # Each meter is named after the load it measures; the part number is the model.
    expected = {
        1: ("Main", "EMS10AV5S1X (3P)", "Carlo Gavazzi"),
        30: ("Heat pump", "EM24_E1 (3P)", "Carlo Gavazzi"),
        60: ("EV charger", "EM24_E1 (3P)", "Carlo Gavazzi"),
        # The P1 port reads the grid operator's meter.
        90: ("Grid", "P1 (3P)", None),
    }
    for uid, (name, model, manufacturer) in expected.items():
        meter = _meter(device_registry, setup_ems, uid)
        assert meter is not None, uid
        assert (meter.name, meter.model, meter.manufacturer) == (
            name,
            model,
            manufacturer,
        )
        # The API has no serial number for the meters behind the gateway.
        assert meter.serial_number is None
        assert meter.via_device_id == gateway.id
        # 22 signals per meter, each a sensor of that meter.
        assert len(_entity_ids(entity_registry, meter)) == 22
    assert (
        len(dr.async_entries_for_config_entry(device_registry, setup_ems.entry_id)) == 5
    )
    # The gateway's own page: connection, firmware, meters, last reading.
    assert _entity_ids(entity_registry, gateway) == {
        f"binary_sensor.{GATEWAY}_connection",
        f"sensor.{GATEWAY}_firmware",
        f"sensor.{GATEWAY}_meters",
        f"sensor.{GATEWAY}_last_reading",
        f"sensor.{GATEWAY}_api_version",
    }
    # Entity names are the quantity; the device name says what is measured.
    state = hass.states.get(f"{HEAT_PUMP}_current_l1")
    assert state is not None
    assert state.attributes["friendly_name"] == "Heat pump Current L1"
    registry_entry = entity_registry.async_get(f"{HEAT_PUMP}_current_l1")
    assert registry_entry is not None
    assert registry_entry.translation_key == "ems_current_phase"
    assert registry_entry.device_id == _meter(device_registry, setup_ems, 30).id  # type: ignore[union-attr]
    state = hass.states.get(f"{MAIN}_energy_import")
    assert state is not None
    assert state.attributes["friendly_name"] == "Main Energy import"
    api_version = entity_registry.async_get("sensor.ems_bx10000000_api_version")
    assert api_version is not None
    assert api_version.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert api_version.entity_category is EntityCategory.DIAGNOSTIC


async def test_devices_are_registered_without_deprecation_warnings(
    hass: HomeAssistant,
    ems_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Registering the meters uses only current device-registry arguments."""
    ems_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ems_entry.entry_id)
    await hass.async_block_till_done()
    assert ems_entry.state is ConfigEntryState.LOADED
    reports = [
        record.getMessage()
        for record in caplog.records
        if record.name == "homeassistant.helpers.frame"
    ]
    assert reports == []


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_gateway_api_version_sensor(
    hass: HomeAssistant, setup_ems: MockConfigEntry
) -> None:
    """Once enabled, the diagnostic sensor shows the API version from /ver."""
    state = hass.states.get("sensor.ems_bx10000000_api_version")
    assert state is not None
    assert state.state == "1"


async def test_new_meter_appears_without_reload(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A meter added on the gateway gets a device and sensors at the next tree read."""
    runtime = setup_ems.runtime_data
    ems_simulator.set_fault(EmsFault.DEVICE_APPEARS, label="EM3")
    uid = max(ems_simulator.installation.devices)
    await advance(hass, freezer, 10)  # values only: not seen yet
    assert _meter(device_registry, setup_ems, uid) is None
    assert hass.states.get(f"{NEW_METER}_power") is None

    await _next_tree_read(hass, freezer)
    meter = _meter(device_registry, setup_ems, uid)
    assert meter is not None
    assert meter.name == "EM3"  # the label of its one load
    assert meter.model == "EM24_E1 (3P)"
    gateway = device_registry.async_get_device_by_identifier(
        (DOMAIN, SERIAL), setup_ems.entry_id
    )
    assert gateway is not None
    assert meter.via_device_id == gateway.id
    assert len(_entity_ids(entity_registry, meter)) == 22
    assert number_state(hass, f"{NEW_METER}_power") > 0
    assert number_state(hass, f"{NEW_METER}_voltage_l1") > 200
    assert number_state(hass, f"{NEW_METER}_energy_import") > 0
    # The new sensors follow later polls like the others.
    await advance(hass, freezer, 10)
    signal = next(
        signal
        for signal in ems_simulator.installation.devices[uid].loads[0].signals
        if signal.si == 38
    )
    assert (
        number_state(hass, f"{NEW_METER}_power")
        == (setup_ems.runtime_data.coordinator.data.values[signal.uid])
    )
    # Same runtime, same entry: nothing was reloaded.
    assert setup_ems.state is ConfigEntryState.LOADED
    assert setup_ems.runtime_data is runtime
    # The main meter's own sensors still show its polled power (a net value, which
    # can be 0 at some moment of the day: compared, not tested for zero).
    main_power = next(
        signal
        for signal in ems_simulator.installation.devices[1].loads[0].signals
        if signal.si == 38
    )
    assert (
        number_state(hass, f"{MAIN}_power")
        == runtime.coordinator.data.values[main_power.uid]
    )


async def test_meter_gone_after_an_outage_and_back(
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A failed poll makes the next good one read the tree: a vanished meter goes."""
    runtime = setup_ems.runtime_data
    meter = _meter(device_registry, setup_ems, 30)
    assert meter is not None
    entity_ids = _entity_ids(entity_registry, meter)
    assert f"{HEAT_PUMP}_energy_import" in entity_ids
    ems_simulator.set_fault(EmsFault.DEVICE_DISAPPEARS, uid=30)
    ems_simulator.set_fault(EmsFault.HTTP_ERROR, status=503)
    await runtime.coordinator.async_refresh()  # one failed cycle is held back
    await runtime.coordinator.async_refresh()
    assert hass.states.get(f"{HEAT_PUMP}_power").state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    ems_simulator.clear_fault(EmsFault.HTTP_ERROR)
    await runtime.coordinator.async_refresh()
    await hass.async_block_till_done()

    assert _meter(device_registry, setup_ems, 30) is None
    for entity_id in entity_ids:
        assert entity_registry.async_get(entity_id) is None, entity_id
        assert hass.states.get(entity_id) is None, entity_id
    assert _meter(device_registry, setup_ems, 60) is not None
    assert number_state(hass, f"{EV_CHARGER}_power") > 0

    # Back on the bus: the meter and its sensors return, again without a reload.
    ems_simulator.clear_fault(EmsFault.DEVICE_DISAPPEARS)
    ems_simulator.set_fault(EmsFault.HTTP_ERROR, status=503)
    await runtime.coordinator.async_refresh()
    ems_simulator.clear_fault(EmsFault.HTTP_ERROR)
    await runtime.coordinator.async_refresh()
    await hass.async_block_till_done()
    meter = _meter(device_registry, setup_ems, 30)
    assert meter is not None
    assert _entity_ids(entity_registry, meter) == entity_ids
    assert number_state(hass, f"{HEAT_PUMP}_energy_import") > 0
    assert setup_ems.runtime_data is runtime


async def test_removed_meter_goes_at_the_ten_minute_read(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A meter deleted on the gateway is removed with its entities."""
    meter = _meter(device_registry, setup_ems, 60)
    assert meter is not None
    entity_ids = _entity_ids(entity_registry, meter)
    ems_simulator.remove_device(60)
    await advance(hass, freezer, 10)
    # Until the tree is read, its signals just have no sample.
    assert hass.states.get(f"{EV_CHARGER}_power").state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert _meter(device_registry, setup_ems, 60) is not None
    await _next_tree_read(hass, freezer)
    assert _meter(device_registry, setup_ems, 60) is None
    assert not [e for e in entity_ids if entity_registry.async_get(e) is not None]
    assert hass.states.get(f"{EV_CHARGER}_power") is None
    assert number_state(hass, f"{HEAT_PUMP}_power") > 0


async def test_user_may_remove_only_meters_the_gateway_dropped(
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Gateway and reported meters stay; a leftover meter can be deleted."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    gateway = device_registry.async_get_device_by_identifier(
        (DOMAIN, SERIAL), setup_ems.entry_id
    )
    meter = _meter(device_registry, setup_ems, 30)
    leftover = device_registry.async_get_or_create(
        config_entry_id=setup_ems.entry_id, identifiers={(DOMAIN, f"{SERIAL}_999")}
    )
    assert gateway is not None
    assert meter is not None

    async def remove(device: dr.DeviceEntry) -> dict[str, Any]:
        await client.send_json_auto_id(
            {"type": "config/device_registry/remove", "device_id": device.id}
        )
        response: dict[str, Any] = await client.receive_json()
        return response

    for device in (gateway, meter):
        response = await remove(device)
        assert not response["success"]
        assert "rejected by integration" in response["error"]["message"]
        assert device_registry.async_get(device.id) is not None
    response = await remove(leftover)
    assert response["success"]
    assert device_registry.async_get(leftover.id) is None

    # Unloaded, the entry cannot tell which meters its gateway still has.
    leftover = device_registry.async_get_or_create(
        config_entry_id=setup_ems.entry_id, identifiers={(DOMAIN, f"{SERIAL}_998")}
    )
    assert await hass.config_entries.async_unload(setup_ems.entry_id)
    response = await remove(leftover)
    assert not response["success"]
    assert device_registry.async_get(leftover.id) is not None

    # Deleting the entry takes every device with it.
    assert await hass.config_entries.async_remove(setup_ems.entry_id)
    await hass.async_block_till_done()
    assert not dr.async_entries_for_config_entry(device_registry, setup_ems.entry_id)


async def test_disabled_signal_and_load_lose_their_entities(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """`enable: false` on the gateway removes the sensors; re-enabling adds them."""
    runtime = setup_ems.runtime_data
    main_load = ems_simulator.installation.devices[1].loads[0]
    voltage = next(signal for signal in main_load.signals if signal.si == 29)
    ev_load = ems_simulator.installation.devices[60].loads[0]
    ev_meter = _meter(device_registry, setup_ems, 60)
    assert ev_meter is not None
    ev_entities = _entity_ids(entity_registry, ev_meter)
    assert len(ev_entities) == 22
    voltage_id = f"{MAIN}_voltage_l1"
    assert entity_registry.async_get(voltage_id) is not None

    voltage.enable = False
    ev_load.enable = False
    await _next_tree_read(hass, freezer)
    assert entity_registry.async_get(voltage_id) is None
    assert hass.states.get(voltage_id) is None
    assert number_state(hass, f"{MAIN}_voltage_l2") > 200
    assert _entity_ids(entity_registry, ev_meter) == set()
    assert hass.states.get(f"{EV_CHARGER}_power") is None
    # The meter itself is still reported, so its device stays.
    assert _meter(device_registry, setup_ems, 60) is not None

    voltage.enable = True
    ev_load.enable = True
    await _next_tree_read(hass, freezer)
    assert entity_registry.async_get(voltage_id) is not None
    assert number_state(hass, voltage_id) > 200
    assert _entity_ids(entity_registry, ev_meter) == ev_entities
    assert number_state(hass, f"{EV_CHARGER}_power") > 0
    assert setup_ems.runtime_data is runtime


@pytest.fixture
async def unknown_codes_simulator(socket_enabled: None) -> AsyncGenerator[EmsSimulator]:
    """A gateway whose main meter has three signals with codes nobody catalogued."""
    simulator = EmsSimulator(
        username=USERNAME, password=PASSWORD, serial=SERIAL, extra_signals=3
    )
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


async def _setup(hass: HomeAssistant, simulator: EmsSimulator) -> MockConfigEntry:
    entry = ems_entry_for(simulator)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_unknown_signal_codes_get_generic_sensors(
    hass: HomeAssistant,
    unknown_codes_simulator: EmsSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """Unknown codes: disabled diagnostic sensors named after their code."""
    await _setup(hass, unknown_codes_simulator)
    for code in (900, 901, 902):
        entity_id = f"{MAIN}_signal_{code}"
        entry = entity_registry.async_get(entity_id)
        assert entry is not None, entity_id
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert entry.entity_category is EntityCategory.DIAGNOSTIC
        assert entry.unit_of_measurement is None
        assert entry.original_device_class is None
        assert entry.translation_key == "ems_signal"
        assert hass.states.get(entity_id) is None


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_unknown_signal_codes_have_plain_numbers(
    hass: HomeAssistant, unknown_codes_simulator: EmsSimulator
) -> None:
    """Enabled, an unknown code is a unitless number named "Signal 900"."""
    await _setup(hass, unknown_codes_simulator)
    for code in (900, 901, 902):
        state = hass.states.get(f"{MAIN}_signal_{code}")
        assert state is not None, code
        assert state.attributes["friendly_name"] == f"Main Signal {code}"
        assert "unit_of_measurement" not in state.attributes
        assert "device_class" not in state.attributes
        assert state.attributes["state_class"] == "measurement"
        assert abs(float(state.state) - code / 10) <= 1


async def test_sparsely_described_meter(
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
    ems_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No wiring system: the model is the part number; no `did`: the load's meter."""
    p1_meter = ems_simulator.installation.devices[90]
    p1_meter.system = ""
    power = next(s for s in p1_meter.loads[0].signals if s.si == 38)
    as_json = SimSignal.as_json

    def without_device(signal: SimSignal) -> dict[str, Any]:
        record = as_json(signal)
        if signal is power:
            del record["did"]
        return record

    monkeypatch.setattr(SimSignal, "as_json", without_device)
    ems_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ems_entry.entry_id)
    await hass.async_block_till_done()

    meter = _meter(device_registry, ems_entry, 90)
    assert meter is not None
    assert meter.model == "P1"
    entity_id = entity_registry.async_get_entity_id(
        "sensor", DOMAIN, f"{SERIAL}_{power.uid}"
    )
    assert entity_id == "sensor.grid_power"
    registry_entry = entity_registry.async_get(entity_id)
    assert registry_entry is not None
    assert registry_entry.device_id == meter.id
    # Import minus solar export: compared with the polled value, not with 0.
    assert (
        number_state(hass, entity_id)
        == ems_entry.runtime_data.coordinator.data.values[power.uid]
    )


async def test_relabelled_load_renames_its_meter(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A load relabelled on the gateway renames its device; ids stay, no reload.

    A name the user gave the device is kept (HA shows `name_by_user`).
    """
    runtime = setup_ems.runtime_data
    ev_meter = _meter(device_registry, setup_ems, 60)
    assert ev_meter is not None
    device_registry.async_update_device(ev_meter.id, name_by_user="Garage")
    registry_entry = entity_registry.async_get(f"{HEAT_PUMP}_power")
    assert registry_entry is not None

    installation = ems_simulator.installation
    installation.devices[30].loads[0].label = "Boiler"
    installation.devices[60].loads[0].label = "Car"
    await _next_tree_read(hass, freezer)

    meter = _meter(device_registry, setup_ems, 30)
    assert meter is not None
    assert meter.name == "Boiler"
    state = hass.states.get(f"{HEAT_PUMP}_power")
    assert state is not None
    assert state.attributes["friendly_name"] == "Boiler Power"
    assert entity_registry.async_get(f"{HEAT_PUMP}_power") == registry_entry
    ev_meter = _meter(device_registry, setup_ems, 60)
    assert ev_meter is not None
    assert (ev_meter.name, ev_meter.name_by_user) == ("Car", "Garage")
    state = hass.states.get(f"{EV_CHARGER}_power")
    assert state is not None
    assert state.attributes["friendly_name"] == "Garage Power"
    assert setup_ems.runtime_data is runtime


async def test_relabelled_meter_keeps_the_name_of_its_load(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A meter relabelled on the gateway: the device still says what it measures."""
    ems_simulator.installation.devices[30].label = "Basement"
    await _next_tree_read(hass, freezer)
    meter = _meter(device_registry, setup_ems, 30)
    assert meter is not None
    assert meter.name == "Heat pump"
    state = hass.states.get(f"{HEAT_PUMP}_power")
    assert state is not None
    assert state.attributes["friendly_name"] == "Heat pump Power"


async def test_meter_with_several_loads(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
    ems_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Two loads on one meter: the device keeps the meter's label, sensors name their load.

    Relabelling one of those loads renames its sensors (a reload); when one
    load is left, the device takes its name and the sensors name the quantity.
    """
    installation = ems_simulator.installation
    ev_load = installation.devices[60].loads.pop()
    ev_load.did = 30
    for signal in ev_load.signals:
        signal.did = 30
    installation.devices[30].loads.append(ev_load)
    ems_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ems_entry.entry_id)
    await hass.async_block_till_done()

    meter = _meter(device_registry, ems_entry, 30)
    assert meter is not None
    assert meter.name == "EM1"
    assert len(_entity_ids(entity_registry, meter)) == 44
    for entity_id, name in (
        ("sensor.em1_heat_pump_power", "EM1 Heat pump power"),
        ("sensor.em1_ev_charger_power", "EM1 EV charger power"),
        ("sensor.em1_ev_charger_current_l1", "EM1 EV charger current L1"),
    ):
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert state.attributes["friendly_name"] == name
    registry_entry = entity_registry.async_get("sensor.em1_heat_pump_power")
    assert registry_entry is not None
    assert registry_entry.translation_key == "ems_load_power"
    # A meter without loads keeps its own label.
    empty = _meter(device_registry, ems_entry, 60)
    assert empty is not None
    assert empty.name == "EM2"

    installation.devices[30].loads[0].label = "Boiler"
    await _next_tree_read(hass, freezer)
    assert ems_entry.state is ConfigEntryState.LOADED
    state = hass.states.get("sensor.em1_heat_pump_power")
    assert state is not None
    assert state.attributes["friendly_name"] == "EM1 Boiler power"

    ev_load.enable = False
    await _next_tree_read(hass, freezer)
    meter = _meter(device_registry, ems_entry, 30)
    assert meter is not None
    assert meter.name == "Boiler"
    state = hass.states.get("sensor.em1_heat_pump_power")
    assert state is not None
    assert state.attributes["friendly_name"] == "Boiler Power"
    assert hass.states.get("sensor.em1_ev_charger_power") is None
