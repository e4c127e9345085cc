"""A real Home Assistant core with the integration, against simulated devices.

`running_hass` yields a core that loads `custom_components/`; `han_entry` and
`ems_entry` build the config entries of a HAN reader and of an EMS gateway
simulator, and `async_set_up` loads one. Any number of entries can share one
core (the soak runs both). `running_han` is the one-reader set-up of the HAN
benchmarks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_EMAIL,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_URL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import frame
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from custom_components.energy_gateways.trust import CONF_FINGERPRINT
from simulators.buzzn import BuzznSimulator
from simulators.cozify_han import HanSimulator
from simulators.cozify_hub import CozifySimulator
from simulators.gavazzi_ems import EmsSimulator
from simulators.ziggymeter import ZiggySimulator
from tests.cozify_hub.conftest import cozify_entry_for

LOOPBACK = "127.0.0.1"
STREAM_TIMEOUT = 30.0


@asynccontextmanager
async def running_hass() -> AsyncIterator[HomeAssistant]:
    """Yield a Home Assistant core that loads custom_components/.

    On the way out the integration's loaded entries are unloaded, then the core
    stops.
    """
    async with async_test_home_assistant() as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # let custom_components/ load
        # Home Assistant's start-up does this: deprecation reports need it.
        frame.async_setup(hass)
        # HA's shared HTTP session resolves .local names through zeroconf.
        await async_setup_component(hass, "network", {})
        yield hass
        for entry in hass.config_entries.async_entries(DOMAIN):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await hass.async_stop(force=True)


def han_entry(simulator: HanSimulator) -> MockConfigEntry:
    """Build the config entry of a started HAN reader simulator (not yet added)."""
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=simulator.state["serial"],
        title=simulator.state["name"],
        data={
            CONF_DEVICE_TYPE: "cozify_han",
            CONF_HOST: LOOPBACK,
            CONF_PORT: simulator.port,
        },
    )


def ems_entry(
    simulator: EmsSimulator, options: Mapping[str, Any] | None = None
) -> MockConfigEntry:
    """Build the config entry of a started EMS simulator, trusting its certificate.

    As `tests/gavazzi_ems/conftest.py::ems_entry_for` builds it; without
    `options` the entry polls at the default interval.
    """
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=simulator.serial,
        title=f"EMS {simulator.serial}",
        data={
            CONF_DEVICE_TYPE: "gavazzi_ems",
            CONF_HOST: simulator.url,
            CONF_USERNAME: simulator.username,
            CONF_PASSWORD: simulator.password,
            CONF_VERIFY_SSL: True,
            CONF_FINGERPRINT: simulator.certificate_sha256,
        },
        options=dict(options or {}),
    )


def ziggy_entry(
    simulator: ZiggySimulator, options: Mapping[str, Any] | None = None
) -> MockConfigEntry:
    """Build the config entry of a started ZiggyMeter simulator, trusting its certificate.

    As `tests/ziggymeter/conftest.py::ziggy_entry_for` builds it.
    """
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=simulator.certificate_sha256,
        title="ZiggyMeter",
        data={
            CONF_DEVICE_TYPE: "ziggymeter",
            CONF_HOST: simulator.url,
            CONF_USERNAME: simulator.username,
            CONF_PASSWORD: simulator.password,
            CONF_VERIFY_SSL: True,
            CONF_FINGERPRINT: simulator.certificate_sha256,
        },
        options=dict(options or {}),
    )


def buzzn_entry(simulator: BuzznSimulator) -> MockConfigEntry:
    """Build the config entry of a started BUZZN simulator (plain HTTP, no pinning).

    As `tests/buzzn/conftest.py::buzzn_entry_for` builds it.
    """
    return MockConfigEntry(
        domain=DOMAIN,
        unique_id=str(simulator.profile["id"]),
        title=f"BUZZN {simulator.profile['nick']}",
        data={
            CONF_DEVICE_TYPE: "buzzn",
            CONF_URL: simulator.url,
            CONF_EMAIL: simulator.email,
            CONF_PASSWORD: simulator.password,
        },
    )


async def cozify_entry(
    simulator: CozifySimulator, *, hub: int = 0, cloud: bool = False
) -> MockConfigEntry:
    """Log in to a started Cozify simulator; the entry of one of its hubs (not added).

    The tests' way (the e-mailed code traded for a cloud token, then the hub
    keys: three cloud requests sent here, not by the integration). `cloud`: the
    entry talks to the hub through the cloud relay only.
    """
    return await cozify_entry_for(simulator, hub=hub, cloud=cloud)


async def async_set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add `entry` to `hass` (unless added already) and load it; raise if it fails."""
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    if not await hass.config_entries.async_setup(entry.entry_id):
        raise RuntimeError(f"{entry.title} did not load: {entry.state}")
    await hass.async_block_till_done()


async def async_wait_for_stream(simulator: HanSimulator) -> None:
    """Wait (30 s at most) until the integration holds a stream open to `simulator`."""
    async with asyncio.timeout(STREAM_TIMEOUT):
        while simulator.stream_clients == 0:  # noqa: ASYNC110 - a socket, not an event
            await asyncio.sleep(0.01)


@asynccontextmanager
async def running_han(
    push_interval: float | None = None,
) -> AsyncIterator[tuple[HomeAssistant, HanSimulator]]:
    """Yield Home Assistant with one HAN entry whose stream is connected."""
    simulator = HanSimulator(push_interval=push_interval)
    await simulator.start(host=LOOPBACK, port=0)
    try:
        async with running_hass() as hass:
            await async_set_up(hass, han_entry(simulator))
            await async_wait_for_stream(simulator)
            yield hass, simulator
    finally:
        await simulator.stop()
