"""Button platform: device actions from the device types' descriptions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import Platform

from .entity import (
    GatewayEntity,
    GatewayEntityDescription,
    described_platform_setup,
)

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class GatewayButtonEntityDescription[DataT](
    ButtonEntityDescription, GatewayEntityDescription[DataT]
):
    """What pressing the button does."""

    press_fn: Callable[[Any], Awaitable[None]]
    """Called with the runtime; raises translated HomeAssistantErrors."""


class GatewayButton[DataT](GatewayEntity[DataT], ButtonEntity):
    """A button; only its availability follows the data."""

    entity_description: GatewayButtonEntityDescription[DataT]

    def _current_value(self, data: DataT) -> object:
        return None

    async def async_press(self) -> None:
        """Run the action."""
        await self.entity_description.press_fn(self.runtime)


async_setup_entry = described_platform_setup(
    Platform.BUTTON, GatewayButtonEntityDescription, GatewayButton
)
