"""Sets up one HAN reader entry: client, coordinator, devices, entities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_time_interval

from ...const import DOMAIN
from ...diagnostics import redact_values
from ...entity import GatewayEntityDescription
from ...runtime import DeviceRuntime, EnergyGatewaysConfigEntry
from ...transport.errors import GatewayError
from ...transport.values import as_str, mapping
from . import firmware
from .client import HanClient
from .coordinator import SLOW_POLL_INTERVAL, HanCoordinator
from .data import HanData
from .entities import (
    BINARY_SENSORS,
    BUTTONS,
    COST_SENSORS,
    METER,
    PRICE_SENSORS,
    SENSORS,
    UPDATES,
)
from .settings import NUMBERS, SELECTS, SWITCHES

MANUFACTURER = "Cozify"
# Addresses inside the configuration's Ethernet/WiFi objects (`n`); `p` there is
# already masked by the reader, and top-level `p` is the fixed price, not a secret.
NETWORK_KEYS_TO_REDACT = {"ip", "gw", "dns", "ethIp", "wifiIp", "mac", "serial"}
RAW_DIAGNOSTIC_BYTES = 256
# DLMS/COSEM FLAG manufacturer ids of meters common behind Nordic HAN ports.
METER_MANUFACTURERS = {
    "ADN": "Aidon",
    "ISK": "Iskraemeco",
    "KAM": "Kamstrup",
    "KFM": "Kaifa",
    "LGZ": "Landis+Gyr",
}


DESCRIPTIONS: dict[Platform, Sequence[GatewayEntityDescription[HanData]]] = {
    Platform.SENSOR: (*SENSORS, *PRICE_SENSORS, *COST_SENSORS),
    Platform.BINARY_SENSOR: BINARY_SENSORS,
    Platform.BUTTON: BUTTONS,
    Platform.UPDATE: UPDATES,
    Platform.SELECT: SELECTS,
    Platform.NUMBER: NUMBERS,
    Platform.SWITCH: SWITCHES,
}


class HanRuntime(DeviceRuntime[HanData, HanCoordinator]):
    """A loaded HAN reader entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyGatewaysConfigEntry,
        coordinator: HanCoordinator,
    ) -> None:
        super().__init__(hass, entry, coordinator)

    def device_info(self, device: str) -> DeviceInfo:
        """Return a reference to the reader or meter device registered at setup."""
        suffix = "_meter" if device == METER else ""
        return DeviceInfo(identifiers={(DOMAIN, f"{self._unique_id}{suffix}")})

    def descriptions(
        self, platform: Platform
    ) -> Sequence[GatewayEntityDescription[HanData]]:
        """Return the reader's entity descriptions for one platform."""
        return DESCRIPTIONS.get(platform, ())

    def async_start(self) -> None:
        """Open the push stream and start the slow health/price poll."""
        self._coordinator.async_start_stream()
        self._entry.async_on_unload(
            async_track_time_interval(
                self._hass,
                self._coordinator.async_poll_slow,
                SLOW_POLL_INTERVAL,
                name=f"{DOMAIN} slow poll {self._entry.title}",
                cancel_on_shutdown=True,
            )
        )
        self._coordinator.history.async_schedule_hourly(
            self._coordinator.async_start_history_import
        )

    accepts_firmware_upload = True

    async def async_upload_firmware(self, image: bytes, filename: str) -> None:
        """Upload an image over the reader's OTA endpoint and install it."""
        await firmware.async_upload(self._coordinator, image, filename)

    async def async_reboot(self) -> None:
        """Restart the reader (fixes the "restart needed" repair issue)."""
        await self._coordinator.async_reboot()

    async def async_diagnostics(self) -> dict[str, Any]:
        """Latest payloads, telegram and connection figures, identifiers scrubbed."""
        client = self._coordinator.client
        try:
            telegram: str | None = await client.get_telegram()
        except GatewayError as err:
            telegram = f"unavailable: {err}"
        try:
            raw: str | None = (await client.get_raw())[:RAW_DIAGNOSTIC_BYTES].hex(" ")
        except GatewayError as err:
            raw = f"unavailable: {err}"
        data = self._coordinator.data
        info = data.info
        identity = data.identity
        mac = info.mac or ""
        wifi = mapping(data.configuration.raw.get("w")) if data.configuration else {}
        secrets = [
            as_str(wifi.get("s")),  # the SSID locates the home
            self._unique_id,
            info.serial,
            mac,
            mac.replace(":", ""),
            info.name,
            info.eth_ip,
            info.wifi_ip,
            client.host,
            identity.meter_id if identity else None,
            *(
                str(p.get("uuid"))
                for p in client.last_payloads.values()
                if p.get("uuid")
            ),
        ]
        return redact_values(
            {
                "connection": {
                    **self._coordinator.stats.as_dict(),
                    "link_up": self._coordinator.link_up,
                    "malformed_messages": client.malformed_messages,
                    "unknown_messages": client.unknown_messages,
                },
                "payloads": {
                    kind: async_redact_data(payload, NETWORK_KEYS_TO_REDACT)
                    for kind, payload in client.last_payloads.items()
                },
                "telegram": telegram,
                "raw_head_hex": raw,
            },
            secrets,
        )


async def async_setup(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry
) -> HanRuntime:
    """Read the reader, register its devices and return the runtime."""
    client = HanClient(
        async_get_clientsession(hass),
        entry.data[CONF_HOST],
        entry.data.get(CONF_PORT, 80),
    )
    coordinator = HanCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    _register_devices(hass, entry, coordinator.data, client)
    _remove_retired_entities(hass, entry)
    return HanRuntime(hass, entry, coordinator)


RETIRED_ENTITIES = (("sensor", "main_fuse"),)
"""(platform, key) of entities earlier versions created: the main-fuse sensor
repeated the main-fuse number, which shows and sets the same value."""


def _remove_retired_entities(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry
) -> None:
    registry = er.async_get(hass)
    for platform, key in RETIRED_ENTITIES:
        entity_id = registry.async_get_entity_id(
            platform, DOMAIN, f"{entry.unique_id}_{key}"
        )
        if entity_id is not None:
            registry.async_remove(entity_id)


def _register_devices(
    hass: HomeAssistant,
    entry: EnergyGatewaysConfigEntry,
    data: HanData,
    client: HanClient,
) -> None:
    """Register the reader, then the meter behind it linked by via_device_id."""
    registry = dr.async_get(hass)
    info = data.info
    unique_id = str(entry.unique_id)
    reader = registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, unique_id)},
        connections={(dr.CONNECTION_NETWORK_MAC, dr.format_mac(info.mac))}
        if info.mac
        else set(),
        manufacturer=MANUFACTURER,
        model=info.model or "HAN",
        name=info.name or entry.title,
        serial_number=info.serial,
        sw_version=info.version,
        configuration_url=f"{client.base_url}/",
    )
    identity = data.identity
    registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{unique_id}_meter")},
        translation_key="meter",
        manufacturer=METER_MANUFACTURERS.get(
            identity.manufacturer_id or "", identity.manufacturer_id
        )
        if identity
        else None,
        model=identity.meter_name if identity else None,
        serial_number=identity.meter_id if identity else None,
        via_device_id=reader.id,
    )
