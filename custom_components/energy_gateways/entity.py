"""Base entity and entity descriptions shared by every platform and device type."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import (
    CoordinatorEntity,
    DataUpdateCoordinator,
)

from .const import DOMAIN
from .transport.errors import Forbidden, GatewayError, InvalidAuth, Rejected


def _always(_: Any) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class GatewayEntityDescription[DataT](EntityDescription):
    """Fields every entity description of this integration has.

    `device` names which of the entry's devices the entity belongs to (the device
    type's runtime turns it into DeviceInfo); `available_fn` says whether the data
    the entity needs is there at all (else the entity is unavailable).
    """

    device: str = "main"
    available_fn: Callable[[DataT], bool] = _always
    always_available: bool = False
    """Stay available while the device cannot be reached: for entities that say
    so (connectivity) or keep their meaning (the time of the last good reading).
    Their value is read from the last data the coordinator had; the entity's
    `link_up` tells whether the device answers."""


class GatewayEntityRuntime[DataT](Protocol):
    """What an entity needs from its device type's runtime."""

    @property
    def coordinator(self) -> DataUpdateCoordinator[DataT]:
        """The coordinator holding the device's data."""

    @property
    def unique_id(self) -> str:
        """Prefix of the unique ids of the entry's entities."""

    def device_info(self, device: str) -> DeviceInfo:
        """Return the DeviceInfo of one of the entry's devices."""


type DescriptionsCallback = Callable[[Sequence[GatewayEntityDescription[Any]]], None]


class DescribedRuntime(Protocol):
    """A runtime that lists entity descriptions per platform."""

    def descriptions(
        self, platform: Platform
    ) -> Sequence[GatewayEntityDescription[Any]]:
        """Entity descriptions for one platform."""

    def async_listen_new_descriptions(
        self, platform: Platform, add: DescriptionsCallback
    ) -> CALLBACK_TYPE:
        """Call `add` with the descriptions of entities that appear later."""


def described_platform_setup[DescriptionT: GatewayEntityDescription[Any]](
    platform: Platform,
    description_type: type[DescriptionT],
    entity_factory: Callable[[Any, DescriptionT], Entity],
) -> Callable[
    [HomeAssistant, ConfigEntry[Any], AddConfigEntryEntitiesCallback],
    Coroutine[Any, Any, None],
]:
    """Build a platform's async_setup_entry: one entity per declared description.

    Entities of devices that appear while the entry is loaded (a meter added to
    a gateway) are added when the runtime announces their descriptions.
    """

    async def async_setup_entry(
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        async_add_entities: AddConfigEntryEntitiesCallback,
    ) -> None:
        runtime: DescribedRuntime = entry.runtime_data

        @callback
        def add(descriptions: Sequence[GatewayEntityDescription[Any]]) -> None:
            async_add_entities(
                entity_factory(runtime, description)
                for description in descriptions
                if isinstance(description, description_type)
            )

        add(runtime.descriptions(platform))
        entry.async_on_unload(runtime.async_listen_new_descriptions(platform, add))

    return async_setup_entry


def ha_error(key: str, **placeholders: str) -> HomeAssistantError:
    """Build a translated error from `exceptions.<key>` in the translations."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


@asynccontextmanager
async def device_errors_as_ha_errors(host: str) -> AsyncIterator[None]:
    """Turn the clients' errors into translated errors for actions and entities."""
    try:
        yield
    except Rejected as err:
        raise ha_error("rejected", host=host, reason=str(err)) from err
    except Forbidden as err:
        raise ha_error("forbidden", host=host) from err
    except InvalidAuth as err:
        raise ha_error("invalid_auth", host=host) from err
    except GatewayError as err:
        raise ha_error("cannot_connect", host=host, error=str(err)) from err


class GatewayEntity[DataT](CoordinatorEntity[DataUpdateCoordinator[DataT]]):
    """An entity fed by a coordinator that only writes its state when it changed.

    Push coordinators notify every entity on every message; most messages change
    a few values only, so each entity compares before writing.
    """

    _attr_has_entity_name = True
    entity_description: GatewayEntityDescription[DataT]

    def __init__(
        self,
        runtime: GatewayEntityRuntime[DataT],
        description: GatewayEntityDescription[DataT],
    ) -> None:
        super().__init__(runtime.coordinator)
        self.runtime = runtime
        self.entity_description = description
        self._attr_unique_id = f"{runtime.unique_id}_{description.key}"
        self._attr_device_info = runtime.device_info(description.device)
        self._available = False
        self._published: object = None
        self.link_up = False
        """Whether the coordinator's last update reached the device."""
        self._refresh()

    @property
    def available(self) -> bool:
        """Unavailable while the link is down or the entity's data is missing."""
        return self._available

    def _current_value(self, data: DataT) -> object:
        """Read this entity's state from the data; store it on the entity."""
        raise NotImplementedError

    def _refresh(self) -> bool:
        """Recompute availability and value; True if either changed."""
        coordinator = self.coordinator
        description = self.entity_description
        self.link_up = coordinator.last_update_success
        available = (
            self.link_up or description.always_available
        ) and description.available_fn(coordinator.data)
        value = self._current_value(coordinator.data) if available else None
        if available == self._available and value == self._published:
            return False
        self._available = available
        self._published = value
        return True

    @callback
    def _handle_coordinator_update(self) -> None:
        if self._refresh():
            self.async_write_ha_state()


class GatewaySettingEntity[DataT](GatewayEntity[DataT]):
    """An entity that changes a setting on the device (select, number, switch).

    It shows only what the device reports: after a write the device pushes (or
    is read for) its new configuration, so a refused write changes nothing.
    """

    async def _async_write(self, write: Awaitable[None]) -> None:
        """Await a description's write; device errors become translated errors."""
        name = self.name if isinstance(self.name, str) else self.entity_id
        try:
            await write
        except Rejected as err:
            raise ha_error("setting_rejected", setting=name, reason=str(err)) from err
        except GatewayError as err:
            raise ha_error("setting_failed", setting=name, error=str(err)) from err
