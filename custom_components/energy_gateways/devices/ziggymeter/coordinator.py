"""Polls one ZiggyMeter, patiently while it sleeps on batteries.

On USB power the reader is always online: it is read every 30 s and, when it
stops answering, its entities go unavailable at once (Home Assistant logs that
once, and once when it is back). On batteries it sleeps deeply between meter
readings and answers only now and then: it is tried every 5 minutes, failures
are expected (debug log only) and the last values stay for up to 24 hours,
across Home Assistant restarts. A garbled answer on USB is held like every
polled device's: one bad cycle keeps the last values.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from ...const import LOGGER
from ...coordinator import PollingCoordinator, polling_error
from ...runtime import EnergyGatewaysConfigEntry
from ...totals import MonotonicTotals
from ...transport.errors import (
    CannotConnect,
    GatewayError,
    InvalidResponse,
)
from .client import ZiggyClient
from .data import SOURCE_HISTORY, Upload, ZiggyData, ZiggyStore
from .models import Status, Version
from .options_flow import BATTERY_INTERVAL, KEEP_HOURS, USB_INTERVAL

ENERGY_FIELDS = ("energy_import", "energy_export")
BOOT_JITTER = timedelta(seconds=60)
"""A start time computed from the uptime that moves less than this is the same
start (the uptime and the poll are not read at the same instant)."""


class ZiggyCoordinator(PollingCoordinator[ZiggyData]):
    """Data of one ZiggyMeter, read over its REST API."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyGatewaysConfigEntry,
        client: ZiggyClient,
        store: ZiggyStore,
        restored: ZiggyData | None,
    ) -> None:
        options = entry.options
        self._usb_interval = timedelta(seconds=USB_INTERVAL.value(options))
        self._battery_interval = timedelta(seconds=BATTERY_INTERVAL.value(options))
        self._keep = timedelta(hours=KEEP_HOURS.value(options))
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=self._usb_interval,
            always_update=False,
        )
        self.client = client
        self._store = store
        self._totals = MonotonicTotals(entry.title)
        if restored is not None:
            # Start from what the reader said last; its totals only go up.
            for key in ENERGY_FIELDS:
                self._totals.accept(key, restored.energy.get(key))
            self.data = restored
            self.update_interval = self._interval(restored.status)

    @property
    def host(self) -> str:
        """The reader's address, for messages."""
        assert self.config_entry is not None
        return str(self.config_entry.data[CONF_HOST])

    async def async_shutdown(self) -> None:
        """Stop polling; keep the last values on disk for the next start."""
        await super().async_shutdown()
        if self.data is not None:
            await self._store.async_save_now(self.data)

    @property
    def uploading(self) -> bool:
        """Whether a firmware upload runs (routine polling is paused meanwhile)."""
        return self.data is not None and self.data.upload is not None

    def _interval(self, status: Status) -> timedelta:
        if status.power_source == "battery":
            return self._battery_interval
        return self._usb_interval

    def asleep_within_patience(self) -> bool:
        """Whether the reader is on batteries and was seen recently enough.

        Then a failed read is expected and the last values stay.
        """
        data = self.data
        return (
            data is not None
            and data.on_battery
            and dt_util.utcnow() - data.last_seen < self._keep
        )

    def _keep_last_values(self, err: UpdateFailed, failed_cycles: int) -> bool:
        if self.asleep_within_patience():
            return True
        if isinstance(err.__cause__, CannotConnect):
            # Always online on USB: not answering means it is gone.
            return False
        return super()._keep_last_values(err, failed_cycles)

    async def _async_poll(self) -> ZiggyData:
        if self.uploading:
            return self.data  # the upload owns the reader until it is back
        try:
            status = await self.client.get_status()
            version = await self._async_version(status)
        except GatewayError as err:
            raise polling_error(err, self.host, "ziggymeter_invalid_auth") from err
        return self._apply(status, version)

    async def _async_version(self, status: Status) -> Version | None:
        """Read the firmware version at the start and after every restart."""
        data = self.data
        if (
            data is not None
            and data.version is not None
            and not _restarted(data.status, status)
        ):
            return data.version
        try:
            return await self.client.get_version()
        except InvalidResponse as err:
            # Not every firmware may offer it; the meter data matters more.
            LOGGER.debug("%s: no firmware version (%s)", self.name, err)
            return data.version if data is not None else None

    def _apply(self, status: Status, version: Version | None) -> ZiggyData:
        now = dt_util.utcnow()
        previous = self.data
        sources = list(previous.sources) if previous is not None else []
        if not sources or sources[-1][1] != status.power_source:
            sources = [*sources, (now, status.power_source)][-SOURCE_HISTORY:]
            if previous is not None:
                LOGGER.debug(
                    "%s now runs on %s", self.name, status.power_source or "unknown"
                )
        self.update_interval = self._interval(status)
        data = ZiggyData(
            status=status,
            version=version,
            last_seen=now,
            energy={
                key: self._totals.accept(key, getattr(status, key))
                for key in ENERGY_FIELDS
            },
            booted=_booted(
                now, status, previous.booted if previous is not None else None
            ),
            sources=sources,
        )
        self._store.async_save(data)
        return data

    # -- firmware upload ----------------------------------------------------

    @callback
    def async_start_upload(self, size: int) -> None:
        """Pause polling and show the upload's progress from 0 %."""
        self.data.upload = Upload(size=size)
        self.async_update_listeners()

    @callback
    def async_upload_progress(self, sent: int) -> None:
        """Show the bytes sent (only whole-percent changes are written)."""
        upload = self.data.upload
        assert upload is not None  # called by the running upload only
        before = upload.percentage
        upload.sent = sent
        if upload.percentage != before:
            self.async_update_listeners()

    @callback
    def async_upload_sent(self) -> None:
        """All bytes are sent: the reader restarts into the image."""
        upload = self.data.upload
        assert upload is not None  # called by the running upload only
        upload.sent = upload.size
        upload.rebooting = True
        self.async_update_listeners()

    @callback
    def async_end_upload(self, version: Version | None) -> None:
        """Resume polling; show the version the reader came back with."""
        data = self.data
        data.upload = None
        if version is not None:
            data.version = version
        self.async_update_listeners()


def _restarted(before: Status, now: Status) -> bool:
    """Whether the uptime went back: the reader restarted (new firmware?)."""
    return (
        before.uptime is not None
        and now.uptime is not None
        and now.uptime < before.uptime
    )


def _booted(
    now: datetime, status: Status, previous: datetime | None
) -> datetime | None:
    if status.uptime is None:
        return previous
    booted = (now - timedelta(seconds=status.uptime)).replace(microsecond=0)
    if previous is not None and abs(booted - previous) < BOOT_JITTER:
        return previous
    return booted
