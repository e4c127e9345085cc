"""Import a device's own history into Home Assistant's long-term statistics.

Shared by every device type. An energy counter's history goes into the live
energy sensor's own statistic (`async_backfill_sensor`): only the hours before
the oldest row the recorder has for that sensor, anchored on that row, so the
Energy dashboard shows one statistic per meter and direction with the device's
history and today's live data. Nothing is written before the recorder has
compiled a first hour for the sensor. A power history goes the same way into
the live power sensor's own statistic (`async_backfill_sensor_means`): hourly
mean, minimum and maximum, before the recorder's oldest row for it.

Installations that already have the external statistics of earlier versions
(`energy_gateways:<object id>`, source `energy_gateways`) keep them up to date
(`async_import_energy_sums`, `async_import_power_means`): those imports only
ever append, hours at or before the newest stored row are dropped and a sum
continues from the stored sum. Either way, running an import twice, or after a
reconnect, changes nothing that is already there. Hour starts are UTC instants,
so DST changes cannot create or lose hours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import re
from typing import Any, Literal

from homeassistant.components.recorder.db_schema import Statistics
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    StatisticsRow,
    async_add_external_statistics,
    async_import_statistics,
    get_last_statistics,
    get_metadata,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform, UnitOfEnergy, UnitOfPower
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.recorder import get_instance, session_scope
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter
from sqlalchemy import Row, select

from .const import CONF_IMPORT_HISTORY, DOMAIN, LOGGER
from .transport.errors import GatewayError

HISTORY_NAME_SUFFIX = " (imported history)"
"""Ends the names of the external statistics, which only earlier versions created."""

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


HOUR = timedelta(hours=1)


def complete_hours_of[T](
    periods: Mapping[datetime, T], period: timedelta
) -> list[tuple[datetime, list[T]]]:
    """Group the values of periods into the hours that all of their periods cover.

    `periods` maps each period's end (timezone-aware) to its value; `period`
    must divide an hour. Returns (UTC hour start, the hour's values in time
    order), oldest first, for each hour whose every period is there. A period
    that straddles two hours belongs to neither: hours are never estimated.
    """
    per_hour = HOUR // period
    hours: dict[datetime, list[tuple[datetime, T]]] = {}
    for end, value in periods.items():
        start = end.astimezone(UTC) - period
        hour = start.replace(minute=0, second=0, microsecond=0)
        if (start - hour) % period:
            continue
        hours.setdefault(hour, []).append((start, value))
    return [
        (hour, [value for _, value in sorted(values, key=lambda item: item[0])])
        for hour, values in sorted(hours.items())
        if len(values) == per_hour
    ]


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


@dataclass(frozen=True, slots=True)
class SensorAnchor:
    """The oldest hourly row the recorder has for a sensor's statistic."""

    start: datetime
    state: float
    sum: float
    metadata: StatisticMetaData
    """The statistic's stored metadata, written back unchanged with the rows."""

    @property
    def offset(self) -> float:
        """The counter reading at which the statistic's sum is 0 (`state - sum`)."""
        return self.state - self.sum


@dataclass(frozen=True, slots=True)
class MeanAnchor:
    """The oldest hourly row the recorder has for a measurement sensor's statistic."""

    start: datetime
    metadata: StatisticMetaData
    """The statistic's stored metadata, written back unchanged with the rows."""


async def async_backfill_targets[K](
    hass: HomeAssistant, unique_ids: Mapping[K, str]
) -> dict[K, tuple[str, SensorAnchor]]:
    """Return (entity id, anchor) of each sensor a backfill can write into now.

    `unique_ids` maps the caller's keys to the sensors' unique ids. Left out:
    sensors not registered or disabled, and those the recorder has not
    compiled a first hour for yet.
    """
    return await _async_targets(hass, unique_ids, _sensor_anchor)


async def async_mean_backfill_targets[K](
    hass: HomeAssistant, unique_ids: Mapping[K, str]
) -> dict[K, tuple[str, MeanAnchor]]:
    """Return (entity id, anchor) of each sensor a mean backfill can write into now.

    Left out as in async_backfill_targets; the oldest row needs no state or sum.
    """
    return await _async_targets(hass, unique_ids, _mean_anchor)


async def _async_targets[K, A](
    hass: HomeAssistant,
    unique_ids: Mapping[K, str],
    find_anchor: Callable[[HomeAssistant, str], A | None],
) -> dict[K, tuple[str, A]]:
    targets: dict[K, tuple[str, A]] = {}
    for key, unique_id in unique_ids.items():
        entity_id = _sensor_entity_id(hass, unique_id)
        if entity_id is None:
            continue
        anchor = await get_instance(hass).async_add_executor_job(
            find_anchor, hass, entity_id
        )
        if anchor is not None:
            targets[key] = (entity_id, anchor)
    return targets


@callback
def _sensor_entity_id(hass: HomeAssistant, unique_id: str) -> str | None:
    """Return the entity id of this integration's sensor, if registered and enabled.

    Looked up by unique id: the user may have renamed the entity.
    """
    registry = er.async_get(hass)
    entity_id = registry.async_get_entity_id(Platform.SENSOR, DOMAIN, unique_id)
    if entity_id is None:
        return None
    entity = registry.async_get(entity_id)
    return None if entity is None or entity.disabled else entity_id


async def async_existing_statistics(
    hass: HomeAssistant, statistic_ids: Sequence[str]
) -> set[str]:
    """Return which of the statistics the recorder has metadata for."""
    if not statistic_ids:
        return set()
    result = await get_instance(hass).async_add_executor_job(
        _get_metadata, hass, set(statistic_ids)
    )
    return set(result)


