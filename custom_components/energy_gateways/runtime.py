"""The contract between the shared core and a device type's code."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry, OptionsFlow
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceEntry, DeviceInfo
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .entity import DescriptionsCallback, GatewayEntityDescription


class DeviceRuntime[DataT, CoordinatorT: DataUpdateCoordinator[Any]](ABC):
    """Everything one config entry of a device type holds while it is loaded.

    The shared platform modules ask it which entities to create; the entry's
    `runtime_data` is one of these.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyGatewaysConfigEntry,
        coordinator: CoordinatorT,
    ) -> None:
        self._hass = hass
        self._entry = entry
        self._coordinator = coordinator
        self._unique_id = str(entry.unique_id)
        self._description_listeners: dict[Platform, list[DescriptionsCallback]] = {}

    @property
    def coordinator(self) -> CoordinatorT:
        """The coordinator holding the device's data."""
        return self._coordinator

    @property
    def unique_id(self) -> str:
        """Prefix of the unique ids of the entry's entities (the entry's unique id)."""
        return self._unique_id

    @abstractmethod
    def device_info(self, device: str) -> DeviceInfo:
        """Return the DeviceInfo of one of the entry's devices."""

    @abstractmethod
    def descriptions(
        self, platform: Platform
    ) -> Sequence[GatewayEntityDescription[DataT]]:
        """Entity descriptions for one platform, already filtered by exists_fn."""

    @callback
    def async_listen_new_descriptions(
        self, platform: Platform, add: DescriptionsCallback
    ) -> CALLBACK_TYPE:
        """Call `add` with descriptions of entities that appear later.

        The runtime announces them with `async_announce`; device types whose
        entities are fixed at set-up never do.
        """
        added = self._description_listeners.setdefault(platform, [])
        added.append(add)

        @callback
        def remove() -> None:
            added.remove(add)

        return remove

    @callback
    def async_announce(
        self, platform: Platform, descriptions: Sequence[GatewayEntityDescription[Any]]
    ) -> None:
        """Add entities for `descriptions` on a platform that is set up."""
        for add in self._description_listeners.get(platform, ()):
            add(descriptions)

    def async_can_remove_device(self, device: DeviceEntry) -> bool:
        """Whether the user may delete this device (one the device no longer has)."""
        return False

    def async_start(self) -> None:  # noqa: B027 - optional hook
        """Start background work (streams) once the platforms are set up."""

    async def async_unload(self) -> None:  # noqa: B027 - optional hook
        """Say goodbye to the device (log out) once the platforms are unloaded."""

    accepts_firmware_upload = False
    """Whether the upload_firmware action works for this device type."""

    async def async_upload_firmware(self, image: bytes, filename: str) -> None:
        """Send a firmware image to the device and install it."""
        raise NotImplementedError

    async def async_reboot(self) -> None:
        """Restart the device (the fix of the "restart needed" repair issue)."""
        raise NotImplementedError

    @abstractmethod
    async def async_diagnostics(self) -> dict[str, Any]:
        """Diagnostics for the entry; secrets must already be redacted."""


type EnergyGatewaysConfigEntry = ConfigEntry[DeviceRuntime[Any, Any]]


@dataclass(frozen=True, kw_only=True)
class DeviceType:
    """One supported kind of device, as the registry in `devices/` lists it."""

    key: str
    platforms: frozenset[Platform]
    async_setup: Callable[
        [HomeAssistant, EnergyGatewaysConfigEntry], Awaitable[DeviceRuntime[Any, Any]]
    ]
    """Connect, do the first refresh (raising ConfigEntryNotReady etc.), register
    the devices, and return the runtime; streams start later in async_start."""
    options_flow: type[OptionsFlow] | None = None
    """The entry's options flow, if the device type has options."""
    async_remove: (
        Callable[[HomeAssistant, EnergyGatewaysConfigEntry], Awaitable[None]] | None
    ) = None
    """Delete what the device type stored for a removed entry."""
