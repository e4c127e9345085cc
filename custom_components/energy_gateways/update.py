"""Update platform: firmware update entities from the device types' descriptions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.update import (
    UpdateDeviceClass,
    UpdateEntity,
    UpdateEntityDescription,
    UpdateEntityFeature,
)
from homeassistant.const import EntityCategory, Platform

from .entity import (
    GatewayEntity,
    GatewayEntityDescription,
    described_platform_setup,
)

# Installing talks to the device: one action at a time.
PARALLEL_UPDATES = 1


def _nothing(_: Any) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class GatewayUpdateEntityDescription[DataT](
    UpdateEntityDescription, GatewayEntityDescription[DataT]
):
    """How to read firmware versions and progress, and how to install."""

    device_class: UpdateDeviceClass | None = UpdateDeviceClass.FIRMWARE
    entity_category: EntityCategory | None = EntityCategory.CONFIG
    installed_version_fn: Callable[[DataT], str | None]
    latest_version_fn: Callable[[DataT], str | None]
    in_progress_fn: Callable[[DataT], bool]
    progress_fn: Callable[[DataT], int | None]
    release_summary_fn: Callable[[DataT], str | None] = _nothing
    release_url_fn: Callable[[DataT], str | None] = _nothing
    release_notes_fn: Callable[[DataT], str | None] = _nothing
    attributes_fn: Callable[[DataT], dict[str, Any] | None] = _nothing
    install_fn: Callable[[Any], Awaitable[None]] | None = None
    """Called with the runtime; raises translated HomeAssistantErrors."""
    features: UpdateEntityFeature = (
        UpdateEntityFeature.INSTALL
        | UpdateEntityFeature.PROGRESS
        | UpdateEntityFeature.RELEASE_NOTES
    )
    """Without INSTALL, firmware arrives some other way (an action with a file)."""


class GatewayUpdate[DataT](GatewayEntity[DataT], UpdateEntity):
    """A firmware update entity with progress and release notes."""

    entity_description: GatewayUpdateEntityDescription[DataT]
    _installing = False

    @property
    def supported_features(self) -> UpdateEntityFeature:
        """What the device type's firmware handling offers."""
        return self.entity_description.features

    def _current_value(self, data: DataT) -> object:
        description = self.entity_description
        self._attr_installed_version = description.installed_version_fn(data)
        self._attr_latest_version = description.latest_version_fn(data)
        self._installing = description.in_progress_fn(data)
        self._attr_update_percentage = (
            description.progress_fn(data) if self._installing else None
        )
        summary = description.release_summary_fn(data)
        self._attr_release_summary = summary[:255] if summary else None
        self._attr_release_url = description.release_url_fn(data)
        self._attr_extra_state_attributes = description.attributes_fn(data) or {}
        return (
            self._attr_installed_version,
            self._attr_latest_version,
            self._installing,
            self._attr_update_percentage,
            self._attr_release_summary,
            self._attr_release_url,
            self._attr_extra_state_attributes,
        )

    @property
    def in_progress(self) -> bool:
        """Whether the device is installing, as the device reports it.

        Home Assistant resets `_attr_in_progress` when the install action returns;
        the device is still rebooting into the image then, so the data decides.
        """
        return self._installing

    async def async_release_notes(self) -> str | None:
        """Return the release notes of the version on offer."""
        return self.entity_description.release_notes_fn(self.coordinator.data)

    async def async_install(
        self, version: str | None, backup: bool, **kwargs: Any
    ) -> None:
        """Install the version on offer."""
        install = self.entity_description.install_fn
        assert install is not None  # HA offers install only with the feature
        await install(self.runtime)


async_setup_entry = described_platform_setup(
    Platform.UPDATE, GatewayUpdateEntityDescription, GatewayUpdate
)
