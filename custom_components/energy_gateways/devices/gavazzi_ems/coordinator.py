"""Polls one EMS gateway: every realtime value per cycle, the tree now and then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import time

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from ...const import DOMAIN, LOGGER
from ...coordinator import PollingCoordinator, polling_error
from ...statistics import HistoryImporter
from ...totals import MonotonicTotals
from ...transport.errors import (
    GatewayError,
)
from .catalogue import quantity
from .client import EmsClient
from .data import Configuration, EmsData, GatewayInfo
from .history import async_import_history
from .models import RealtimeSample
from .options_flow import SCAN_INTERVAL

CONFIGURATION_INTERVAL = 600.0
"""Seconds between reads of the device/load/signal tree (new or vanished meters)."""
MIN_STALE_SECONDS = 60.0
"""A signal whose sample time has not moved for 3 polls, and at least this
long, comes from a meter the gateway no longer reads (Modbus or M-Bus fault)."""


@dataclass(slots=True)
class CycleStats:
    """Figures of the polling cycles, for diagnostics and the benchmark."""

    cycles: int = 0
    last_requests: int = 0
    """Requests the newest successful cycle sent (logins included)."""
    last_duration: float | None = None
    """Seconds the newest successful cycle took."""
    configuration_reads: int = 0

    def as_dict(self) -> dict[str, object]:
        """Diagnostics view."""
        return {
            "cycles": self.cycles,
            "last_requests": self.last_requests,
            "last_duration_seconds": None
            if self.last_duration is None
            else round(self.last_duration, 4),
            "configuration_reads": self.configuration_reads,
        }


class EmsCoordinator(PollingCoordinator[EmsData]):
    """Data of one EMS gateway, read over its REST API."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: EmsClient
    ) -> None:
        seconds = SCAN_INTERVAL.value(entry.options)
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=timedelta(seconds=seconds),
            always_update=False,
        )
        self.client = client
        # The gateway flags invalid samples, so a total read as 0 several times
        # in a row is a counter that really is 0 (export of a pure consumer).
        self._totals = MonotonicTotals(entry.title, zero_after=3)
        self._stale_after = max(3.0 * seconds, MIN_STALE_SECONDS)
        self._configuration_read_at: float | None = None
        self._sample_moved: dict[int, tuple[datetime, float]] = {}
        self.stats = CycleStats()
        self.history = HistoryImporter(
            hass, entry, entry.title, self._async_import_history
        )

    @property
    def host(self) -> str:
        """The gateway's address, for messages."""
        assert self.config_entry is not None
        return str(self.config_entry.data[CONF_HOST])

    def _configuration_due(self) -> bool:
        read_at = self._configuration_read_at
        return (
            self.data is None
            or read_at is None
            or time.monotonic() - read_at >= CONFIGURATION_INTERVAL
        )

    async def _async_poll(self) -> EmsData:
        started = time.perf_counter()
        with self.client.counting() as counter:
            data = await self._async_read()
        self.stats.cycles += 1
        self.stats.last_requests = counter.requests
        self.stats.last_duration = time.perf_counter() - started
        return data

    async def _async_read(self) -> EmsData:
        """Read the values (and the tree when due); map failures for HA."""
        try:
            if self._configuration_due():
                gateway, configuration = await self._async_read_configuration()
            else:
                gateway, configuration = self.data.gateway, self.data.configuration
            samples = await self.client.get_realtime(signals=len(configuration.signals))
        except GatewayError as err:
            # The tree may have changed while the gateway was out of reach.
            self._configuration_read_at = None
            raise polling_error(err, self.host, "ems_invalid_auth") from err
        return self._apply(gateway, configuration, samples)

    async def _async_read_configuration(self) -> tuple[GatewayInfo, Configuration]:
        """Read the gateway's identity and its device/load/signal tree."""
        # One request after the other: this runs every ten minutes, and a small
        # gateway is better served by sequential requests than by a burst.
        client = self.client
        serial = await client.get_serial_number()
        assert self.config_entry is not None
        if serial != self.config_entry.unique_id:
            # Another gateway took this address; reconfigure points the entry back.
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="wrong_device",
                translation_placeholders={"host": self.host},
            )
        gateway = GatewayInfo(
            serial_number=serial,
            mac=await client.get_mac(),
            firmware=await client.get_firmware(),
            part_number=await client.get_part_number(),
            api_version=await client.get_api_version(),
            date=await client.get_date(),
        )
        configuration = Configuration(
            devices=await client.get_devices(),
            loads=await client.get_loads(),
            signals=await client.get_signals(),
        )
        if self.data is not None and configuration == self.data.configuration:
            # Same tree: keep the object, so listeners can tell nothing changed.
            configuration = self.data.configuration
        self._configuration_read_at = time.monotonic()
        self.stats.configuration_reads += 1
        return gateway, configuration

    def _apply(
        self,
        gateway: GatewayInfo,
        configuration: Configuration,
        samples: dict[int, RealtimeSample],
    ) -> EmsData:
        """Turn the samples into the values to show."""
        now = time.monotonic()
        values: dict[int, float | None] = {}
        stale: set[int] = set()
        previous, self._sample_moved = self._sample_moved, {}
        for uid, signal in configuration.active_signals.items():
            sample = samples.get(uid)
            if sample is None:
                continue
            if quantity(signal.si).is_counter:
                # An invalid sample keeps the last good total.
                values[uid] = self._totals.accept(str(uid), sample.value)
            else:
                values[uid] = sample.value
            if sample.timestamp is None:
                continue  # no sample time: nothing to tell a stuck meter by
            moved = previous.get(uid)
            if moved is None or moved[0] != sample.timestamp:
                moved = (sample.timestamp, now)
            elif now - moved[1] > self._stale_after:
                stale.add(uid)
            self._sample_moved[uid] = moved
        return EmsData(
            gateway=gateway,
            configuration=configuration,
            samples=samples,
            values=values,
            stale=frozenset(stale),
            read_at=dt_util.utcnow(),
        )

    async def _async_import_history(self) -> int:
        assert self.config_entry is not None
        data = self.data
        return await async_import_history(
            self.hass,
            self.client,
            data.configuration,
            device=str(self.config_entry.unique_id),
        )
