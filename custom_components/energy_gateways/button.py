"""Button platform: device actions from the device types' descriptions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import (
    GatewayEntity,
    GatewayEntityDescription,
    async_add_described_entities,
)
from .runtime import EnergyGatewaysConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class GatewayButtonEntityDescription[DataT](
    ButtonEntityDescription, GatewayEntityDescription[DataT]
):
    """What pressing the button does."""

    press_fn: Callable[[Any], Awaitable[None]]
    """Called with the runtime; raises translated HomeAssistantErrors."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyGatewaysConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the entry's buttons."""
    async_add_described_entities(
        entry.runtime_data,
        Platform.BUTTON,
        GatewayButtonEntityDescription,
        GatewayButton,
        async_add_entities,
    )


class GatewayButton[DataT](GatewayEntity[DataT], ButtonEntity):
    """A button; only its availability follows the data."""

    entity_description: GatewayButtonEntityDescription[DataT]

    def _current_value(self, data: DataT) -> object:
        return None

    async def async_press(self) -> None:
        """Run the action."""
        await self.entity_description.press_fn(self.runtime)
