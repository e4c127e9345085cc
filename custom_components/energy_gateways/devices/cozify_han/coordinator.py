"""Keeps one HAN reader's data current from its push stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
import time
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from ...const import DOMAIN, LOGGER
from ...coordinator import PushCoordinator, read_or_keep, update_failed
from ...repairs import async_create_reboot_issue, async_delete_reboot_issue
from ...statistics import HistoryImporter
from ...totals import MonotonicTotals
from ...transport.errors import GatewayError
from .client import HanClient, Transport
from .data import HanData
from .history import async_import_history
from .models import (
    REBOOTING,
    Configuration,
    HanInfo,
    HanMessage,
    Health,
    MeterReading,
    OtaState,
)

# The H1 interface sends instantaneous values at least every 10 s.
METER_INTERVAL = timedelta(seconds=10)
# Three missed readings mean the stream is dead even if the socket looks open.
WATCHDOG = 3 * METER_INTERVAL
# Health and prices are not pushed; read them at a pace that spares the reader.
SLOW_POLL_INTERVAL = timedelta(seconds=60)
# Uptime-derived boot times jitter by the request latency; ignore small changes.
_BOOT_TIME_TOLERANCE = timedelta(seconds=60)


class HanCoordinator(PushCoordinator[HanData, HanMessage]):
    """Data of one HAN reader: a REST snapshot at setup, then the push stream."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: HanClient
    ) -> None:
        super().__init__(
            hass,
            entry,
            name=entry.title,
            transports=list(Transport),
            watchdog_seconds=WATCHDOG.total_seconds(),
        )
        self.client = client
        self._totals = MonotonicTotals(entry.title)
        self.history = HistoryImporter(
            hass, entry, entry.title, self._async_import_history
        )
        self._ota_waiters: set[asyncio.Future[None]] = set()
        # When a write answered rebootRequired (monotonic s); None: no restart due.
        self._reboot_required_since: float | None = None

    async def _async_update_data(self) -> HanData:
        """Read everything over REST (first refresh, and on request)."""
        try:
            info = await self.client.get_info()
        except GatewayError as err:
            raise update_failed(err, self.client.host) from err
        assert self.config_entry is not None
        if info.unique_id != self.config_entry.unique_id:
            # Another reader took this address; DHCP discovery or reconfigure fixes it.
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="wrong_device",
                translation_placeholders={"host": self.client.host},
            )
        data = self.data if self.data is not None else HanData(info=info)
        self._apply_info(data, info)
        meter = await read_or_keep(self.client.get_meter(), None)
        if meter is not None:
            data.meter = self._guard(meter)
        await self._async_read_slow_data(data)
        return data

    async def _async_read_slow_data(self, data: HanData) -> None:
        """Re-read what changes rarely or is not pushed; failures keep old values."""
        client = self.client
        identity, firmware, configuration, ota, definitions, _ = await asyncio.gather(
            read_or_keep(client.get_meter_identity(), None),
            read_or_keep(client.get_firmware(), None),
            read_or_keep(client.get_configuration(), None),
            read_or_keep(client.get_ota(), None),
            read_or_keep(client.get_definitions(), None),
            self._async_read_unpushed(data),
        )
        data.identity = identity or data.identity
        data.firmware = firmware or data.firmware
        data.configuration = configuration or data.configuration
        data.ota = ota or data.ota
        data.definitions = definitions or data.definitions

    async def _async_read_unpushed(self, data: HanData) -> bool:
        """Read health, prices and estimated costs; True if any arrived."""
        client = self.client
        health, prices, compact = await asyncio.gather(
            read_or_keep(client.get_health(), None),
            read_or_keep(client.get_prices(), None),
            read_or_keep(client.get_data(), None),
        )
        if health is not None:
            self._apply_health(data, health)
        data.prices = prices or data.prices
        data.compact = compact or data.compact
        return health is not None or prices is not None or compact is not None

    async def async_poll_slow(self, _now: datetime | None = None) -> None:
        """Refresh what is not pushed; the stream's watchdog decides availability."""
        if self.link_up and await self._async_read_unpushed(self.data):
            self.async_publish()

    def _async_open_stream(self, transport: str) -> AsyncGenerator[HanMessage]:
        return self.client.messages(Transport(transport))

    async def _async_stream_connected(self, reconnect: bool) -> None:
        self.async_start_history_import()
        if reconnect:
            # The reader may have rebooted into new firmware or another meter.
            await self._async_read_slow_data(self.data)
            self._async_check_restarted()

    async def async_set_configuration(self, changes: Mapping[str, Any]) -> None:
        """Write settings; entities then show what the reader reports back.

        The reader pushes its new configuration; reading it once more also
        covers the polling transport. A change the reader applies only after a
        restart raises a repair issue whose fix restarts it.
        """
        result = await self.client.set_configuration(changes)
        assert self.config_entry is not None
        if result.reboot_required:
            self._reboot_required_since = time.monotonic()
            async_create_reboot_issue(self.hass, self.config_entry)
        configuration = await read_or_keep(self.client.get_configuration(), None)
        if configuration is not None:
            self.data.configuration = configuration
            self.async_publish()

    async def async_reboot(self) -> None:
        """Restart the reader; a restart the settings were waiting for is done."""
        await self.client.reboot()
        self.async_expect_restart()
        self._async_restarted()

    @callback
    def _async_check_restarted(self) -> None:
        """After a reconnect, settle the issue if the reader restarted since."""
        since = self._reboot_required_since
        health = self.data.health
        if since is None or health is None or health.uptime is None:
            return
        if health.uptime.total_seconds() < time.monotonic() - since:
            self._async_restarted()

    @callback
    def _async_restarted(self) -> None:
        assert self.config_entry is not None
        self._reboot_required_since = None
        async_delete_reboot_issue(self.hass, self.config_entry.entry_id)

    @callback
    @callback
    def async_start_history_import(self, _now: datetime | None = None) -> None:
        """Import the reader's history into statistics in the background."""
        if self.link_up:  # else the reconnect imports
            self.history.async_start()

    async def _async_import_history(self) -> int:
        assert self.config_entry is not None
        result = await async_import_history(
            self.hass,
            self.client,
            device=str(self.config_entry.unique_id),
            name=self.name,
        )
        return result.rows

    @callback
    def _async_connection_lost(self) -> None:
        self.data.meter = None
        self.data.installing_firmware = False  # the reader is rebooting into it

    @callback
    def _async_handle_message(self, message: HanMessage) -> None:
        data = self.data
        if isinstance(message, MeterReading):
            data.meter = self._guard(message)
        elif isinstance(message, HanInfo):
            self._apply_info(data, message)
        elif isinstance(message, Configuration):
            data.configuration = message
        elif isinstance(message, OtaState):
            self._set_ota(message)
        self.async_publish()

    @callback
    def async_set_ota(self, ota: OtaState) -> None:
        """Apply an OTA state a REST call returned and tell the entities."""
        self._set_ota(ota)
        self.async_publish()

    def _set_ota(self, ota: OtaState) -> None:
        if ota.status == REBOOTING:
            self.async_expect_restart()  # into the new firmware
        self.data.ota = ota
        for waiter in self._ota_waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def async_wait_for_ota(self, done: Callable[[OtaState], bool]) -> OtaState:
        """Wait until the reader reports an OTA state for which `done` is true."""
        while (ota := self.data.ota) is None or not done(ota):
            waiter = self.hass.loop.create_future()
            self._ota_waiters.add(waiter)
            try:
                await waiter
            finally:
                self._ota_waiters.discard(waiter)
        return ota

    def _guard(self, reading: MeterReading) -> MeterReading:
        """Replace glitched energy totals by the last good values."""
        accept = self._totals.accept
        energy_import = accept("ic", reading.energy_import)
        energy_export = accept("ec", reading.energy_export)
        reactive_import = accept("ric", reading.reactive_energy_import)
        reactive_export = accept("rec", reading.reactive_energy_export)
        if (
            energy_import == reading.energy_import
            and energy_export == reading.energy_export
            and reactive_import == reading.reactive_energy_import
            and reactive_export == reading.reactive_energy_export
        ):
            return reading
        return replace(
            reading,
            energy_import=energy_import,
            energy_export=energy_export,
            reactive_energy_import=reactive_import,
            reactive_energy_export=reactive_export,
        )

    def _apply_info(self, data: HanData, info: HanInfo) -> None:
        if info.reboot_pending:
            self.async_expect_restart()
        if info.version and info.version != data.info.version:
            self._update_sw_version(info.version)
        data.info = info

    def _update_sw_version(self, version: str) -> None:
        """Keep the device page's firmware version true after an update."""
        assert self.config_entry is not None
        registry = dr.async_get(self.hass)
        device = registry.async_get_device_by_identifier(
            (DOMAIN, str(self.config_entry.unique_id)), self.config_entry.entry_id
        )
        if device is not None and device.sw_version != version:
            LOGGER.debug("%s now runs firmware %s", self.name, version)
            registry.async_update_device(device.id, sw_version=version)

    @staticmethod
    def _apply_health(data: HanData, health: Health) -> None:
        data.health = health
        if health.uptime is None:
            return
        boot_time = (dt_util.utcnow() - health.uptime).replace(microsecond=0)
        if (
            data.boot_time is None
            or abs(boot_time - data.boot_time) > _BOOT_TIME_TOLERANCE
        ):
            data.boot_time = boot_time
