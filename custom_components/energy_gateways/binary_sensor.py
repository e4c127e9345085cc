"""Binary sensor platform: builds entities from the device types' descriptions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import (
    GatewayEntity,
    GatewayEntityDescription,
    async_add_described_entities,
)
from .runtime import EnergyGatewaysConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class GatewayBinarySensorEntityDescription[DataT](
    BinarySensorEntityDescription, GatewayEntityDescription[DataT]
):
    """How to read one binary sensor from the data (None = unknown)."""

    is_on_fn: Callable[[DataT], bool | None]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyGatewaysConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the entry's binary sensors."""
    async_add_described_entities(
        entry.runtime_data,
        Platform.BINARY_SENSOR,
        GatewayBinarySensorEntityDescription,
        GatewayBinarySensor,
        async_add_entities,
    )


class GatewayBinarySensor[DataT](GatewayEntity[DataT], BinarySensorEntity):
    """A binary sensor whose state comes from its description."""

    entity_description: GatewayBinarySensorEntityDescription[DataT]

    def _current_value(self, data: DataT) -> object:
        self._attr_is_on = self.entity_description.is_on_fn(data)
        return self._attr_is_on
