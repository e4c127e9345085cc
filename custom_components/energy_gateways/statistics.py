"""Import a device's own history into Home Assistant's long-term statistics.

Shared by every device type. The rows go into external statistics
(`energy_gateways:<object id>`, source `energy_gateways`), which the Energy
dashboard can select like a sensor. Imports only ever append: hours at or before
the newest stored row are dropped, and an energy sum continues from the stored
sum, so running an import twice, or after a reconnect, changes nothing that is
already there. Hour starts are UTC instants, so DST changes cannot create or
lose hours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
import re
from typing import Any, Literal

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    StatisticsRow,
    async_add_external_statistics,
    get_last_statistics,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfEnergy, UnitOfPower
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.recorder import get_instance
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter

from .const import CONF_IMPORT_HISTORY, DOMAIN, LOGGER
from .transport.errors import GatewayError

HISTORY_IMPORT_MINUTE = 5
"""Minute of every hour at which imports top up the statistics: the hour just
ended is final in a device's history a few minutes later."""


@dataclass(frozen=True, slots=True)
class PowerStats:
    """Mean, minimum and maximum power over one hour, in W."""

    mean: float
    min: float
    max: float


def statistic_id(device: str, key: str) -> str:
    """Return `energy_gateways:<device>_<key>`, the device id made a valid slug.

    The device id (e.g. a serial number) is lowercased and every run of other
    characters than a-z and 0-9 becomes one underscore.
    """
    slug = re.sub(r"[^a-z0-9]+", "_", device.lower()).strip("_")
    return f"{DOMAIN}:{slug}_{key}"


def _after[T](
    rows: list[tuple[datetime, T]], last: Mapping[str, Any] | None
) -> list[tuple[datetime, T]]:
    """Keep the hours after the newest stored row: imports only ever append."""
    if last is None:
        return rows
    return [
        (start, value) for start, value in rows if start.timestamp() > last["start"]
    ]


async def async_last_hour(hass: HomeAssistant, statistic_id: str) -> datetime | None:
    """Return the start of the newest stored hour of a statistic, if any."""
    last = await _async_last_row(hass, statistic_id, "sum")
    return datetime.fromtimestamp(last["start"], UTC) if last is not None else None


async def async_import_energy_sums(
    hass: HomeAssistant,
    *,
    statistic_id: str,
    name: str,
    hours: Sequence[tuple[datetime, float]],
) -> int:
    """Append hourly energy (kWh per hour) as a running sum; return rows written.

    `hours` are (hour start, energy in that hour); starts must be timezone-aware
    and on the hour, each at most once. Hours at or before the newest stored row
    are skipped; the sum continues from that row's sum.
    """
    last = await _async_last_row(hass, statistic_id, "sum")
    rows = _after(_sorted_hours(hours), last)
    total = (last.get("sum") or 0.0) if last is not None else 0.0
    if not rows:
        return 0
    data: list[StatisticData] = []
    for start, energy in rows:
        total = round(total + energy, 6)
        data.append(StatisticData(start=start, state=energy, sum=total))
    async_add_external_statistics(
        hass,
        StatisticMetaData(
            mean_type=StatisticMeanType.NONE,
            has_sum=True,
            name=name,
            source=DOMAIN,
            statistic_id=statistic_id,
            unit_class=EnergyConverter.UNIT_CLASS,
            unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        ),
        data,
    )
    return len(data)


async def async_import_power_means(
    hass: HomeAssistant,
    *,
    statistic_id: str,
    name: str,
    hours: Sequence[tuple[datetime, PowerStats]],
) -> int:
    """Append hourly mean/min/max power (W); return rows written.

    Same rules for `hours` as in async_import_energy_sums.
    """
    rows = _after(
        _sorted_hours(hours), await _async_last_row(hass, statistic_id, "mean")
    )
    if not rows:
        return 0
    async_add_external_statistics(
        hass,
        StatisticMetaData(
            mean_type=StatisticMeanType.ARITHMETIC,
            has_sum=False,
            name=name,
            source=DOMAIN,
            statistic_id=statistic_id,
            unit_class=PowerConverter.UNIT_CLASS,
            unit_of_measurement=UnitOfPower.WATT,
        ),
        [
            StatisticData(start=start, mean=power.mean, min=power.min, max=power.max)
            for start, power in rows
        ],
    )
    return len(rows)


def _sorted_hours[T](hours: Sequence[tuple[datetime, T]]) -> list[tuple[datetime, T]]:
    """Check the hour starts, convert them to UTC and sort them."""
    rows: dict[datetime, T] = {}
    for start, value in hours:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"hour start {start} has no time zone")
        utc = start.astimezone(UTC)
        if utc.minute or utc.second or utc.microsecond:
            raise ValueError(f"hour start {start} is not on the hour")
        if utc in rows:
            raise ValueError(f"hour {utc} given twice")
        rows[utc] = value
    return sorted(rows.items())


async def _async_last_row(
    hass: HomeAssistant, statistic_id: str, column: Literal["sum", "mean"]
) -> StatisticsRow | None:
    """Return the newest stored row of a statistic, if any."""
    result = await get_instance(hass).async_add_executor_job(
        get_last_statistics, hass, 1, statistic_id, True, {column}
    )
    rows = result.get(statistic_id)
    return rows[0] if rows else None


class HistoryImporter:
    """Runs one entry's history import in the background, one run at a time.

    A device type starts it once it is connected and `async_schedule_hourly`
    tops the statistics up every hour. Nothing runs when the user opted out in
    the options or the recorder is not loaded. A failing import is logged once
    as a warning; repeats go to debug until one succeeds.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        name: str,
        run: Callable[[], Awaitable[int]],
    ) -> None:
        self._hass = hass
        self._entry = entry
        self._name = name
        self._run = run
        self._failed = False
        self.task: asyncio.Task[None] | None = None
        """The newest run (for tests and diagnostics)."""
        self.runs = 0
        """Runs started so far."""

    @property
    def enabled(self) -> bool:
        """Whether imports run at all for this entry."""
        return (
            self._entry.options.get(CONF_IMPORT_HISTORY, True)
            and "recorder" in self._hass.config.components
        )

    @callback
    def async_start(self, _now: datetime | None = None) -> None:
        """Start a run unless one is still going."""
        if not self.enabled or (self.task is not None and not self.task.done()):
            return
        self.runs += 1
        self.task = self._entry.async_create_background_task(
            self._hass, self._async_run(), f"{DOMAIN} history {self._name}"
        )

    @callback
    def async_schedule_hourly(self, start: Callable[[datetime], None]) -> None:
        """Call `start` a few minutes past every hour until the entry unloads."""
        cancel: CALLBACK_TYPE = async_track_time_change(
            self._hass, start, minute=HISTORY_IMPORT_MINUTE, second=0
        )
        self._entry.async_on_unload(cancel)

    async def _async_run(self) -> None:
        try:
            rows = await self._run()
        except (GatewayError, HomeAssistantError) as err:
            log = LOGGER.debug if self._failed else LOGGER.warning
            log("Could not import the history of %s: %s", self._name, err)
            self._failed = True
            return
        self._failed = False
        LOGGER.debug("Imported %s statistics rows from %s", rows, self._name)
