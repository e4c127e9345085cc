"""Binary sensor platform: builds entities from the device types' descriptions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import Platform

from .entity import (
    GatewayEntity,
    GatewayEntityDescription,
    described_platform_setup,
)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class GatewayBinarySensorEntityDescription[DataT](
    BinarySensorEntityDescription, GatewayEntityDescription[DataT]
):
    """How to read one binary sensor from the data (None = unknown)."""

    is_on_fn: Callable[[DataT], bool | None] | None = None
    """None: on while the device answers, off while it cannot be reached (a
    connectivity sensor; give it `always_available` so it can say so)."""


class GatewayBinarySensor[DataT](GatewayEntity[DataT], BinarySensorEntity):
    """A binary sensor whose state comes from its description."""

    entity_description: GatewayBinarySensorEntityDescription[DataT]

    def _current_value(self, data: DataT) -> object:
        is_on_fn = self.entity_description.is_on_fn
        self._attr_is_on = self.link_up if is_on_fn is None else is_on_fn(data)
        return self._attr_is_on


async_setup_entry = described_platform_setup(
    Platform.BINARY_SENSOR, GatewayBinarySensorEntityDescription, GatewayBinarySensor
)
