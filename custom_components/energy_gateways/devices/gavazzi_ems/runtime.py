"""Sets up one EMS gateway entry and keeps its devices in step with the gateway.

The gateway's meters come and go (a Modbus meter is added or taken out): each
time the coordinator reads a changed tree, new meters are registered and get
their entities without a reload, and meters the gateway no longer reports are
removed with their entities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_USERNAME, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntry, DeviceInfo

from ...const import DOMAIN
from ...diagnostics import redact_values
from ...entity import GatewayEntityDescription
from ...runtime import DeviceRuntime, EnergyGatewaysConfigEntry
from .connection import create_client
from .coordinator import EmsCoordinator
from .data import Configuration, EmsData
from .entities import (
    GATEWAY,
    GATEWAY_BINARY_SENSORS,
    GATEWAY_SENSORS,
    signal_descriptions,
    signal_name,
)

MANUFACTURER = "Carlo Gavazzi"
LOAD_KEYS_TO_REDACT = {"ip", "serial"}
PLATFORMS = frozenset({Platform.BINARY_SENSOR, Platform.SENSOR})


class EmsRuntime(DeviceRuntime[EmsData, EmsCoordinator]):
    """A loaded EMS gateway entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyGatewaysConfigEntry,
        coordinator: EmsCoordinator,
    ) -> None:
        super().__init__(hass, entry, coordinator)
        self._configuration = coordinator.data.configuration
        self._firmware = coordinator.data.gateway.firmware
        self._signals = set(self._configuration.active_signals)

    def device_info(self, device: str) -> DeviceInfo:
        """Return a reference to the gateway or to one of its meters."""
        if device == GATEWAY:
            return DeviceInfo(identifiers={(DOMAIN, self._unique_id)})
        return DeviceInfo(identifiers={meter_identifier(self._unique_id, device)})

    def descriptions(
        self, platform: Platform
    ) -> Sequence[GatewayEntityDescription[EmsData]]:
        """Return the gateway's own entities plus one sensor per active signal."""
        if platform is Platform.BINARY_SENSOR:
            return GATEWAY_BINARY_SENSORS
        return (
            *GATEWAY_SENSORS,
            *signal_descriptions(self._configuration, self._coordinator.data.values),
        )

    def async_can_remove_device(self, device: DeviceEntry) -> bool:
        """Allow deleting a meter once the gateway no longer reports it."""
        return not device.identifiers & reported_identifiers(
            self._unique_id, self._configuration
        )

    def async_start(self) -> None:
        """Follow tree changes; import the history now and every hour."""
        self._entry.async_on_unload(
            self._coordinator.async_add_listener(self._async_follow_configuration)
        )
        history = self._coordinator.history
        history.async_start()
        history.async_schedule_hourly(history.async_start)

    @callback
    def _async_follow_configuration(self) -> None:
        """Add and remove devices and entities when the gateway's tree changed.

        A relabelled load renames its meter's device (the sensors' names follow
        the device); only sensors that name their load themselves (a meter with
        several loads) need a reload to be renamed.
        """
        data = self._coordinator.data
        configuration = data.configuration
        if configuration is self._configuration:
            if data.gateway.firmware != self._firmware:
                # A firmware update: the gateway device shows the new version.
                self._firmware = data.gateway.firmware
                register_devices(self._hass, self._entry, data)
            return
        renamed = _renamed(self._configuration, configuration)
        self._configuration = configuration
        self._firmware = data.gateway.firmware
        register_devices(self._hass, self._entry, data)
        active = set(configuration.active_signals)
        added, gone = active - self._signals, self._signals - active
        self._signals = active
        entities = er.async_get(self._hass)
        for uid in gone:
            entity_id = entities.async_get_entity_id(
                Platform.SENSOR, DOMAIN, f"{self._unique_id}_{uid}"
            )
            if entity_id is not None:
                entities.async_remove(entity_id)
        if renamed:
            # Names are fixed when an entity is added: a reload renames them.
            self._hass.config_entries.async_schedule_reload(self._entry.entry_id)
        elif added:
            descriptions = signal_descriptions(configuration, data.values, added)
            self.async_announce(Platform.SENSOR, descriptions)

    async def async_diagnostics(self) -> dict[str, Any]:
        """Gateway, tree, latest samples and polling figures; identifiers scrubbed."""
        data = self._coordinator.data
        client = self._coordinator.client
        gateway = data.gateway
        expires_at = client.token_expires_at
        configuration = data.configuration
        return redact_values(
            {
                "gateway": _plain(gateway),
                "polling": {
                    **self._coordinator.stats.as_dict(),
                    "interval_seconds": self._coordinator.update_interval.total_seconds()
                    if self._coordinator.update_interval
                    else None,
                    "last_update_success": self._coordinator.last_update_success,
                    "requests": client.requests,
                    "logins": client.logins,
                },
                "token": {
                    "expires_at": datetime.fromtimestamp(expires_at, UTC).isoformat()
                    if expires_at is not None
                    else None,
                },
                "devices": [
                    _plain(device) for device in configuration.devices.values()
                ],
                # Protocol blocks can hold a Modbus meter's IP address.
                "loads": async_redact_data(
                    [_plain(load) for load in configuration.loads.values()],
                    LOAD_KEYS_TO_REDACT,
                ),
                "signals": [
                    {
                        **_plain(signal),
                        "sample": _plain(data.samples[uid])
                        if uid in data.samples
                        else None,
                        "stale": uid in data.stale,
                    }
                    for uid, signal in configuration.signals.items()
                ],
                "unknown_signal_codes": configuration.unknown_codes(),
            },
            [
                self._unique_id,
                gateway.serial_number,
                gateway.mac,
                (gateway.mac or "").replace(":", ""),
                self._entry.data[CONF_HOST],
                self._entry.data[CONF_USERNAME],
            ],
        )


