"""A real Home Assistant core with the integration, against a simulated reader."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from homeassistant import loader
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from simulators.cozify_han import HanSimulator


@asynccontextmanager
async def running_han(
    push_interval: float | None = None,
) -> AsyncIterator[tuple[HomeAssistant, HanSimulator]]:
    """Yield Home Assistant with one HAN entry whose stream is connected."""
    simulator = HanSimulator(push_interval=push_interval)
    await simulator.start(host="127.0.0.1", port=0)
    try:
        async with async_test_home_assistant() as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # let custom_components/ load
            # HA's shared HTTP session resolves .local names through zeroconf.
            await async_setup_component(hass, "network", {})
            entry = MockConfigEntry(
                domain=DOMAIN,
                unique_id=simulator.state["serial"],
                title=simulator.state["name"],
                data={
                    CONF_DEVICE_TYPE: "cozify_han",
                    CONF_HOST: "127.0.0.1",
                    CONF_PORT: simulator.port,
                },
            )
            entry.add_to_hass(hass)
            await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            while simulator.stream_clients == 0:  # noqa: ASYNC110 - a socket, not an event
                await asyncio.sleep(0.01)
            yield hass, simulator
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
            await hass.async_stop(force=True)
    finally:
        await simulator.stop()
