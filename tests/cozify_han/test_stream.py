"""The push path: live values, transports, faults, recovery."""

from __future__ import annotations

from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from simulators.cozify_han import HanFault, HanSimulator

from ..conftest import states_match, wait_for_state, wait_for_values
from .conftest import METER, READER, SERIAL, han_entry_for, push_reading, until

POWER = f"{METER}_power"
ENERGY_IMPORT = f"{METER}_energy_import"


def _is(value: float) -> object:
    def check(state: State) -> bool:
        return (
            state.state not in ("unavailable", "unknown")
            and float(state.state) == value
        )

    return check


def _unavailable(state: State) -> bool:
    return state.state == STATE_UNAVAILABLE


def _available(state: State) -> bool:
    return state.state != STATE_UNAVAILABLE


# Tests that move the clock request `freezer` first: starting it after the entry
# is set up would make the event loop's clock jump and fire every timer at once.
async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def _setup(hass: HomeAssistant, simulator: HanSimulator) -> MockConfigEntry:
    entry = han_entry_for(simulator)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_pushed_meter_message_updates_states(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """Each pushed reading reaches the power, current and energy sensors."""
    for _ in range(3):
        message = await push_reading(han_simulator, setup_han)
        assert states_match(
            hass,
            {
                POWER: float(message["p"][0]),
                f"{METER}_current_l1": float(message["i"][0]),
                ENERGY_IMPORT: float(message["ic"]),
                f"{METER}_power_export": float(message["pe"][0]),
            },
        )


async def test_state_message_updates_firmware_and_cloud_state(
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A pushed state message updates the cloud sensor and the device's firmware."""
    cloud = f"binary_sensor.{READER}_cloud_connection"
    assert hass.states.get(cloud).state == "on"  # type: ignore[union-attr]
    han_simulator.set_state(online=False, version="1.0.2.0")
    await wait_for_state(hass, cloud, lambda s: s.state == "off")
    reader = device_registry.async_get_device_by_identifier(
        ("energy_gateways", SERIAL), setup_han.entry_id
    )
    assert reader is not None
    assert reader.sw_version == "1.0.2.0"


async def test_configuration_message_updates_main_fuse(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """Configuration pushed on the stream keeps the main-fuse sensor current."""
    fuse = f"number.{READER}_main_fuse"
    han_simulator.set_configuration({"m": {"f": 35}})
    await wait_for_state(hass, fuse, lambda s: s.state == "35")


async def test_stream_drop_makes_entities_unavailable_then_recovers(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Dropping the stream turns the meter unavailable at once; backoff reconnects."""
    caplog.set_level(logging.INFO, logger="custom_components.energy_gateways")
    stats = setup_han.runtime_data.coordinator.stats
    han_simulator.drop_streams()
    await wait_for_state(hass, POWER, _unavailable)
    await until(lambda: stats.state == "backoff")
    await _advance(hass, freezer, 2)
    await until(lambda: han_simulator.stream_clients == 1)
    await wait_for_state(hass, POWER, _available)
    message = han_simulator.push_meter()
    await wait_for_state(hass, POWER, _is(float(message["p"][0])))
    lost = [r for r in caplog.records if "Lost connection" in r.getMessage()]
    restored = [r for r in caplog.records if "restored" in r.getMessage()]
    assert len(lost) == 1
    assert lost[0].levelno == logging.INFO
    assert "closed the stream" in lost[0].getMessage()
    assert len(restored) == 1
    assert restored[0].levelno == logging.INFO


async def test_stalled_stream_is_noticed_by_the_watchdog(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """A silent stream is declared dead after three missed readings."""
    han_simulator.set_fault(HanFault.STALL_STREAM)
    await _advance(hass, freezer, 20)
    assert hass.states.get(POWER).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    await _advance(hass, freezer, 11)
    await wait_for_state(hass, POWER, _unavailable)
    han_simulator.clear_fault(HanFault.STALL_STREAM)
    stats = setup_han.runtime_data.coordinator.stats
    await until(lambda: stats.state == "backoff")
    await _advance(hass, freezer, 2)
    await wait_for_state(hass, POWER, _available)


async def test_websocket_refused_falls_back_to_sse(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """A reader without /ws is followed over server-sent events."""
    han_simulator.set_fault(HanFault.REFUSE_WEBSOCKET)
    entry = await _setup(hass, han_simulator)
    await until(lambda: han_simulator.stream_clients == 1)
    message = han_simulator.push_meter()
    await wait_for_state(hass, POWER, _is(float(message["p"][0])))
    assert entry.runtime_data.coordinator.stats.transport == "sse"


async def test_sse_falls_back_to_events_path(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """Older firmware serves the event stream at /events."""
    han_simulator.set_fault(HanFault.REFUSE_WEBSOCKET)
    han_simulator.set_fault(HanFault.SSE_EVENTS_ONLY)
    await _setup(hass, han_simulator)
    await until(lambda: han_simulator.stream_clients == 1)
    message = han_simulator.push_meter()
    await wait_for_state(hass, POWER, _is(float(message["p"][0])))
    assert han_simulator.requests["/events"] >= 1


async def test_no_stream_falls_back_to_polling(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    han_simulator: HanSimulator,
) -> None:
    """Without any stream the reader's /meter is polled every 10 s."""
    han_simulator.set_fault(HanFault.REFUSE_WEBSOCKET)
    han_simulator.set_fault(HanFault.REFUSE_SSE)
    entry = await _setup(hass, han_simulator)
    stats = entry.runtime_data.coordinator.stats
    # Polling yields the state, then a reading, then sleeps: advance only then,
    # as moving the clock while a request is in flight would time it out.
    await until(lambda: stats.transport == "polling" and stats.messages >= 2)
    before = han_simulator.requests["/meter"]
    await _advance(hass, freezer, 10)
    await until(lambda: stats.messages >= 3)
    assert han_simulator.requests["/meter"] == before + 1
    assert hass.states.get(POWER).state != STATE_UNAVAILABLE  # type: ignore[union-attr]


@pytest.mark.parametrize("transport_fault", [None, HanFault.REFUSE_WEBSOCKET])
@pytest.mark.parametrize(
    "kind",
    [
        "malformed_json",
        "truncated_frame",
        "unknown_type",
        "numbers_as_strings",
        "missing_fields",
        "json_array",
    ],
)
async def test_malformed_input_is_survived(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    han_simulator: HanSimulator,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    transport_fault: HanFault | None,
) -> None:
    """Bad frames on either transport never log a traceback or stop the updates."""
    if transport_fault is not None:
        han_simulator.set_fault(transport_fault)
    entry = await _setup(hass, han_simulator)
    coordinator = entry.runtime_data.coordinator
    await until(lambda: han_simulator.stream_clients == 1)
    if kind == "json_array":
        han_simulator.send_raw("[1, 2]", "event: HAN_METER_MESSAGE\ndata: [1, 2]\n\n")
    else:
        han_simulator.send_malformed(kind)
    message = han_simulator.push_meter()
    await until(
        lambda: (
            not coordinator.link_up
            or states_match(hass, {POWER: float(message["p"][0])})
        )
    )
    if not coordinator.link_up:
        # A truncated SSE frame ends that connection: the client reconnects.
        await until(lambda: coordinator.stats.state == "backoff")
        await _advance(hass, freezer, 2)
        await until(lambda: coordinator.link_up)
    message = han_simulator.push_meter()
    await wait_for_values(hass, {POWER: float(message["p"][0])})
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("mode", ["zero", "backwards"])
async def test_counter_glitch_is_not_published(
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
    mode: str,
) -> None:
    """A zero or lower energy total keeps the last good value."""
    good = await push_reading(han_simulator, setup_han)
    assert float(hass.states.get(ENERGY_IMPORT).state) == float(good["ic"])  # type: ignore[union-attr]
    han_simulator.set_fault(HanFault.GLITCH_COUNTER, mode=mode)
    glitched = await push_reading(han_simulator, setup_han)
    assert float(glitched["ic"]) < float(good["ic"])
    assert float(hass.states.get(POWER).state) == float(glitched["p"][0])  # type: ignore[union-attr]
    assert float(hass.states.get(ENERGY_IMPORT).state) == float(good["ic"])  # type: ignore[union-attr]
    after = await push_reading(han_simulator, setup_han)
    assert float(hass.states.get(ENERGY_IMPORT).state) == float(after["ic"])  # type: ignore[union-attr]


async def test_reboot_recovers_without_reload(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """A reboot drops the stream; the entities return when the reader does."""
    stats = setup_han.runtime_data.coordinator.stats
    han_simulator.reboot(None)
    await wait_for_state(hass, POWER, _unavailable)
    # Move the clock only while the client waits to retry: moving it while a
    # request is in flight would time that request out.
    await until(lambda: stats.state == "backoff")
    attempts = stats.attempts
    await _advance(hass, freezer, 2)
    await until(lambda: stats.attempts > attempts and stats.state == "backoff")
    assert "503" in str(stats.last_error)
    assert hass.states.get(POWER).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    han_simulator.finish_reboot()
    await _advance(hass, freezer, 60)
    await until(lambda: stats.state == "connected")
    await wait_for_state(hass, POWER, _available)
    assert stats.reconnects == 1


async def test_health_is_polled_slowly(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """/health is read once a minute, not on every message."""
    coordinator = setup_han.runtime_data.coordinator
    before = han_simulator.requests["/health"]
    health = coordinator.data.health
    for _ in range(3):  # 63 s in steps the watchdog accepts: a reading each 21 s
        received = coordinator.stats.messages
        han_simulator.push_meter()
        await until(lambda n=received: coordinator.stats.messages > n)
        assert han_simulator.requests["/health"] == before
        await _advance(hass, freezer, 21)
    await until(lambda: coordinator.data.health is not health)
    assert han_simulator.requests["/health"] == before + 1
    assert coordinator.stats.reconnects == 0
