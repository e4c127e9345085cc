"""Fixtures for the BUZZN tests: a simulated BUZZN server on loopback and its entry."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.const import CONF_EMAIL, CONF_PASSWORD, CONF_URL
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from simulators.buzzn import BuzznSimulator

from ..conftest import until

EMAIL = "erika@example.com"
PASSWORD = "buzzn-password"
PROFILE_ID = "1"
TITLE = "BUZZN erika"
ACCOUNT = "sensor.buzzn_erika"
"""Object id prefix of the account device's sensors."""
GROUP = "sensor.musterstrasse_1"
"""Object id prefix of the group device's sensors (named after the group)."""


async def start_simulator(**options: Any) -> BuzznSimulator:
    """A simulated server that pushes live data only when a test asks."""
    options.setdefault("live_interval", 3600.0)
    simulator = BuzznSimulator(email=EMAIL, password=PASSWORD, **options)
    await simulator.start(host="127.0.0.1", port=0)
    return simulator


@pytest.fixture(params=["document", "reference"])
async def buzzn_simulator(
    request: pytest.FixtureRequest, socket_enabled: None
) -> AsyncGenerator[BuzznSimulator]:
    """The simulated server, in both variants (the seed, the reference backend)."""
    simulator = await start_simulator(variant=request.param)
    yield simulator
    await simulator.stop()


@pytest.fixture
async def document(socket_enabled: None) -> AsyncGenerator[BuzznSimulator]:
    """The seed's server (plain /live WebSocket, hints, challenges, logout)."""
    simulator = await start_simulator(variant="document")
    yield simulator
    await simulator.stop()


@pytest.fixture
async def reference(socket_enabled: None) -> AsyncGenerator[BuzznSimulator]:
    """The reference backend's server (Socket.IO only)."""
    simulator = await start_simulator(variant="reference")
    yield simulator
    await simulator.stop()


def buzzn_entry_for(simulator: BuzznSimulator, **data: Any) -> MockConfigEntry:
    """A config entry pointing at `simulator`."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=TITLE,
        unique_id=PROFILE_ID,
        data={
            CONF_DEVICE_TYPE: "buzzn",
            CONF_URL: simulator.url,
            CONF_EMAIL: EMAIL,
            CONF_PASSWORD: PASSWORD,
            **data,
        },
    )


@pytest.fixture
async def setup_buzzn(
    hass: HomeAssistant, buzzn_simulator: BuzznSimulator
) -> MockConfigEntry:
    """The entry set up, with its live stream connected."""
    entry = buzzn_entry_for(buzzn_simulator)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await until(lambda: buzzn_simulator.live_clients == 1)
    return entry


async def push(simulator: BuzznSimulator, entry: MockConfigEntry) -> None:
    """Send one live message and wait until the integration has applied it."""
    stats = entry.runtime_data.coordinator.stats
    before = stats.messages
    simulator.push_now()
    await until(lambda: stats.messages > before)
