"""A reader on batteries sleeps; one on USB is always online.

Asleep on batteries, failed reads are expected: the last values stay (also
across a Home Assistant restart) for the configured time, with nothing above
debug in the log. On USB, a reader that stops answering is unavailable at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest

from simulators.ziggymeter import ZiggyFault, ZiggySimulator

from ..conftest import advance, set_up_entry
from .conftest import PASSWORD, READER, USERNAME, ziggy_entry_for

LOGGER = "custom_components.energy_gateways"
POWER = f"{READER}_power"
ENERGY = f"{READER}_energy_import"
LAST_SEEN = f"{READER}_last_seen"
SOURCE = f"{READER}_power_source"
FOREVER = 10.0**7
"""Seconds: duty-cycle phases the tests end themselves with sleep_now/wake_now."""


@pytest.fixture
async def battery_reader(
    freezer: FrozenDateTimeFactory, socket_enabled: None
) -> AsyncGenerator[ZiggySimulator]:
    """A reader on batteries, awake until the test puts it to sleep."""
    simulator = ZiggySimulator(
        username=USERNAME,
        password=PASSWORD,
        power="battery",
        awake_seconds=FOREVER,
        asleep_seconds=FOREVER,
    )
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


@pytest.fixture
async def usb_reader(
    freezer: FrozenDateTimeFactory, socket_enabled: None
) -> AsyncGenerator[ZiggySimulator]:
    """A reader on USB power (the clock is frozen before it starts)."""
    simulator = ZiggySimulator(
        username=USERNAME, password=PASSWORD, awake_seconds=FOREVER
    )
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


def _value(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(LOGGER) and record.levelno >= level
    ]


async def test_a_sleeping_reader_keeps_its_values_quietly(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    battery_reader: ZiggySimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Hours asleep: same values, available, tried every 5 minutes, no log lines."""
    entry = await set_up_entry(hass, ziggy_entry_for(battery_reader))
    assert _value(hass, SOURCE) == "battery"
    coordinator = entry.runtime_data.coordinator
    assert coordinator.update_interval.total_seconds() == 300
    before = {e: _value(hass, e) for e in (POWER, ENERGY, LAST_SEEN)}
    battery_reader.sleep_now()
    caplog.clear()
    polls = coordinator.polls
    for _ in range(24):  # two hours
        await advance(hass, freezer, 300)
    assert coordinator.polls - polls == 24
    assert {e: _value(hass, e) for e in before} == before
    assert _lines(caplog, logging.INFO) == []
    battery_reader.wake_now()
    await advance(hass, freezer, 300)
    assert _value(hass, LAST_SEEN) != before[LAST_SEEN]
    assert float(_value(hass, ENERGY)) >= float(before[ENERGY])
    assert _lines(caplog, logging.INFO) == []


