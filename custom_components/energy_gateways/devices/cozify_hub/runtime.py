"""Sets up one Cozify Hub entry: the hub, its devices and their entities.

Devices the hub reports later get their HA device and entities without a
reload; a device the hub deleted is removed from HA with its entities.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from homeassistant.const import CONF_EMAIL, CONF_HOST, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntry, DeviceInfo

from ...const import DOMAIN
from ...diagnostics import redact_values
from ...entity import GatewayEntityDescription, ha_error
from ...runtime import DeviceRuntime, EnergyGatewaysConfigEntry
from ...transport.errors import GatewayError, InvalidAuth, Rejected
from .client import RelayRefused
from .config_flow import create_client
from .const import CONF_HUB_ID, MODE_LOCAL
from .controls import climates_of, scene_key, scenes_of, switches_of
from .coordinator import CozifyHubCoordinator
from .data import HubData
from .entities import (
    HUB,
    HUB_BINARY_SENSORS,
    HUB_SENSORS,
    binary_sensors_of,
    sensors_of,
)
from .lights import light_descriptions
from .models import CozifyDevice, DeviceState

MANUFACTURER = "Cozify"
PLATFORMS = frozenset(
    {
        Platform.BINARY_SENSOR,
        Platform.CLIMATE,
        Platform.LIGHT,
        Platform.SCENE,
        Platform.SENSOR,
        Platform.SWITCH,
    }
)
type DevicesDescribed = Callable[
    [Iterable[CozifyDevice]], Sequence[GatewayEntityDescription[HubData]]
]
DEVICE_ENTITIES: dict[Platform, DevicesDescribed] = {
    Platform.BINARY_SENSOR: binary_sensors_of,
    Platform.CLIMATE: climates_of,
    Platform.LIGHT: light_descriptions,
    Platform.SENSOR: sensors_of,
    Platform.SWITCH: switches_of,
}
"""How each platform's entities of the devices behind the hub are described."""
HUB_ENTITIES: dict[Platform, Sequence[GatewayEntityDescription[HubData]]] = {
    Platform.BINARY_SENSOR: HUB_BINARY_SENSORS,
    Platform.SENSOR: HUB_SENSORS,
}
"""The hub's own entities."""


def device_identifier(hub_id: str, device_id: str) -> tuple[str, str]:
    """Return the device-registry identifier of a device behind the hub."""
    return (DOMAIN, f"{hub_id}_{device_id}")


