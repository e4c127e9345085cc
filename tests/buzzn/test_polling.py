"""What BUZZN reads besides the live stream, and when.

Savings, per-capita consumption and appliances every 15 minutes, the profile
hourly; a failed read keeps the last values; a refused password starts
reauthentication. The clock is frozen and moved on in 20-second steps, the
simulated server pushing a live message at each.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.energy_gateways.const import DOMAIN
from simulators.buzzn import BuzznFault, BuzznSimulator

from ..conftest import set_up_entry, until
from ..faults.matrix import settle
from .conftest import ACCOUNT, EMAIL, PASSWORD, buzzn_entry_for

STEP = 20.0
SAVING = "/individual-global-challenge"


@pytest.fixture
async def server(
    freezer: FrozenDateTimeFactory, socket_enabled: None
) -> AsyncGenerator[BuzznSimulator]:
    """The seed's server, pushing every 20 s (the clock frozen before it starts)."""
    simulator = BuzznSimulator(email=EMAIL, password=PASSWORD, live_interval=STEP)
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


@pytest.fixture
async def entry(hass: HomeAssistant, server: BuzznSimulator) -> MockConfigEntry:
    """The account set up with its live stream connected."""
    config_entry = await set_up_entry(hass, buzzn_entry_for(server))
    await until(lambda: server.live_clients == 1)
    return config_entry


async def _run(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: float
) -> None:
    """Move the clock on; the live stream (a task for the entry's life) runs on."""
    for _ in range(round(minutes * 60 / STEP)):
        freezer.tick(timedelta(seconds=STEP))
        async_fire_time_changed(hass)
        await settle(hass)


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def test_savings_are_read_every_15_minutes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: BuzznSimulator,
    entry: MockConfigEntry,
) -> None:
    """Not more often: the values change slowly and the server is shared."""
    assert server.requests[SAVING] == 1
    await _run(hass, freezer, 10)
    assert server.requests[SAVING] == 1
    await _run(hass, freezer, 6)
    assert server.requests[SAVING] == 2
    assert server.requests["/profile"] == 1


async def test_a_new_appliance_gets_a_sensor_without_a_reload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: BuzznSimulator,
    entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """An appliance the disaggregation starts reporting appears at the next read."""
    runtime = entry.runtime_data
    server.set_fault(BuzznFault.NEW_APPLIANCE)
    await _run(hass, freezer, 16)
    assert entry.runtime_data is runtime
    assert entity_registry.async_get_entity_id(
        "sensor", DOMAIN, "1_appliance_Trockner-1"
    )
    assert _state(hass, f"{ACCOUNT}_trockner_1_power") != STATE_UNAVAILABLE


async def test_the_profile_is_read_hourly(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: BuzznSimulator,
    entry: MockConfigEntry,
) -> None:
    """A change made in the app shows within the hour."""
    server.profile["inhabitants"] = 5
    await _run(hass, freezer, 30)
    assert _state(hass, "number.buzzn_erika_inhabitants") == "2"
    await _run(hass, freezer, 31)
    assert _state(hass, "number.buzzn_erika_inhabitants") == "5"


async def test_a_failed_read_keeps_the_last_values(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: BuzznSimulator,
    entry: MockConfigEntry,
) -> None:
    """A 5xx on a polled endpoint changes nothing the user sees."""
    before = _state(hass, f"{ACCOUNT}_per_capita_consumption")
    server.set_fault(BuzznFault.HTTP_ERROR, status=503, path="/per-capita")
    await _run(hass, freezer, 16)
    assert server.requests["/per-capita-consumption"] == 2
    assert _state(hass, f"{ACCOUNT}_per_capita_consumption") == before


async def test_a_refused_password_starts_reauthentication(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: BuzznSimulator,
    entry: MockConfigEntry,
) -> None:
    """The password changed in the app: Home Assistant asks for it."""
    server.change_password("changed-in-the-app")
    await _run(hass, freezer, 16)
    flows = [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]
    assert len(flows) == 1


async def test_a_member_without_readings_is_unknown_not_zero(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    server: BuzznSimulator,
    entry: MockConfigEntry,
) -> None:
    """`null` readings: that member's values are unknown; the group sums the rest."""
    server.set_fault(BuzznFault.MEMBER_WITHOUT_READINGS)
    await _run(hass, freezer, 1)
    data = entry.runtime_data.coordinator.data
    assert data.members["2"].power is None
    assert data.group_power == sum(
        member.power for member in data.members.values() if member.power is not None
    )
