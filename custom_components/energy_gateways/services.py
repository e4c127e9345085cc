"""Service actions of the integration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import probatio as vol

from .const import DOMAIN
from .runtime import DeviceRuntime, EnergyGatewaysConfigEntry

SERVICE_UPLOAD_FIRMWARE = "upload_firmware"
ATTR_DEVICE_ID = "device_id"
ATTR_PATH = "path"
# The reader's OTA slot holds a few MB; anything far larger is not firmware.
MAX_IMAGE_BYTES = 16 * 1024 * 1024

UPLOAD_FIRMWARE_SCHEMA = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): cv.string, vol.Required(ATTR_PATH): cv.string}
)


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def _firmware_runtime(hass: HomeAssistant, device_id: str) -> DeviceRuntime[Any, Any]:
    """Return the loaded runtime owning the device, if it takes firmware files."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise _invalid("unknown_device", device_id=device_id)
    for entry_id in device.config_entries:
        entry: EnergyGatewaysConfigEntry | None = hass.config_entries.async_get_entry(
            entry_id
        )
        if entry is None or entry.domain != DOMAIN:
            continue
        if entry.state is not ConfigEntryState.LOADED:
            raise _invalid("entry_not_loaded", name=entry.title)
        if entry.runtime_data.accepts_firmware_upload:
            return entry.runtime_data
    raise _invalid("wrong_device_type", name=device.name or device_id)


def _read_image(path: Path) -> bytes:
    """Read a firmware image (in the executor), checking size first."""
    if not path.is_file():
        raise _invalid("file_not_found", path=str(path))
    size = path.stat().st_size
    if size == 0:
        raise _invalid("file_empty", path=str(path))
    if size > MAX_IMAGE_BYTES:
        raise _invalid("file_too_large", path=str(path), limit=str(MAX_IMAGE_BYTES))
    return path.read_bytes()


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's service actions."""

    async def upload_firmware(call: ServiceCall) -> None:
        runtime = _firmware_runtime(hass, call.data[ATTR_DEVICE_ID])
        path = Path(call.data[ATTR_PATH])
        if not hass.config.is_allowed_path(str(path)):
            raise _invalid("path_not_allowed", path=str(path))
        image = await hass.async_add_executor_job(_read_image, path)
        await runtime.async_upload_firmware(image, path.name)

    hass.services.async_register(
        DOMAIN, SERVICE_UPLOAD_FIRMWARE, upload_firmware, schema=UPLOAD_FIRMWARE_SCHEMA
    )