class CozifyHubRuntime(DeviceRuntime[HubData, CozifyHubCoordinator]):
    """A loaded Cozify Hub entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyGatewaysConfigEntry,
        coordinator: CozifyHubCoordinator,
    ) -> None:
        super().__init__(hass, entry, coordinator)
        data = coordinator.data
        self._data = data
        self._known: set[str] = set(data.devices)
        self._scenes: set[str] = set(data.scenes)
        self._version = data.hub.version

    def device_info(self, device: str) -> DeviceInfo:
        """Return a reference to the hub or to one of its devices."""
        if device == HUB:
            return DeviceInfo(identifiers={(DOMAIN, self._unique_id)})
        return DeviceInfo(identifiers={device_identifier(self._unique_id, device)})

    def descriptions(
        self, platform: Platform
    ) -> Sequence[GatewayEntityDescription[HubData]]:
        """Return the hub's entities and those of every device it reports."""
        data = self._coordinator.data
        if platform is Platform.SCENE:
            return scenes_of(data.scenes.values())
        return (
            *HUB_ENTITIES.get(platform, ()),
            *DEVICE_ENTITIES[platform](data.devices.values()),
        )

    def async_can_remove_device(self, device: DeviceEntry) -> bool:
        """Allow deleting a device the hub no longer reports."""
        reported = {(DOMAIN, self._unique_id)} | {
            device_identifier(self._unique_id, device_id)
            for device_id in self._coordinator.data.devices
        }
        return not device.identifiers & reported

    def async_start(self) -> None:
        """Follow devices that come and go."""
        self._entry.async_on_unload(
            self._coordinator.async_add_listener(self._async_follow_devices)
        )

    @callback
    def _async_follow_devices(self) -> None:
        """Register new devices with their entities; remove deleted ones."""
        data = self._coordinator.data
        previous = self._data
        if data is previous:
            return
        self._data = data
        if data.hub.version != self._version:
            # A software update: the hub device shows the new version.
            self._version = data.hub.version
            register_hub(self._hass, self._entry, data)
        if renamed := [
            device
            for device_id, device in data.devices.items()
            if (old := previous.devices.get(device_id)) is not None
            and _identity(old) != _identity(device)
        ]:
            # Renamed in the Cozify app: the HA device follows (a name the
            # user gave it in Home Assistant stays).
            register_devices(self._hass, self._entry, data, renamed)
        if data.scenes is not previous.scenes:
            self._async_follow_scenes(data)
        current = set(data.devices)
        if current == self._known:
            return
        added = [data.devices[device_id] for device_id in current - self._known]
        gone = self._known - current
        self._known = current
        registry = dr.async_get(self._hass)
        for device_id in gone:
            entry = registry.async_get_device_by_identifier(
                device_identifier(self._unique_id, device_id), self._entry.entry_id
            )
            if entry is not None:
                registry.async_remove_device(entry.id)
        if added:
            register_devices(self._hass, self._entry, data, added)
            for platform, described in DEVICE_ENTITIES.items():
                self.async_announce(platform, described(added))

    @callback
    def _async_follow_scenes(self, data: HubData) -> None:
        """Add scene entities for new scenes; remove those of deleted scenes."""
        current = set(data.scenes)
        added = [data.scenes[scene_id] for scene_id in current - self._scenes]
        gone = self._scenes - current
        self._scenes = current
        entities = er.async_get(self._hass)
        for scene_id in gone:
            if entity_id := entities.async_get_entity_id(
                Platform.SCENE, DOMAIN, f"{self._unique_id}_{scene_key(scene_id)}"
            ):
                entities.async_remove(entity_id)
        if added:
            self.async_announce(Platform.SCENE, scenes_of(added))

    async def async_command(
        self,
        device_id: str,
        command: dict[str, Any],
        followed: Callable[[DeviceState], bool],
    ) -> None:
        """Send one command to a device, then poll until it `followed` it.

        The entity shows only what the hub reports: the follow-up polls run in
        the background and end once the device shows the change (or after a
        few poll intervals). Raises a translated error naming the device when
        the hub cannot be reached or refuses the command.
        """
        device = self._coordinator.data.devices.get(device_id)
        name = device.name if device is not None else device_id
        client = self._coordinator.client
        await self._async_send(name, lambda: client.command([command]))

        def done(data: HubData) -> bool:
            device = data.devices.get(device_id)
            return device is None or followed(device.state)

        self._entry.async_create_background_task(
            self._hass,
            self._coordinator.async_follow_up(done),
            f"{DOMAIN} follow-up {name}",
        )

    async def async_activate_scene(self, scene_id: str) -> None:
        """Run one of the hub's scenes; its devices follow at the next polls."""
        scene = self._coordinator.data.scenes.get(scene_id)
        name = scene.name if scene is not None else scene_id
        client = self._coordinator.client
        await self._async_send(
            name,
            lambda: client.scene_command([{"id": scene_id, "type": "CMD_SCENE_ON"}]),
        )
        self._entry.async_create_background_task(
            self._hass,
            self._coordinator.async_follow_up(
                lambda data: bool(
                    (scene := data.scenes.get(scene_id)) is None or scene.is_on
                )
            ),
            f"{DOMAIN} follow-up {name}",
        )

    async def _async_send(self, name: str, send: Callable[[], Awaitable[None]]) -> None:
        """Send a command; its failures become translated errors naming `name`."""
        coordinator = self._coordinator
        hub = coordinator.data.hub.name
        if not coordinator.answering:
            # Fail fast: the last poll reached the hub neither on the LAN nor
            # through the relay (its values may still be shown for a cycle).
            raise ha_error("cozify_hub_unreachable", name=name, hub=hub)
        try:
            await send()
        except Rejected as err:
            raise ha_error(
                "cozify_command_refused", name=name, reason=str(err)
            ) from err
        except RelayRefused as err:
            raise ha_error("relay_refused", host=hub) from err
        except InvalidAuth as err:
            raise ha_error("cozify_hub_invalid_auth", host=hub) from err
        except GatewayError as err:
            raise ha_error("cozify_command_failed", name=name, error=str(err)) from err

    async def async_diagnostics(self) -> dict[str, Any]:
        """Hub, devices (names and rooms redacted), connection and token figures."""
        coordinator = self._coordinator
        client = coordinator.client
        data = coordinator.data
        hub = data.hub
        return redact_values(
            {
                "hub": {
                    "hub_id": hub.hub_id,
                    "version": hub.version,
                    "api_version": hub.api_version,
                    "connected": hub.connected,
                    "state": hub.state,
                },
                "connection": {
                    "mode": self._entry.data.get("mode"),
                    "route": client.route,
                    "route_history": [
                        {"at": _iso(at), "route": route, "reason": reason}
                        for at, route, reason in client.routes
                    ],
                    "interval_seconds": coordinator.update_interval.total_seconds()
                    if coordinator.update_interval
                    else None,
                    "polls": coordinator.polls,
                    "deltas": coordinator.deltas,
                    "last_update_success": coordinator.last_update_success,
                    "requests": dict(client.requests),
                },
                "tokens": {
                    "cloud_token_renewed_at": _iso(client.token_renewed_at),
                    "cloud_token_expires_at": _iso(client.cloud_token_expires_at),
                    "hub_key_expires_at": _iso(client.hub_key_expires_at),
                },
                "devices": [_device(device) for device in data.devices.values()],
                "rooms": len(data.rooms),
                "scenes": [
                    {"id": scene.id, "is_on": scene.is_on}
                    for scene in data.scenes.values()
                ],
                "unknown_delta_types": sorted(coordinator.unknown_delta_types),
                "unknown_capabilities": sorted(coordinator.unknown_capabilities),
            },
            [
                self._unique_id,
                hub.name,
                self._entry.data.get(CONF_HOST),
                self._entry.data.get(CONF_EMAIL),
            ],
        )


