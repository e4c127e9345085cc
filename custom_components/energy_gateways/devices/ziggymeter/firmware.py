"""Firmware upload to a ZiggyMeter, paced so the reader does not refuse it.

The reader takes an image as one raw request body and reports an error when the
bytes arrive too fast, so they are sent evenly at the configured rate (1 MiB
takes about 17 minutes at the vendor's 1024 B/s). The upload runs as a
background task of the entry: a caller that stops waiting does not stop it; an
unload does. Routine polling pauses meanwhile, the update entity shows the
progress, and the upload ends only when the reader is back with a new build.
"""

from __future__ import annotations

import asyncio
import time

from ...const import DOMAIN, LOGGER
from ...entity import ha_error
from ...transport.errors import GatewayError, InvalidAuth, Rejected
from .coordinator import ZiggyCoordinator
from .models import Status, Version
from .options_flow import UPLOAD_RATE

RESTART_TIMEOUT = 120.0
"""Seconds the reader may take to restart into a new image and answer again."""
RESTART_POLL = 2.0
"""Seconds between checks while it restarts."""


class FirmwareUploader:
    """One upload at a time for one reader."""

    def __init__(self, coordinator: ZiggyCoordinator) -> None:
        self._coordinator = coordinator
        self._task: asyncio.Task[Version] | None = None

    async def async_upload(self, image: bytes) -> None:
        """Upload and install `image`; return once the reader runs it.

        Raises translated errors: another upload running, the reader refusing
        the image (too fast, not an image), no restart in time, the same build
        as before.
        """
        coordinator = self._coordinator
        if self._task is not None:
            raise ha_error("upload_in_progress", name=coordinator.name)
        entry = coordinator.config_entry
        assert entry is not None
        task = entry.async_create_background_task(
            coordinator.hass,
            self._async_run(image, UPLOAD_RATE.value(entry.options)),
            f"{DOMAIN} firmware upload {coordinator.name}",
        )
        self._task = task
        try:
            version = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():  # the entry unloaded, not the caller
                raise ha_error("upload_cancelled", name=coordinator.name) from None
            raise
        LOGGER.info(
            "%s now runs firmware %s (build %s)",
            coordinator.name,
            version.firmware_version,
            version.build_number,
        )

    async def _async_run(self, image: bytes, rate: int) -> Version:
        coordinator = self._coordinator
        client = coordinator.client
        before = coordinator.data
        build = before.version.build_number if before.version else None
        version: Version | None = None
        coordinator.async_start_upload(len(image))
        try:
            try:
                await client.upload_firmware(
                    image, rate=rate, progress=coordinator.async_upload_progress
                )
            except Rejected as err:
                raise ha_error(
                    "upload_refused", host=coordinator.host, reason=str(err)
                ) from err
            except GatewayError as err:
                raise ha_error(
                    "cannot_connect", host=coordinator.host, error=str(err)
                ) from err
            sent_at = time.monotonic()
            coordinator.async_upload_sent()
            version = await self._async_wait_for_restart(before.status, sent_at)
            if build is not None and version.build_number == build:
                raise ha_error(
                    "firmware_unchanged", host=coordinator.host, build=str(build)
                )
            return version
        finally:
            self._task = None
            coordinator.async_end_upload(version)
            await coordinator.async_request_refresh()

    async def _async_wait_for_restart(self, before: Status, sent_at: float) -> Version:
        """Wait until the reader answers after a restart; return its version.

        A restart shows as an uptime below the one the reader would have had
        without it (or, when it reports none, as a spell without answers).
        """
        client = self._coordinator.client
        away = False
        try:
            async with asyncio.timeout(RESTART_TIMEOUT):
                while True:
                    await asyncio.sleep(RESTART_POLL)
                    try:
                        status = await client.get_status()
                    except InvalidAuth:
                        raise
                    except GatewayError:
                        away = True
                        continue
                    if _restarted(before, status, time.monotonic() - sent_at, away):
                        return await client.get_version()
        except TimeoutError as err:
            raise ha_error("restart_timeout", host=self._coordinator.host) from err
        except GatewayError as err:
            raise ha_error(
                "cannot_connect", host=self._coordinator.host, error=str(err)
            ) from err


def _restarted(before: Status, now: Status, since: float, away: bool) -> bool:
    if before.uptime is None or now.uptime is None:
        return away
    # Without a restart the uptime would be at least the old one plus the
    # time since the last byte; a restarted reader counts from 0.
    return now.uptime < before.uptime + since - RESTART_POLL
