"""Energy Gateways: energy meters, readers and services in Home Assistant."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .const import CONF_DEVICE_TYPE, DOMAIN
from .devices import DEVICE_TYPES
from .repairs import async_delete_entry_issues
from .runtime import EnergyGatewaysConfigEntry
from .services import async_setup_services

# Every platform any device type uses; each entry forwards only its own.
PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CLIMATE,
    Platform.LIGHT,
    Platform.NUMBER,
    Platform.SCENE,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TODO,
    Platform.UPDATE,
]


CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the service actions (once, for every entry)."""
    async_setup_services(hass)
    return True


def _platforms(entry: EnergyGatewaysConfigEntry) -> list[Platform]:
    wanted = DEVICE_TYPES[entry.data[CONF_DEVICE_TYPE]].platforms
    return [platform for platform in PLATFORMS if platform in wanted]


async def async_setup_entry(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry
) -> bool:
    """Connect to the device, create its entities, then start live updates."""
    device_type = DEVICE_TYPES[entry.data[CONF_DEVICE_TYPE]]
    entry.runtime_data = await device_type.async_setup(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, _platforms(entry))
    entry.runtime_data.async_start()
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry
) -> bool:
    """Unload platforms; the stream task and timers end with the entry."""
    unloaded = await hass.config_entries.async_unload_platforms(
        entry, _platforms(entry)
    )
    if unloaded:
        await entry.runtime_data.async_unload()
    return unloaded


async def async_remove_entry(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry
) -> None:
    """Drop the entry's repair issues and stored data along with it."""
    async_delete_entry_issues(hass, entry.entry_id)
    remove = DEVICE_TYPES[entry.data[CONF_DEVICE_TYPE]].async_remove
    if remove is not None:
        await remove(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry, device: DeviceEntry
) -> bool:
    """Let the user delete a device only once its gateway stopped reporting it."""
    # Unloaded, the entry cannot tell which devices its gateway still has.
    return entry.state is ConfigEntryState.LOADED and (
        entry.runtime_data.async_can_remove_device(device)
    )
