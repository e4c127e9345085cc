"""Fixtures for the HAN tests: a simulated reader on loopback and its entry."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from aiohttp import ClientSession
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from simulators.cozify_han import HanSimulator

from ..conftest import until

SERIAL = "HAN12345678"
MAC = "AA:BB:CC:DD:EE:FF"
NAME = "Cozify-HAN-123-456"
# Entity ids follow the device names: the meter device is "Electricity meter".
METER = "sensor.electricity_meter"
READER = "cozify_han_123_456"


@pytest.fixture
async def han_simulator(socket_enabled: None) -> AsyncGenerator[HanSimulator]:
    """A simulated reader that pushes only when a test asks it to."""
    simulator = HanSimulator(push_interval=None, serial=SERIAL, mac=MAC, name=NAME)
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


def han_entry_for(simulator: HanSimulator) -> MockConfigEntry:
    """A config entry pointing at `simulator`."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=NAME,
        unique_id=SERIAL,
        data={
            CONF_DEVICE_TYPE: "cozify_han",
            CONF_HOST: "127.0.0.1",
            CONF_PORT: simulator.port,
        },
    )


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A plain aiohttp session, as any user of the library would bring."""
    async with ClientSession() as client_session:
        yield client_session


@pytest.fixture
def han_entry(han_simulator: HanSimulator) -> MockConfigEntry:
    """The entry of the simulated reader, not yet added."""
    return han_entry_for(han_simulator)


@pytest.fixture
async def setup_han(
    hass: HomeAssistant, han_entry: MockConfigEntry, han_simulator: HanSimulator
) -> MockConfigEntry:
    """The entry set up, with its stream connected to the simulator."""
    han_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(han_entry.entry_id)
    await hass.async_block_till_done()
    await until(lambda: han_simulator.stream_clients == 1)
    return han_entry


async def push_reading(
    simulator: HanSimulator, entry: MockConfigEntry
) -> dict[str, Any]:
    """Push a meter reading and wait until the integration has applied it.

    Consecutive readings can share values, so waiting for a state to change
    could return before the reading arrived; the message count cannot.
    """
    stats = entry.runtime_data.coordinator.stats
    received = stats.messages
    message = simulator.push_meter()
    await until(lambda: stats.messages > received)
    return message
