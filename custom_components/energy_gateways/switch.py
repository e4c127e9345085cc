"""Switch platform: on/off device settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import Platform

from .entity import (
    GatewayEntityDescription,
    GatewaySettingEntity,
    described_platform_setup,
)

# Writes go to the device: one at a time.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class GatewaySwitchEntityDescription[DataT](
    SwitchEntityDescription, GatewayEntityDescription[DataT]
):
    """How to read the switch (None = unknown) and how to turn it on or off."""

    is_on_fn: Callable[[DataT], bool | None]
    set_fn: Callable[[Any, bool], Awaitable[None]]
    """Called with the runtime and the wanted state."""


class GatewaySwitch[DataT](GatewaySettingEntity[DataT], SwitchEntity):
    """A switch whose state comes from its description."""

    entity_description: GatewaySwitchEntityDescription[DataT]

    def _current_value(self, data: DataT) -> object:
        self._attr_is_on = self.entity_description.is_on_fn(data)
        return self._attr_is_on

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch the setting on; the state follows when the device reports it."""
        await self._async_write(self.entity_description.set_fn(self.runtime, True))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the setting off; the state follows when the device reports it."""
        await self._async_write(self.entity_description.set_fn(self.runtime, False))


async_setup_entry = described_platform_setup(
    Platform.SWITCH, GatewaySwitchEntityDescription, GatewaySwitch
)