async def test_a_reader_asleep_too_long_becomes_unavailable(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    battery_reader: ZiggySimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After the patience option (1 h here) its values go; "last seen" stays."""
    entry = ziggy_entry_for(battery_reader)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={"keep_hours": 1})
    await set_up_entry(hass, entry)
    seen = _value(hass, LAST_SEEN)
    battery_reader.sleep_now()
    for _ in range(11):
        await advance(hass, freezer, 300)
    assert _value(hass, POWER) != STATE_UNAVAILABLE
    await advance(hass, freezer, 600)
    assert _value(hass, POWER) == STATE_UNAVAILABLE
    assert _value(hass, ENERGY) == STATE_UNAVAILABLE
    assert _value(hass, LAST_SEEN) == seen
    assert len(_lines(caplog, logging.ERROR)) == 1
    battery_reader.wake_now()
    await advance(hass, freezer, 300)
    assert _value(hass, POWER) != STATE_UNAVAILABLE


async def test_values_survive_a_restart_while_the_reader_sleeps(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    battery_reader: ZiggySimulator,
) -> None:
    """Home Assistant restarts while the reader sleeps: set up from the last values."""
    entry = await set_up_entry(hass, ziggy_entry_for(battery_reader))
    before = {e: _value(hass, e) for e in (POWER, ENERGY, LAST_SEEN, SOURCE)}
    battery_reader.sleep_now()
    await advance(hass, freezer, 600)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    # Asleep: no logout attempt holds up the unload (the token just expires).
    assert battery_reader.logouts == 0
    await advance(hass, freezer, 3600)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert {e: _value(hass, e) for e in before} == before
    battery_reader.wake_now()
    await advance(hass, freezer, 300)
    assert _value(hass, LAST_SEEN) != before[LAST_SEEN]


async def test_a_restart_after_the_patience_waits_without_retrying_setup(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    battery_reader: ZiggySimulator,
) -> None:
    """Asleep longer than the values are kept: loaded, unavailable, waiting."""
    entry = await set_up_entry(hass, ziggy_entry_for(battery_reader))
    battery_reader.sleep_now()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await advance(hass, freezer, 25 * 3600)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert _value(hass, POWER) == STATE_UNAVAILABLE
    assert _value(hass, LAST_SEEN) != STATE_UNAVAILABLE
    battery_reader.wake_now()
    await advance(hass, freezer, 300)
    assert _value(hass, POWER) != STATE_UNAVAILABLE


async def test_a_reader_never_seen_is_retried_as_usual(
    hass: HomeAssistant, battery_reader: ZiggySimulator
) -> None:
    """Nothing stored yet and no answer: Home Assistant retries the set-up."""
    battery_reader.sleep_now()
    entry = ziggy_entry_for(battery_reader)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_on_usb_an_outage_shows_at_once_and_is_logged_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    usb_reader: ZiggySimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unplugged from the network: unavailable at the next poll, back after."""
    await set_up_entry(hass, ziggy_entry_for(usb_reader))
    caplog.clear()
    await usb_reader.go_offline()
    await advance(hass, freezer, 30)
    assert _value(hass, POWER) == STATE_UNAVAILABLE
    assert _value(hass, LAST_SEEN) != STATE_UNAVAILABLE
    for _ in range(10):
        await advance(hass, freezer, 30)
    assert len(_lines(caplog, logging.ERROR)) == 1
    await usb_reader.come_back()
    await advance(hass, freezer, 30)
    assert _value(hass, POWER) != STATE_UNAVAILABLE
    assert len(_lines(caplog, logging.ERROR)) == 1
    assert len(_lines(caplog, logging.INFO)) == 2  # lost, then recovered


async def test_switching_to_batteries_slows_polling(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, usb_reader: ZiggySimulator
) -> None:
    """The interval follows the power source the reader reports."""
    entry = await set_up_entry(hass, ziggy_entry_for(usb_reader))
    coordinator = entry.runtime_data.coordinator
    assert coordinator.update_interval.total_seconds() == 30
    usb_reader.set_power("battery")
    await advance(hass, freezer, 30)
    assert _value(hass, SOURCE) == "battery"
    assert coordinator.update_interval.total_seconds() == 300
    usb_reader.set_power("usb")
    await advance(hass, freezer, 300)
    assert coordinator.update_interval.total_seconds() == 30


async def test_token_expiry_costs_no_availability(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, socket_enabled: None
) -> None:
    """Short tokens are renewed early; an expired one is replaced on its 401."""
    simulator = ZiggySimulator(username=USERNAME, password=PASSWORD, token_lifetime=120)
    await simulator.start(host="127.0.0.1", port=0)
    try:
        entry = await set_up_entry(hass, ziggy_entry_for(simulator))
        seen: set[str] = set()
        for _ in range(20):
            await advance(hass, freezer, 30)
            seen.add(_value(hass, POWER))
        simulator.expire_tokens_now()
        for _ in range(3):
            await advance(hass, freezer, 30)
            seen.add(_value(hass, POWER))
        assert STATE_UNAVAILABLE not in seen
        client = entry.runtime_data.coordinator.client
        # Renewed a minute early (half of 120 s): never a 401 from expiry.
        assert client.logins >= 6
        assert simulator.requests["/api/v1/system/login"] == client.logins
    finally:
        await simulator.stop()


async def test_new_keys_become_sensors_without_a_reload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    usb_reader: ZiggySimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """Unknown numeric keys appear as disabled diagnostic sensors, named by path."""
    entry = await set_up_entry(hass, ziggy_entry_for(usb_reader))
    runtime = entry.runtime_data
    usb_reader.set_fault(ZiggyFault.EXTRA_FIELDS)
    await advance(hass, freezer, 30)
    assert entry.runtime_data is runtime  # not reloaded
    extras = {
        e.original_name: e
        for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if e.unique_id.startswith(f"{entry.unique_id}_extra_")
    }
    assert "Meter frequency hz" in extras
    frequency = extras["Meter frequency hz"]
    assert frequency.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert frequency.entity_category is not None
    assert frequency.unit_of_measurement == "Hz"


async def test_a_single_phase_meter_has_no_l2_l3_sensors(
    hass: HomeAssistant,
    socket_enabled: None,
    entity_registry: er.EntityRegistry,
) -> None:
    """Per-phase sensors exist only for the phases the payload carries."""
    simulator = ZiggySimulator(username=USERNAME, password=PASSWORD, phases=1)
    await simulator.start(host="127.0.0.1", port=0)
    try:
        entry = await set_up_entry(hass, ziggy_entry_for(simulator))
    finally:
        await simulator.stop()
    keys = {
        e.unique_id.removeprefix(f"{entry.unique_id}_")
        for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }
    assert {"voltage_l1", "current_l1", "power_l1"} <= keys
    assert not {k for k in keys if k.endswith(("_l2", "_l3"))}


async def test_the_version_is_read_at_start_and_after_a_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, usb_reader: ZiggySimulator
) -> None:
    """Not every cycle: only when the uptime shows the reader restarted."""
    await set_up_entry(hass, ziggy_entry_for(usb_reader))
    version = "/api/v1/system/version"
    assert usb_reader.requests[version] == 1
    for _ in range(3):
        await advance(hass, freezer, 30)
    assert usb_reader.requests[version] == 1
    usb_reader.reboot(duration=5)
    await advance(hass, freezer, 30)
    await advance(hass, freezer, 30)
    assert _value(hass, POWER) != STATE_UNAVAILABLE
    assert usb_reader.requests[version] == 2


async def test_a_reader_without_the_version_endpoint_still_works(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, usb_reader: ZiggySimulator
) -> None:
    """Meter data matters more: no version leaves the firmware entity unknown."""
    usb_reader.set_fault(
        ZiggyFault.HTTP_ERROR, status=404, path="/api/v1/system/version"
    )
    entry = await set_up_entry(hass, ziggy_entry_for(usb_reader))
    assert entry.state is ConfigEntryState.LOADED
    assert _value(hass, POWER) != STATE_UNAVAILABLE
    assert _value(hass, "update.ziggymeter_firmware") == STATE_UNKNOWN
