"""Light platform: lights from the device types' descriptions.

A description says which colour modes and features the light has and how to
read its state; turning it on or off is the device type's business (one
command, Home Assistant's units in `kwargs`). The entity never guesses: it
shows what the device reports, so after a command the state changes once the
device type's next reading has it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.light import LightEntity, LightEntityDescription
from homeassistant.components.light.const import (
    DEFAULT_MAX_KELVIN,
    DEFAULT_MIN_KELVIN,
    ColorMode,
    LightEntityFeature,
)
from homeassistant.const import Platform

from .entity import (
    GatewayEntityDescription,
    GatewaySettingEntity,
    described_platform_setup,
)

# Writes go to the device: one at a time.
PARALLEL_UPDATES = 1

NO_FEATURES = LightEntityFeature(0)

type LightCommand = Callable[[Any, dict[str, Any]], Awaitable[None]]
"""Called with the runtime and the service call's light attributes (HA units)."""


@dataclass(frozen=True, slots=True)
class LightState:
    """What a light shows, in Home Assistant's units (None: not known)."""

    is_on: bool | None
    brightness: int | None = None
    """1..255 while on."""
    color_mode: ColorMode | None = None
    """One of the description's `supported_color_modes`."""
    hs_color: tuple[float, float] | None = None
    """Hue in degrees 0..360, saturation in % 0..100."""
    color_temp_kelvin: int | None = None


@dataclass(frozen=True, kw_only=True)
class GatewayLightEntityDescription[DataT](
    LightEntityDescription, GatewayEntityDescription[DataT]
):
    """A light: its colour modes and features, its state, how to switch it."""

    supported_color_modes: frozenset[ColorMode]
    supported_features: LightEntityFeature = NO_FEATURES
    min_color_temp_kelvin: int = DEFAULT_MIN_KELVIN
    max_color_temp_kelvin: int = DEFAULT_MAX_KELVIN
    color_temp_range_fn: Callable[[DataT], tuple[int, int] | None] | None = None
    """The light's own (min, max) Kelvin when its data tells; else the fixed ones."""
    state_fn: Callable[[DataT], LightState | None]
    """None: the light's state is not known."""
    turn_on_fn: LightCommand
    turn_off_fn: LightCommand


class GatewayLight[DataT](GatewaySettingEntity[DataT], LightEntity):
    """A light whose state is the one its device reports."""

    entity_description: GatewayLightEntityDescription[DataT]

    def __init__(
        self, runtime: Any, description: GatewayLightEntityDescription[DataT]
    ) -> None:
        self._attr_supported_color_modes = set(description.supported_color_modes)
        self._attr_supported_features = description.supported_features
        super().__init__(runtime, description)

    def _current_value(self, data: DataT) -> object:
        description = self.entity_description
        state = description.state_fn(data) or LightState(is_on=None)
        read_range = description.color_temp_range_fn
        low, high = (read_range(data) if read_range else None) or (
            description.min_color_temp_kelvin,
            description.max_color_temp_kelvin,
        )
        self._attr_is_on = state.is_on
        self._attr_brightness = state.brightness
        self._attr_color_mode = state.color_mode
        self._attr_hs_color = state.hs_color
        self._attr_color_temp_kelvin = state.color_temp_kelvin
        self._attr_min_color_temp_kelvin = low
        self._attr_max_color_temp_kelvin = high
        return (state, low, high)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch on with what was asked; the state follows the device's report."""
        await self._async_write(
            self.entity_description.turn_on_fn(self.runtime, kwargs)
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off (with a transition if asked); the state follows the report."""
        await self._async_write(
            self.entity_description.turn_off_fn(self.runtime, kwargs)
        )


async_setup_entry = described_platform_setup(
    Platform.LIGHT, GatewayLightEntityDescription, GatewayLight
)
