"""Scene platform: scenes a device keeps itself (a hub's), run from Home Assistant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.scene import Scene
from homeassistant.const import Platform

from .entity import (
    GatewayEntity,
    GatewayEntityDescription,
    described_platform_setup,
)

# Scenes are run on the device: one at a time.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class GatewaySceneEntityDescription[DataT](GatewayEntityDescription[DataT]):
    """How to run a scene, and whether the device says it is active."""

    activate_fn: Callable[[Any], Awaitable[None]]
    """Called with the runtime; raises translated HomeAssistantErrors."""
    active_fn: Callable[[DataT], bool | None]


class GatewayScene[DataT](GatewayEntity[DataT], Scene):
    """A device's scene; its `active` attribute is what the device reports."""

    entity_description: GatewaySceneEntityDescription[DataT]

    def _current_value(self, data: DataT) -> object:
        active = self.entity_description.active_fn(data)
        self._attr_extra_state_attributes = {"active": active}
        return active

    async def async_activate(self, **kwargs: Any) -> None:
        """Run the scene on the device."""
        await self.entity_description.activate_fn(self.runtime)


async_setup_entry = described_platform_setup(
    Platform.SCENE, GatewaySceneEntityDescription, GatewayScene
)