def _renamed(old: Configuration, new: Configuration) -> bool:
    """Whether a sensor both trees have would get another name of its own."""
    return any(
        uid in new.active_signals
        and signal_name(old, signal) != signal_name(new, new.active_signals[uid])
        for uid, signal in old.active_signals.items()
    )


def _plain(item: Any) -> dict[str, Any]:
    """Return a dataclass as JSON-friendly values (datetimes as ISO strings)."""

    def convert(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {key: convert(inner) for key, inner in value.items()}
        if isinstance(value, list | tuple):
            return [convert(inner) for inner in value]
        return value

    result: dict[str, Any] = convert(asdict(item))
    return result


def meter_identifier(serial: str, uid: int | str) -> tuple[str, str]:
    """Return the device-registry identifier of a meter behind the gateway."""
    return (DOMAIN, f"{serial}_{uid}")


def reported_identifiers(
    serial: str, configuration: Configuration
) -> set[tuple[str, str]]:
    """Return the identifiers of the gateway and of every meter it reports."""
    return {
        (DOMAIN, serial),
        *(meter_identifier(serial, uid) for uid in configuration.devices),
    }


def register_devices(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry, data: EmsData
) -> None:
    """Register the gateway and each meter behind it; drop meters that are gone."""
    registry = dr.async_get(hass)
    gateway = data.gateway
    serial = gateway.serial_number
    hub = registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, serial)},
        connections={(dr.CONNECTION_NETWORK_MAC, dr.format_mac(gateway.mac))}
        if gateway.mac
        else set(),
        manufacturer=MANUFACTURER,
        model=gateway.part_number,
        name=entry.title,
        serial_number=serial,
        sw_version=gateway.firmware,
        configuration_url=entry.data[CONF_HOST],
    )
    configuration = data.configuration
    for uid, device in configuration.devices.items():
        model = device.part_number
        if model and device.system:
            model = f"{model} ({device.system})"
        loads = configuration.enabled_loads.get(uid, [])
        registry.async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={meter_identifier(serial, uid)},
            # Named after what it measures; a name the user gave is kept.
            name=configuration.device_name(device),
            # A P1 port reads the grid operator's meter, not a Carlo Gavazzi one.
            manufacturer=None
            if loads and all(load.protocol == "P1" for load in loads)
            else MANUFACTURER,
            model=model,
            # The API reports no serial number for the meters behind the gateway.
            via_device_id=hub.id,
        )
    wanted = reported_identifiers(serial, configuration)
    for device_entry in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if device_entry.id != hub.id and not device_entry.identifiers & wanted:
            registry.async_update_device(
                device_entry.id, remove_config_entry_id=entry.entry_id
            )


async def async_setup(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry
) -> EmsRuntime:
    """Log in, read the gateway, register its devices and return the runtime."""
    coordinator = EmsCoordinator(hass, entry, create_client(hass, entry.data))
    await coordinator.async_config_entry_first_refresh()
    register_devices(hass, entry, coordinator.data)
    return EmsRuntime(hass, entry, coordinator)
