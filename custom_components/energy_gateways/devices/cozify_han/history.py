"""The HAN reader's own history, imported into long-term statistics.

`/history/weekly` holds 15-minute buckets for about a week. An hour is imported
only when all four of its quarters are there and final: the live rolling bucket
(`f` = 0) and hours cut by a gap or by the start of the history are left out,
never estimated. Hours are UTC hours, so a DST change neither adds nor loses
one. Where the weekly history does not reach back far enough (first set-up, or
a reconnect after a long outage), whole final days from `/history/monthly` and
then whole final months from `/history/yearly` fill in energy only, each
recorded in the first hour of its day or month: daily and monthly totals are
right, the hourly view of those days shows one bar.

The energy goes into the meter's energy import and export sensors, before the
oldest hour the recorder has for each (see `async_backfill_sensor`). Readers
set up with an earlier version also keep their external statistics
(`energy_gateways:<serial>_energy_import` and `_energy_export`) up to date; new
ones do not get them. The hourly power goes into the external statistic
`energy_gateways:<serial>_power`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant

from ...statistics import (
    HISTORY_NAME_SUFFIX,
    PowerStats,
    async_backfill_sensor,
    async_backfill_targets,
    async_existing_statistics,
    async_import_energy_sums,
    async_import_power_means,
    async_last_hour,
    statistic_id,
)
from ...transport.errors import TransportUnsupported
from .client import HanClient
from .models import HistoryBucket, HistoryPeriod

HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)
_QUARTERS = tuple(QUARTER * index for index in range(4))


@dataclass(frozen=True, slots=True, kw_only=True)
class HourTotals:
    """One complete hour: energy in kWh, power in W (None if not reported)."""

    start: datetime
    energy_import: float
    energy_export: float
    power: PowerStats | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    """Rows written per quantity by one import (sensor and external statistic)."""

    energy_import: int
    energy_export: int
    power: int

    @property
    def rows(self) -> int:
        """Rows written in all."""
        return self.energy_import + self.energy_export + self.power


def complete_hours(buckets: Sequence[HistoryBucket]) -> list[HourTotals]:
    """Sum 15-minute buckets into the hours whose four quarters are all final."""
    by_start = {bucket.start: bucket for bucket in buckets}
    hours: list[HourTotals] = []
    for hour in sorted({_floor_hour(start) for start in by_start}):
        quarters = [by_start.get(hour + offset) for offset in _QUARTERS]
        final = [bucket for bucket in quarters if bucket is not None and bucket.final]
        if len(final) != len(_QUARTERS):
            continue
        hours.append(
            HourTotals(
                start=hour,
                energy_import=round(sum(b.energy_import for b in final), 6),
                energy_export=round(sum(b.energy_export for b in final), 6),
                power=_hour_power(final),
            )
        )
    return hours


def coarse_buckets(
    buckets: Sequence[HistoryBucket], before: datetime | None
) -> list[HistoryBucket]:
    """Return the final, hour-aligned day or month buckets that end by `before`."""
    if not buckets:
        return []
    ends = [bucket.start for bucket in buckets[1:]]
    # The newest bucket is live; only buckets followed by another one have a known end.
    return [
        bucket
        for bucket, end in zip(buckets, ends, strict=False)
        if bucket.final
        and bucket.start == _floor_hour(bucket.start)
        and (before is None or end <= before)
    ]


async def async_import_history(
    hass: HomeAssistant, client: HanClient, *, device: str, name: str
) -> ImportResult:
    """Import the reader's history; return how many rows were written.

    `device` (the serial, the prefix of the sensors' unique ids) names the
    statistics, `name` is the reader's name. Raises the client's errors when
    the reader cannot be read.
    """
    weekly = await client.get_history(HistoryPeriod.WEEKLY)
    hours = complete_hours(weekly.buckets)
    directions = ("energy_import", "energy_export")
    external = {key: statistic_id(device, key) for key in directions}
    existing = await async_existing_statistics(hass, list(external.values()))
    sensors = await async_backfill_targets(
        hass, {key: f"{device}_{key}" for key in directions}
    )

    energy: list[tuple[datetime, float, float]] = []
    covered_from = weekly.buckets[0].start if weekly.buckets else None
    # Fill in with days, then with months, where nothing finer exists: when the
    # weekly history reaches back to a sensor's oldest hour (older days can only
    # come from there), or does not reach the newest hour of the external
    # statistic.
    sensor_needs = any(
        covered_from is None or anchor.start >= covered_from
        for _, anchor in sensors.values()
    )
    external_needs = False
    if external["energy_import"] in existing:
        last = await async_last_hour(hass, external["energy_import"])
        external_needs = (
            covered_from is None or last is None or last + HOUR < covered_from
        )
    if sensor_needs or external_needs:
        for period in (HistoryPeriod.MONTHLY, HistoryPeriod.YEARLY):
            try:
                coarse = (await client.get_history(period)).buckets
            except TransportUnsupported:
                continue  # firmware without this period: the rest still counts
            energy[:0] = [
                (bucket.start, bucket.energy_import, bucket.energy_export)
                for bucket in coarse_buckets(coarse, covered_from)
            ]
            if coarse:
                covered_from = min(coarse[0].start, covered_from or coarse[0].start)
    energy.extend(
        (hour.start, hour.energy_import, hour.energy_export) for hour in hours
    )

    written = dict.fromkeys(directions, 0)
    for index, key in enumerate(directions):
        per_hour = [(start, values[index]) for start, *values in energy]
        if key in sensors:
            entity_id, anchor = sensors[key]
            written[key] += await async_backfill_sensor(
                hass, entity_id=entity_id, hours=per_hour, anchor=anchor
            )
        if external[key] in existing:
            written[key] += await async_import_energy_sums(
                hass,
                statistic_id=external[key],
                name=f"{name} {key.replace('_', ' ')}{HISTORY_NAME_SUFFIX}",
                hours=per_hour,
            )
    return ImportResult(
        energy_import=written["energy_import"],
        energy_export=written["energy_export"],
        power=await async_import_power_means(
            hass,
            statistic_id=statistic_id(device, "power"),
            name=f"{name} power{HISTORY_NAME_SUFFIX}",
            hours=[(hour.start, hour.power) for hour in hours if hour.power],
        ),
    )


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _hour_power(quarters: Sequence[HistoryBucket]) -> PowerStats | None:
    """Mean of the quarter means, lowest minimum, highest maximum; None if any is missing."""
    means: list[float] = []
    mins: list[float] = []
    maxes: list[float] = []
    for bucket in quarters:
        if (
            bucket.power_avg is None
            or bucket.power_min is None
            or bucket.power_max is None
        ):
            return None
        means.append(bucket.power_avg)
        mins.append(bucket.power_min)
        maxes.append(bucket.power_max)
    return PowerStats(
        mean=round(sum(means) / len(means), 1), min=min(mins), max=max(maxes)
    )
