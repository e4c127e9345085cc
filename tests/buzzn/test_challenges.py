"""BUZZN challenges: a select starts one, a button ends it, sensors follow it.

The seed's server offers them; the reference backend answers 404, and then
none of these entities exist. Starting is a GET with a side effect on the
server: only the select may send it, never a poll.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.buzzn.engagement import (
    CHALLENGE_SELECT,
    QUIT_BUTTON,
    challenge_options,
)
from custom_components.energy_gateways.devices.buzzn.models import Challenge
from simulators.buzzn import BuzznFault, BuzznSimulator

from .conftest import push

SELECT = "select.buzzn_erika_challenge"
BUTTON = "button.buzzn_erika_end_challenge"
STATUS = "sensor.buzzn_erika_challenge_status"
PROGRESS = "sensor.buzzn_erika_challenge_progress"
END = "sensor.buzzn_erika_challenge_end"
NAMES = ["Nachts auf Schleichfahrt!", "Standby-Jagd", "Kühl bleiben"]

document = pytest.mark.parametrize("buzzn_simulator", ["document"], indirect=True)


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _starts(simulator: BuzznSimulator) -> int:
    return sum(
        count
        for path, count in simulator.requests.items()
        if path.startswith("/challenges/start/")
    )


async def _select(hass: HomeAssistant, option: str) -> None:
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": SELECT, "option": option},
        blocking=True,
    )


async def _press(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        "button", "press", {"entity_id": BUTTON}, blocking=True
    )


@document
async def test_no_challenge_at_first(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """The available challenges are the options; none runs, nothing to end."""
    await push(buzzn_simulator, setup_buzzn)
    state = hass.states.get(SELECT)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert state.attributes["options"] == NAMES
    assert _state(hass, BUTTON) == STATE_UNAVAILABLE
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.state == "none"
    assert status.attributes["options"] == ["none", "running", "failed", "succeeded"]
    assert _state(hass, PROGRESS) == STATE_UNKNOWN
    assert _state(hass, END) == STATE_UNKNOWN
    assert _starts(buzzn_simulator) == 0


@document
async def test_start_and_quit(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """Choosing a challenge starts it on the server; the button quits it."""
    await push(buzzn_simulator, setup_buzzn)
    before = datetime.now(UTC)
    await _select(hass, "Standby-Jagd")
    assert buzzn_simulator.challenge_running == 2
    assert _starts(buzzn_simulator) == 1
    assert _state(hass, SELECT) == "Standby-Jagd"
    assert _state(hass, STATUS) == "running"
    assert 0.9 <= float(_state(hass, PROGRESS)) <= 1.0
    progress = hass.states.get(PROGRESS)
    assert progress is not None
    assert progress.attributes["unit_of_measurement"] == "kWh"
    ends = datetime.fromisoformat(_state(hass, END))
    assert before + timedelta(hours=23) < ends < before + timedelta(hours=25)
    assert _state(hass, BUTTON) != STATE_UNAVAILABLE

    # Choosing the running one again does not restart it.
    await _select(hass, "Standby-Jagd")
    assert _starts(buzzn_simulator) == 1

    await _press(hass)
    assert buzzn_simulator.challenge_running is None
    assert _state(hass, STATUS) == "none"
    assert _state(hass, SELECT) == STATE_UNKNOWN
    assert _state(hass, PROGRESS) == STATE_UNKNOWN
    assert _state(hass, END) == STATE_UNKNOWN
    assert _state(hass, BUTTON) == STATE_UNAVAILABLE


@document
async def test_an_ended_challenge_is_acknowledged(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """After its end the status says how it went until the button acknowledges it."""
    await push(buzzn_simulator, setup_buzzn)
    await _select(hass, "Kühl bleiben")
    buzzn_simulator.challenge_started -= 2 * 86400  # it ran its day
    await setup_buzzn.runtime_data.coordinator.async_poll()
    await hass.async_block_till_done()
    assert _state(hass, STATUS) == "succeeded"
    assert _state(hass, SELECT) == "Kühl bleiben"
    await _press(hass)
    assert buzzn_simulator.challenge_running is None
    assert _state(hass, STATUS) == "none"


@document
async def test_start_is_never_polled(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """Polls read the status of a running challenge; they never start one."""
    coordinator = setup_buzzn.runtime_data.coordinator
    await push(buzzn_simulator, setup_buzzn)
    for _ in range(3):
        await coordinator.async_poll()
    await coordinator.async_refresh()
    assert _starts(buzzn_simulator) == 0
    assert buzzn_simulator.challenge_running is None

    await _select(hass, "Nachts auf Schleichfahrt!")
    status_reads = buzzn_simulator.requests["/challenges/status"]
    for _ in range(3):
        await coordinator.async_poll()
    assert buzzn_simulator.requests["/challenges/status"] == status_reads + 3
    assert _starts(buzzn_simulator) == 1


@document
async def test_a_refused_start_is_a_translated_error(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """The server no longer offers the challenge: the user is told why."""
    await push(buzzn_simulator, setup_buzzn)
    await _select(hass, "Kühl bleiben")
    buzzn_simulator.set_fault(BuzznFault.NO_CHALLENGES)
    with pytest.raises(HomeAssistantError) as err:
        await _select(hass, "Standby-Jagd")
    assert err.value.translation_key == "rejected"
    assert buzzn_simulator.challenge_running == 3
    # The list was read again: the server offers none now; the one running
    # goes on (the select cannot name it any more).
    state = hass.states.get(SELECT)
    assert state is not None
    assert state.attributes["options"] == []
    assert state.state == STATE_UNKNOWN
    assert _state(hass, STATUS) == "running"
    assert _state(hass, BUTTON) != STATE_UNAVAILABLE


@document
async def test_a_refused_quit_is_a_translated_error(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """Quit after the server forgot the challenge: a translated error, then no challenge."""
    await push(buzzn_simulator, setup_buzzn)
    await _select(hass, "Standby-Jagd")
    buzzn_simulator.challenge_running = None  # ended elsewhere (in the app)
    with pytest.raises(HomeAssistantError) as err:
        await _press(hass)
    assert err.value.translation_key == "rejected"
    assert _state(hass, STATUS) == "none"
    assert _state(hass, BUTTON) == STATE_UNAVAILABLE


@document
async def test_stale_choices_send_nothing(
    hass: HomeAssistant, setup_buzzn: MockConfigEntry, buzzn_simulator: BuzznSimulator
) -> None:
    """An option the list no longer has, a quit with nothing running: no request."""
    runtime = setup_buzzn.runtime_data
    with pytest.raises(HomeAssistantError) as err:
        await CHALLENGE_SELECT.select_fn(runtime, "Gibt es nicht")
    assert err.value.translation_key == "rejected"
    await QUIT_BUTTON.press_fn(runtime)
    assert _starts(buzzn_simulator) == 0
    assert buzzn_simulator.requests["/challenges/quit"] == 0


@pytest.mark.parametrize("buzzn_simulator", ["reference"], indirect=True)
async def test_no_challenge_entities_without_the_feature(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    setup_buzzn: MockConfigEntry,
    buzzn_simulator: BuzznSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """The reference backend answers 404: no entities, no errors, no more asking."""
    entry = setup_buzzn
    await push(buzzn_simulator, entry)
    await entry.runtime_data.coordinator.async_poll()
    await hass.async_block_till_done()
    for key in (
        "challenge",
        "quit_challenge",
        "challenge_status",
        "challenge_progress",
        "challenge_end",
    ):
        assert entity_registry.async_get_entity_id("select", DOMAIN, f"1_{key}") is None
        assert entity_registry.async_get_entity_id("button", DOMAIN, f"1_{key}") is None
        assert entity_registry.async_get_entity_id("sensor", DOMAIN, f"1_{key}") is None
    for entity_id in (SELECT, BUTTON, STATUS, PROGRESS, END):
        assert hass.states.get(entity_id) is None
    assert "challenges" in entry.runtime_data.coordinator.client.absent
    assert buzzn_simulator.requests["/challenges"] == 1
    assert _starts(buzzn_simulator) == 0
    records = [*caplog.get_records("setup"), *caplog.records]
    assert not [
        r
        for r in records
        if r.levelno >= logging.ERROR
        or (r.levelno >= logging.WARNING and r.name.startswith("custom_components"))
    ]


def test_options_are_unique() -> None:
    """Two challenges of the same name (or none) still get an option each."""
    options = challenge_options(
        [
            Challenge(1, "Sparen", None, None, None),
            Challenge(2, "Sparen", None, None, None),
            Challenge(3, None, None, None, None),
        ]
    )
    assert {label: c.id for label, c in options.items()} == {
        "Sparen": 1,
        "Sparen (#2)": 2,
        "#3": 3,
    }
