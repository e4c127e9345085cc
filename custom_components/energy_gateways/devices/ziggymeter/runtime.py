"""Sets up one ZiggyMeter entry: start from the stored values, poll, upload.

A reader on batteries may be asleep when Home Assistant starts. The entry then
starts from the values stored when it was last seen and waits for it, instead
of failing set-up over and over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_USERNAME, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

from ...const import DOMAIN, LOGGER
from ...diagnostics import redact_values
from ...entity import GatewayEntityDescription
from ...runtime import DeviceRuntime, EnergyGatewaysConfigEntry
from .connection import CONF_LOGIN_PATH, create_client
from .coordinator import ZiggyCoordinator
from .data import ZiggyData, ZiggyStore
from .entities import FIRMWARE, sensor_descriptions, status_keys
from .firmware import FirmwareUploader

MANUFACTURER = "ZiggyMeter"
MODEL = "ZG-400"
PLATFORMS = frozenset({Platform.SENSOR, Platform.UPDATE})
STATUS_KEYS_TO_REDACT = {"ssid", "ip", "serial", "mac", "id"}


class ZiggyRuntime(DeviceRuntime[ZiggyData, ZiggyCoordinator]):
    """A loaded ZiggyMeter entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyGatewaysConfigEntry,
        coordinator: ZiggyCoordinator,
    ) -> None:
        super().__init__(hass, entry, coordinator)
        self._keys = status_keys(coordinator.data)
        self._firmware = _firmware(coordinator.data)
        self.uploader = FirmwareUploader(coordinator)

    def device_info(self, device: str) -> DeviceInfo:
        """Return a reference to the reader (the entry's only device)."""
        return DeviceInfo(identifiers={(DOMAIN, self._unique_id)})

    def descriptions(
        self, platform: Platform
    ) -> Sequence[GatewayEntityDescription[ZiggyData]]:
        """Return the firmware entity, or a sensor per status key the reader sends."""
        if platform is Platform.UPDATE:
            return (FIRMWARE,)
        return sensor_descriptions(self._coordinator.data)

    def async_start(self) -> None:
        """Follow new status keys, firmware versions and the login path."""
        self._entry.async_on_unload(
            self._coordinator.async_add_listener(self._async_follow)
        )

    @callback
    def _async_follow(self) -> None:
        data = self._coordinator.data
        keys = status_keys(data)
        if added := keys - self._keys:
            self._keys |= added
            self.async_announce(Platform.SENSOR, sensor_descriptions(data, added))
        if (firmware := _firmware(data)) != self._firmware:
            self._firmware = firmware
            register_device(self._hass, self._entry, data)
        login_path = self._coordinator.client.login_path
        if login_path and login_path != self._entry.data.get(CONF_LOGIN_PATH):
            # Remember the path that works, so the next start tries it first.
            self._hass.config_entries.async_update_entry(
                self._entry, data={**self._entry.data, CONF_LOGIN_PATH: login_path}
            )

    async def async_unload(self) -> None:
        """Log out, so the reader frees the session at once.

        Not while it does not answer (asleep on batteries, or gone): its WiFi is
        off, the attempt would only hold up the unload, and the token expires.
        """
        if self._coordinator.answering:
            await self._coordinator.client.logout()

    accepts_firmware_upload = True

    async def async_upload_firmware(self, image: bytes, filename: str) -> None:
        """Upload an image at the configured rate; return once the reader runs it."""
        await self.uploader.async_upload(image)

    async def async_diagnostics(self) -> dict[str, Any]:
        """Raw status and version, polling, login path, power-source history."""
        coordinator = self._coordinator
        data = coordinator.data
        client = coordinator.client
        return redact_values(
            {
                "status": async_redact_data(
                    dict(data.status.raw), STATUS_KEYS_TO_REDACT
                ),
                "version": dict(data.version.raw) if data.version else None,
                "last_seen": data.last_seen.isoformat(),
                "power_sources": [
                    {"since": at.isoformat(), "source": source}
                    for at, source in data.sources
                ],
                "polling": {
                    "interval_seconds": coordinator.update_interval.total_seconds()
                    if coordinator.update_interval
                    else None,
                    "polls": coordinator.polls,
                    "last_update_success": coordinator.last_update_success,
                    "asleep_within_patience": coordinator.asleep_within_patience(),
                    "requests": client.requests,
                    "logins": client.logins,
                    "login_path": client.login_path,
                },
                "upload": {
                    "size": data.upload.size,
                    "sent": data.upload.sent,
                    "rebooting": data.upload.rebooting,
                }
                if data.upload
                else None,
            },
            [
                self._unique_id,
                data.status.identifier,
                data.status.wifi_ip,
                data.status.wifi_ssid,
                self._entry.data[CONF_HOST],
                self._entry.data[CONF_USERNAME],
            ],
        )


def _firmware(data: ZiggyData) -> str | None:
    return data.version.firmware_version if data.version else None


def register_device(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry, data: ZiggyData
) -> None:
    """Register (or update) the reader in the device registry."""
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, str(entry.unique_id))},
        manufacturer=MANUFACTURER,
        model=MODEL,
        name=entry.title,
        serial_number=data.status.identifier,
        sw_version=_firmware(data),
        configuration_url=f"{entry.data[CONF_HOST]}/",
    )


async def async_setup(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry
) -> ZiggyRuntime:
    """Start from the stored values, read the reader, return the runtime."""
    store = ZiggyStore(hass, entry.entry_id)
    restored = await store.async_load()
    coordinator = ZiggyCoordinator(
        hass, entry, create_client(hass, entry.data), store, restored
    )
    try:
        await coordinator.async_config_entry_first_refresh()
    except ConfigEntryNotReady:
        if restored is None or not restored.on_battery:
            raise
        # Asleep for longer than the values are kept: wait for it without
        # failing set-up again and again; its entities are unavailable.
        LOGGER.debug("%s is asleep; waiting for it to wake", entry.title)
    register_device(hass, entry, coordinator.data)
    return ZiggyRuntime(hass, entry, coordinator)


async def async_remove(hass: HomeAssistant, entry: EnergyGatewaysConfigEntry) -> None:
    """Delete the stored values of a removed entry."""
    await ZiggyStore(hass, entry.entry_id).async_remove()
