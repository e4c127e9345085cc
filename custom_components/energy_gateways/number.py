"""Number platform: numeric device settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.number import NumberEntity, NumberEntityDescription
from homeassistant.const import Platform

from .entity import (
    GatewayEntityDescription,
    GatewaySettingEntity,
    described_platform_setup,
)

# Writes go to the device: one at a time.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class GatewayNumberEntityDescription[DataT](
    NumberEntityDescription, GatewayEntityDescription[DataT]
):
    """How to read the value (and, if it varies, its unit) and how to write it."""

    value_fn: Callable[[DataT], float | None]
    unit_fn: Callable[[DataT], str | None] | None = None
    set_fn: Callable[[Any, float], Awaitable[None]]
    """Called with the runtime and the new value (in the entity's unit)."""


class GatewayNumber[DataT](GatewaySettingEntity[DataT], NumberEntity):
    """A number whose value and unit come from its description."""

    entity_description: GatewayNumberEntityDescription[DataT]

    def _current_value(self, data: DataT) -> object:
        description = self.entity_description
        value = self._attr_native_value = description.value_fn(data)
        unit = None
        if description.unit_fn is not None:
            unit = self._attr_native_unit_of_measurement = description.unit_fn(data)
        return (value, unit)

    async def async_set_native_value(self, value: float) -> None:
        """Write the value; the state follows when the device reports it."""
        await self._async_write(self.entity_description.set_fn(self.runtime, value))


async_setup_entry = described_platform_setup(
    Platform.NUMBER, GatewayNumberEntityDescription, GatewayNumber
)
