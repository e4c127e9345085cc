"""Climate platform: thermostats from the device types' descriptions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.climate import ClimateEntity, ClimateEntityDescription
from homeassistant.components.climate.const import (
    ClimateEntityFeature,
    HVACAction,
    HVACMode,
)
from homeassistant.const import ATTR_TEMPERATURE, Platform, UnitOfTemperature

from .entity import (
    GatewayEntity,
    GatewayEntityDescription,
    described_platform_setup,
)

# Writes go to the device: one at a time.
PARALLEL_UPDATES = 1

# Home Assistant 2026.11 names the temperatures and their unit native_* (the
# old names still work there, with a deprecation warning); 2026.10 knows only
# the old names.
_NATIVE = (
    "native_" if hasattr(ClimateEntity, "_attr_native_current_temperature") else ""
)
_CURRENT = f"_attr_{_NATIVE}current_temperature"
_TARGET = f"_attr_{_NATIVE}target_temperature"
_UNIT = f"_attr_{_NATIVE}temperature_unit"


@dataclass(frozen=True, kw_only=True)
class GatewayClimateEntityDescription[DataT](
    ClimateEntityDescription, GatewayEntityDescription[DataT]
):
    """A heating thermostat: readings, and how to set its target (°C)."""

    current_fn: Callable[[DataT], float | None]
    target_fn: Callable[[DataT], float | None]
    action_fn: Callable[[DataT], HVACAction | None]
    set_target_fn: Callable[[Any, float], Awaitable[None]]
    """Called with the runtime and the wanted target temperature."""
    min_temp: float = 5.0
    max_temp: float = 30.0
    step: float = 0.5


class GatewayClimate[DataT](GatewayEntity[DataT], ClimateEntity):
    """A thermostat that only heats; the state shown is the one it reports."""

    entity_description: GatewayClimateEntityDescription[DataT]
    _attr_hvac_modes = [HVACMode.HEAT]  # noqa: RUF012 - HA's attribute, never changed
    _attr_hvac_mode = HVACMode.HEAT
    _attr_supported_features = ClimateEntityFeature.TARGET_TEMPERATURE

    def __init__(
        self, runtime: Any, description: GatewayClimateEntityDescription[DataT]
    ) -> None:
        self._attr_min_temp = description.min_temp
        self._attr_max_temp = description.max_temp
        self._attr_target_temperature_step = description.step
        setattr(self, _UNIT, UnitOfTemperature.CELSIUS)
        super().__init__(runtime, description)

    def _current_value(self, data: DataT) -> object:
        description = self.entity_description
        current = description.current_fn(data)
        target = description.target_fn(data)
        setattr(self, _CURRENT, current)
        setattr(self, _TARGET, target)
        self._attr_hvac_action = description.action_fn(data)
        return (current, target, self._attr_hvac_action)

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Set the target; the state follows when the device reports it."""
        await self.entity_description.set_target_fn(
            self.runtime, float(kwargs[ATTR_TEMPERATURE])
        )

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        """Heating is the only mode (HA offers nothing else to choose)."""


async_setup_entry = described_platform_setup(
    Platform.CLIMATE, GatewayClimateEntityDescription, GatewayClimate
)
