"""Fixtures for the ZiggyMeter tests: a simulated reader on loopback and its entry."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from custom_components.energy_gateways.devices.ziggymeter.connection import (
    CONF_LOGIN_PATH,
)
from custom_components.energy_gateways.trust import CONF_FINGERPRINT
from simulators.ziggymeter import ZiggySimulator

USERNAME = "admin"
PASSWORD = "ziggy-password"
TITLE = "ZiggyMeter"
READER = "sensor.ziggymeter"
"""Object id prefix of the reader's sensors (named after the entry title)."""


def host_of(simulator: ZiggySimulator) -> str:
    """What a user types: `127.0.0.1:<port>`."""
    return f"127.0.0.1:{simulator.port}"


@pytest.fixture
async def ziggy_simulator(socket_enabled: None) -> AsyncGenerator[ZiggySimulator]:
    """A simulated reader on USB power."""
    simulator = ZiggySimulator(username=USERNAME, password=PASSWORD)
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


def ziggy_entry_for(simulator: ZiggySimulator, **data: Any) -> MockConfigEntry:
    """A config entry pointing at `simulator`, trusting its certificate."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=TITLE,
        unique_id=simulator.certificate_sha256,
        data={
            CONF_DEVICE_TYPE: "ziggymeter",
            CONF_HOST: simulator.url,
            CONF_USERNAME: USERNAME,
            CONF_PASSWORD: PASSWORD,
            CONF_VERIFY_SSL: True,
            CONF_FINGERPRINT: simulator.certificate_sha256,
            # What the config flow stored: the path the reader answered.
            CONF_LOGIN_PATH: "/api/v1/system/login",
            **data,
        },
    )


@pytest.fixture
def ziggy_entry(ziggy_simulator: ZiggySimulator) -> MockConfigEntry:
    """The entry of the simulated reader, not yet added."""
    return ziggy_entry_for(ziggy_simulator)


@pytest.fixture
async def setup_ziggy(
    hass: HomeAssistant, ziggy_entry: MockConfigEntry
) -> MockConfigEntry:
    """The entry set up with its first poll done."""
    ziggy_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ziggy_entry.entry_id)
    await hass.async_block_till_done()
    return ziggy_entry


async def poll(entry: MockConfigEntry) -> None:
    """Run one polling cycle now, as the timer would."""
    await entry.runtime_data.coordinator.async_refresh()
