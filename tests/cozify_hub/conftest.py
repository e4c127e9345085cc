"""Fixtures for the Cozify Hub tests: the simulated cloud and hubs on loopback."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import time
from typing import Any

import aiohttp
from homeassistant.const import CONF_EMAIL, CONF_HOST
from homeassistant.core import HomeAssistant, State
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from custom_components.energy_gateways.devices.cozify_hub.const import (
    CONF_CLOUD_TOKEN,
    CONF_CLOUD_URL,
    CONF_HUB_ID,
    CONF_HUB_KEY,
    CONF_MODE,
    CONF_TOKEN_RENEWED,
    DEVICE_TYPE,
    MODE_CLOUD,
    MODE_LOCAL,
)
from simulators.cozify_hub import CozifySimulator

from ..conftest import set_up_entry

EMAIL = "maija@example.com"


async def start_simulator(**options: Any) -> CozifySimulator:
    """A simulated cloud with two hubs whose devices change only when a test asks."""
    simulator = CozifySimulator(email=EMAIL, **options)
    await simulator.start(host="127.0.0.1")
    return simulator


@pytest.fixture
async def cozify(socket_enabled: None) -> AsyncGenerator[CozifySimulator]:
    """The simulated Cozify cloud and its two hubs (hub 0 found on the LAN)."""
    simulator = await start_simulator()
    yield simulator
    await simulator.stop()


async def cloud_login(simulator: CozifySimulator) -> tuple[str, dict[str, str]]:
    """Log in as the flow does; return the cloud token and the hub keys."""
    base = simulator.cloud_url
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{base}/user/requestlogin", params={"email": EMAIL}
        ) as response:
            assert response.status == 200
        code = simulator.last_code
        assert code is not None
        async with session.post(
            f"{base}/user/emaillogin", data={"email": EMAIL, "password": code}
        ) as response:
            assert response.status == 200
            token = (await response.text()).strip().strip('"')
        async with session.get(
            f"{base}/user/hubkeys", headers={"Authorization": token}
        ) as response:
            assert response.status == 200
            keys: dict[str, str] = await response.json()
    return token, keys


async def cozify_entry_for(
    simulator: CozifySimulator, *, hub: int = 0, cloud: bool = False, **data: Any
) -> MockConfigEntry:
    """A config entry for one of the simulator's hubs, logged in (not added)."""
    token, keys = await cloud_login(simulator)
    target = simulator.hubs[hub]
    return MockConfigEntry(
        domain=DOMAIN,
        title=target.name,
        unique_id=target.hub_id,
        data={
            CONF_DEVICE_TYPE: DEVICE_TYPE,
            CONF_EMAIL: EMAIL,
            CONF_CLOUD_URL: simulator.cloud_url,
            CONF_CLOUD_TOKEN: token,
            CONF_TOKEN_RENEWED: time.time(),
            CONF_HUB_ID: target.hub_id,
            CONF_HUB_KEY: keys[target.hub_id],
            CONF_HOST: None if cloud else target.url,
            CONF_MODE: MODE_CLOUD if cloud else MODE_LOCAL,
            **data,
        },
    )


@pytest.fixture
async def hub_entry(hass: HomeAssistant, cozify: CozifySimulator) -> MockConfigEntry:
    """The home hub, set up on the LAN."""
    return await set_up_entry(hass, await cozify_entry_for(cozify))


async def poll(entry: MockConfigEntry) -> None:
    """Run one polling cycle now, as the timer would."""
    await entry.runtime_data.coordinator.async_refresh()


def state(hass: HomeAssistant, entity_id: str) -> State:
    """The entity's state (fails the test if there is none)."""
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found