def _identity(device: CozifyDevice) -> tuple[str, str | None, str | None]:
    """Return what the device registry shows: name, manufacturer, model."""
    return (device.name, device.manufacturer, device.model)


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch else None


def _device(device: CozifyDevice) -> dict[str, Any]:
    """Describe a device for diagnostics: ids and capabilities, no name or room."""
    state = device.state
    return {
        "id": device.id,
        "type": device.type,
        "manufacturer": device.manufacturer,
        "model": device.model,
        "name": "**REDACTED**",
        "room": "**REDACTED**" if device.room else None,
        "capabilities": sorted(device.capabilities),
        "state_type": device.state_type,
        "state": {
            field.name: value.isoformat() if isinstance(value, datetime) else value
            for field in fields(state)
            if (value := getattr(state, field.name)) is not None
        },
    }


def register_hub(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry, data: HubData
) -> DeviceEntry:
    """Register (or refresh) the hub's own device."""
    local = entry.data.get("mode") == MODE_LOCAL and entry.data.get(CONF_HOST)
    return dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.data[CONF_HUB_ID])},
        manufacturer=MANUFACTURER,
        model="Cozify Hub",
        name=data.hub.name,
        sw_version=data.hub.version,
        configuration_url=f"{local}/apidoc" if local else None,
    )


def register_devices(
    hass: HomeAssistant,
    entry: EnergyGatewaysConfigEntry,
    data: HubData,
    devices: Sequence[CozifyDevice] | None = None,
) -> None:
    """Register the devices behind the hub (all, or `devices`), linked to it."""
    registry = dr.async_get(hass)
    hub_id = entry.data[CONF_HUB_ID]
    hub = registry.async_get_device_by_identifier((DOMAIN, hub_id), entry.entry_id)
    assert hub is not None
    for device in data.devices.values() if devices is None else devices:
        registry.async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={device_identifier(hub_id, device.id)},
            manufacturer=device.manufacturer or MANUFACTURER,
            model=device.model,
            name=device.name,
            suggested_area=data.room_of(device),
            via_device_id=hub.id,
        )


def remove_stale_devices(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry, data: HubData
) -> None:
    """Remove devices deleted on the hub while the entry was not loaded."""
    registry = dr.async_get(hass)
    hub_id = entry.data[CONF_HUB_ID]
    reported = {(DOMAIN, hub_id)} | {
        device_identifier(hub_id, device_id) for device_id in data.devices
    }
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not device.identifiers & reported:
            registry.async_remove_device(device.id)


async def async_setup(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry
) -> CozifyHubRuntime:
    """Read the hub and its devices, register them, and return the runtime."""
    coordinator = CozifyHubCoordinator(hass, entry, create_client(hass, entry.data))
    await coordinator.async_config_entry_first_refresh()
    register_hub(hass, entry, coordinator.data)
    register_devices(hass, entry, coordinator.data)
    remove_stale_devices(hass, entry, coordinator.data)
    return CozifyHubRuntime(hass, entry, coordinator)
