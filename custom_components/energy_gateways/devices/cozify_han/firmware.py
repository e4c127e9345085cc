"""Firmware and device actions of a HAN reader, as Home Assistant sees them.

Each action talks to the reader through the client and raises translated
Home Assistant errors, so entities and services only call these.
"""

from __future__ import annotations

import asyncio

from ...const import LOGGER
from ...entity import device_errors_as_ha_errors, ha_error
from .coordinator import HanCoordinator
from .models import BUSY, FAILED, READY_TO_REBOOT, REBOOTING, OtaState

# Download and validation of a ~2 MB image over the reader's cloud link.
INSTALL_TIMEOUT = 600.0


def installing(ota: OtaState | None) -> bool:
    """Whether the reader is downloading, validating or rebooting into an image."""
    return ota is not None and ota.status in BUSY


async def async_install(coordinator: HanCoordinator) -> None:
    """Download the offered firmware, then activate it (the reader reboots).

    With the update policy `automatic` the reader activates by itself; with
    `download` or `manual` the image waits in READY_TO_REBOOT and is activated
    here. A failure raises a translated error naming the reader's reason.
    """
    coordinator.data.installing_firmware = True
    try:
        ota = await _async_download_and_activate(coordinator)
    except BaseException:
        coordinator.data.installing_firmware = False
        coordinator.async_publish()
        raise
    LOGGER.info("%s is installing firmware %s", coordinator.name, ota.version)


async def _async_download_and_activate(coordinator: HanCoordinator) -> OtaState:
    client = coordinator.client
    async with device_errors_as_ha_errors(client.host):
        ota = coordinator.data.ota
        if ota is not None and ota.status == FAILED:
            coordinator.async_set_ota(await client.ota_clear())
        if ota is None or ota.status != READY_TO_REBOOT:
            coordinator.async_set_ota(await client.ota_download())
            try:
                async with asyncio.timeout(INSTALL_TIMEOUT):
                    ota = await coordinator.async_wait_for_ota(
                        lambda o: o.status in (READY_TO_REBOOT, REBOOTING, FAILED)
                    )
            except TimeoutError as err:
                raise ha_error("update_timeout", host=client.host) from err
        if ota.status == FAILED:
            raise ha_error("update_failed", error=ota.error or "unknown")
        if ota.status == READY_TO_REBOOT:
            coordinator.async_set_ota(await client.ota_activate())
    return ota


async def async_activate(coordinator: HanCoordinator) -> None:
    """Activate the staged image; the reader reboots into it."""
    async with device_errors_as_ha_errors(coordinator.client.host):
        coordinator.async_set_ota(await coordinator.client.ota_activate())


async def async_clear_failure(coordinator: HanCoordinator) -> None:
    """Acknowledge a failed update so a new one can start."""
    async with device_errors_as_ha_errors(coordinator.client.host):
        coordinator.async_set_ota(await coordinator.client.ota_clear())


async def async_restart(coordinator: HanCoordinator) -> None:
    """Restart the reader; its entities return when it does."""
    async with device_errors_as_ha_errors(coordinator.client.host):
        await coordinator.async_reboot()


async def async_upload(
    coordinator: HanCoordinator, image: bytes, filename: str
) -> None:
    """Send a local firmware image; the reader validates and stages it.

    Readers with only the legacy endpoint install and reboot by themselves.
    """
    data = coordinator.data
    data.uploading_firmware = True
    coordinator.async_publish()
    try:
        async with device_errors_as_ha_errors(coordinator.client.host):
            ota = await coordinator.client.upload_firmware(image, filename)
    finally:
        data.uploading_firmware = False
        coordinator.async_publish()
    if ota is not None:
        coordinator.async_set_ota(ota)