def _get_metadata(
    hass: HomeAssistant, statistic_ids: set[str]
) -> dict[str, tuple[int, StatisticMetaData]]:
    return get_metadata(hass, statistic_ids=statistic_ids)


def _oldest_row(
    hass: HomeAssistant, entity_id: str
) -> tuple[StatisticMetaData, Row[Any]] | None:
    """Return a sensor's statistic metadata and its oldest hourly row (in the executor)."""
    with session_scope(hass=hass, read_only=True) as session:
        found = get_instance(hass).statistics_meta_manager.get(session, entity_id)
        if found is None:
            return None
        metadata_id, metadata = found
        row = session.execute(
            select(Statistics.start_ts, Statistics.state, Statistics.sum)
            .where(Statistics.metadata_id == metadata_id)
            .order_by(Statistics.start_ts.asc())
            .limit(1)
        ).first()
    return None if row is None else (metadata, row)


def _sensor_anchor(hass: HomeAssistant, entity_id: str) -> SensorAnchor | None:
    """Return the oldest hourly row of a sensor's statistic with a state and sum."""
    found = _oldest_row(hass, entity_id)
    if found is None:
        return None
    metadata, row = found
    if row.state is None or row.sum is None:
        return None
    return SensorAnchor(
        start=datetime.fromtimestamp(row.start_ts, UTC),
        state=row.state,
        sum=row.sum,
        metadata=metadata,
    )


def _mean_anchor(hass: HomeAssistant, entity_id: str) -> MeanAnchor | None:
    """Return the start of the oldest hourly row of a sensor's statistic."""
    found = _oldest_row(hass, entity_id)
    if found is None:
        return None
    metadata, row = found
    return MeanAnchor(
        start=datetime.fromtimestamp(row.start_ts, UTC), metadata=metadata
    )


async def async_backfill_sensor(
    hass: HomeAssistant,
    *,
    entity_id: str,
    hours: Sequence[tuple[datetime, float]],
    anchor: SensorAnchor,
) -> int:
    """Write a counter's older hours into its sensor's statistic; return rows written.

    `hours` are (hour start, energy in kWh in that hour), as for
    async_import_energy_sums. Only hours before the sensor's oldest statistics
    row (the anchor, see async_backfill_targets) are written, and only when `hours` holds
    the anchor's hour: the counter at the end of each older hour is the
    anchor's state less the energy of the hours after it, and its sum that
    counter less the anchor's offset (`state - sum`), exactly as the recorder
    counts. A sum's step to the next written row, and to the anchor, is that
    row's energy. Stops at an hour whose energy is negative or that would take
    the counter below 0.
    """
    metadata = anchor.metadata
    unit = metadata["unit_of_measurement"]
    if not metadata["has_sum"] or unit not in EnergyConverter.VALID_UNITS:
        LOGGER.debug(
            "Not backfilling %s: its statistic is not an energy sum", entity_id
        )
        return 0
    convert = EnergyConverter.converter_factory(UnitOfEnergy.KILO_WATT_HOUR, unit)
    energy = dict(_sorted_hours(hours))
    if anchor.start not in energy:
        return 0  # the device's history does not hold the anchor's hour (yet)
    offset = anchor.offset
    counter = anchor.state - convert(energy[anchor.start])
    data: list[StatisticData] = []
    for start in sorted((s for s in energy if s < anchor.start), reverse=True):
        if counter < 0:
            break  # the history holds more energy than the counter: a new meter
        state = round(counter, 6)
        data.append(
            StatisticData(start=start, state=state, sum=round(state - offset, 6))
        )
        if energy[start] < 0:
            break  # the counter went backwards in this hour
        counter -= convert(energy[start])
    if not data:
        return 0
    async_import_statistics(
        hass, _sensor_metadata(entity_id, metadata, has_sum=True), data[::-1]
    )
    return len(data)


def _sensor_metadata(
    entity_id: str, metadata: StatisticMetaData, *, has_sum: bool
) -> StatisticMetaData:
    """Return the metadata of a sensor's own statistic, as the recorder keeps it."""
    return StatisticMetaData(
        has_sum=has_sum,
        mean_type=metadata["mean_type"],
        name=metadata["name"],
        source="recorder",
        statistic_id=entity_id,
        unit_class=metadata["unit_class"],
        unit_of_measurement=metadata["unit_of_measurement"],
    )


async def async_backfill_sensor_means(
    hass: HomeAssistant,
    *,
    entity_id: str,
    hours: Sequence[tuple[datetime, PowerStats]],
    anchor: MeanAnchor,
) -> int:
    """Write a power sensor's older hourly mean/min/max; return rows written.

    `hours` are (hour start, power in W), as for async_import_power_means.
    Only hours before the sensor's oldest statistics row (the anchor, see
    async_mean_backfill_targets) are written: the recorder's own hours are
    never touched, so a second run writes nothing new.
    """
    metadata = anchor.metadata
    unit = metadata["unit_of_measurement"]
    if (
        metadata["mean_type"] != StatisticMeanType.ARITHMETIC
        or metadata["has_sum"]
        or unit not in PowerConverter.VALID_UNITS
    ):
        LOGGER.debug("Not backfilling %s: its statistic is not a power mean", entity_id)
        return 0
    convert = PowerConverter.converter_factory(UnitOfPower.WATT, unit)
    rows = [(start, p) for start, p in _sorted_hours(hours) if start < anchor.start]
    if not rows:
        return 0
    async_import_statistics(
        hass,
        _sensor_metadata(entity_id, metadata, has_sum=False),
        [
            StatisticData(
                start=start,
                mean=convert(power.mean),
                min=convert(power.min),
                max=convert(power.max),
            )
            for start, power in rows
        ],
    )
    return len(rows)


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
