"""Fixtures for the EMS tests: a simulated gateway on loopback and its entry."""

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
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from custom_components.energy_gateways.trust import CONF_FINGERPRINT
from simulators.gavazzi_ems import EmsSimulator

USERNAME = "api"
PASSWORD = "api-password"
SERIAL = "BX10000000"
TITLE = f"EMS {SERIAL}"
# Entity ids follow device names: a meter is named after its load; device 1
# ("Main meter") measures the load "Main", device 30 ("EM1") the "Heat pump".
MAIN = "sensor.main"
HEAT_PUMP = "sensor.heat_pump"
GATEWAY = "ems_bx10000000"
"""Object id prefix of the gateway device's own entities."""


@pytest.fixture
async def ems_simulator(socket_enabled: None) -> AsyncGenerator[EmsSimulator]:
    """A simulated gateway over plain HTTP."""
    simulator = EmsSimulator(username=USERNAME, password=PASSWORD, serial=SERIAL)
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


def ems_entry_for(simulator: EmsSimulator, **data: Any) -> MockConfigEntry:
    """A config entry pointing at `simulator` (trusting its certificate, if any)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=TITLE,
        unique_id=simulator.serial,
        data={
            CONF_DEVICE_TYPE: "gavazzi_ems",
            CONF_HOST: simulator.url,
            CONF_USERNAME: USERNAME,
            CONF_PASSWORD: PASSWORD,
            CONF_VERIFY_SSL: True,
            CONF_FINGERPRINT: simulator.certificate_sha256,
            **data,
        },
    )


@pytest.fixture
def ems_entry(ems_simulator: EmsSimulator) -> MockConfigEntry:
    """The entry of the simulated gateway, not yet added."""
    return ems_entry_for(ems_simulator)


@pytest.fixture
async def setup_ems(hass: HomeAssistant, ems_entry: MockConfigEntry) -> MockConfigEntry:
    """The entry set up with its first poll done."""
    ems_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ems_entry.entry_id)
    await hass.async_block_till_done()
    return ems_entry


async def poll(entry: MockConfigEntry) -> None:
    """Run one polling cycle now, as the timer would."""
    coordinator: DataUpdateCoordinator[Any] = entry.runtime_data.coordinator
    await coordinator.async_refresh()
