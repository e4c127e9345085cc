"""Select platform: device settings with a fixed or device-given list of choices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import Platform

from .entity import (
    GatewayEntityDescription,
    GatewaySettingEntity,
    described_platform_setup,
)

# Writes go to the device: one at a time.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class GatewaySelectEntityDescription[DataT](
    SelectEntityDescription, GatewayEntityDescription[DataT]
):
    """How to read the chosen option (and the choices) and how to write one."""

    value_fn: Callable[[DataT], str | None]
    options_fn: Callable[[DataT], Sequence[str]] | None = None
    """Choices that depend on the device; else the description's `options`."""
    select_fn: Callable[[Any, str], Awaitable[None]]
    """Called with the runtime and the chosen option."""


class GatewaySelect[DataT](GatewaySettingEntity[DataT], SelectEntity):
    """A select whose option and choices come from its description."""

    entity_description: GatewaySelectEntityDescription[DataT]

    def _current_value(self, data: DataT) -> object:
        description = self.entity_description
        if description.options_fn is not None:
            self._attr_options = list(description.options_fn(data))
        else:
            self._attr_options = list(description.options or ())
        self._attr_current_option = description.value_fn(data)
        return (self._attr_current_option, tuple(self._attr_options))

    async def async_select_option(self, option: str) -> None:
        """Write the option; the state follows when the device reports it."""
        await self._async_write(self.entity_description.select_fn(self.runtime, option))


async_setup_entry = described_platform_setup(
    Platform.SELECT, GatewaySelectEntityDescription, GatewaySelect
)
