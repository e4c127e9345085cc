"""The member's own consumption history, imported into long-term statistics.

`/individual-consumption-history` answers one UTC day (`begin` = its 00:00
UTC): the 15-minute average power keyed by the end of each slot, and the day's
first and latest meter reading (two readings, no series: not used here). The
import reads the last 7 complete UTC days and today, one request per day; a day
without data (206) is skipped. An hour is imported only when all four of its
slots are there: the running hour and hours cut by a gap are left out, never
estimated. Hours are UTC instants, so a DST change neither adds nor loses one.

Per hour, the energy (kWh = Σ W * 0.25 h / 1000 over the four slots) goes into
the own energy sensor's statistic and the mean power (W; minimum and maximum
of the four 15-minute averages, not of the instantaneous power) into the own
power sensor's statistic, each before the oldest hour the recorder has for
that sensor (`async_backfill_sensor`, `async_backfill_sensor_means`). Only the
days up to the newest such hour are read, and none once every sensor's oldest
hour is at or before the oldest day: after the first import, the hourly
top-ups normally send no request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ...statistics import (
    PowerStats,
    async_backfill_sensor,
    async_backfill_sensor_means,
    async_backfill_targets,
    async_mean_backfill_targets,
    complete_hours_of,
)
from .client import BuzznClient

SLOT = timedelta(minutes=15)
"""Length of one history slot; its power is the average over it."""
HISTORY_DAYS = 7
"""Complete UTC days read before today."""
DAY = timedelta(days=1)
ENERGY_KEY = "energy"
"""Key of the own energy sensor (unique id `<profile id>_energy`)."""
POWER_KEY = "power"
"""Key of the own power sensor (unique id `<profile id>_power`)."""


@dataclass(frozen=True, slots=True)
class HourTotals:
    """One complete hour: energy in kWh, power in W."""

    start: datetime
    energy: float
    power: PowerStats


def complete_hours(power: Mapping[datetime, float]) -> list[HourTotals]:
    """Turn 15-minute average powers (W, by slot end) into complete UTC hours."""
    hours: list[HourTotals] = []
    for start, watts in complete_hours_of(power, SLOT):
        hours.append(
            HourTotals(
                start=start,
                energy=round(sum(watts) * (SLOT / timedelta(hours=1)) / 1000, 6),
                power=PowerStats(
                    mean=round(sum(watts) / len(watts), 3),
                    min=min(watts),
                    max=max(watts),
                ),
            )
        )
    return hours


def history_days(now: datetime) -> list[datetime]:
    """Return 00:00 UTC of the last HISTORY_DAYS complete days and today, oldest first."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - DAY * back for back in range(HISTORY_DAYS, -1, -1)]


async def async_import_history(
    hass: HomeAssistant, client: BuzznClient, *, device: str
) -> int:
    """Import the own history into the own energy and power sensors; return rows written.

    `device` is the profile id (the prefix of the sensors' unique ids). Raises
    the client's errors when the server cannot be read.
    """
    days = history_days(dt_util.utcnow())
    oldest = days[0]
    # Sensors whose oldest recorder hour lies after the oldest day: hours to add.
    energy = (
        await async_backfill_targets(hass, {ENERGY_KEY: f"{device}_{ENERGY_KEY}"})
    ).get(ENERGY_KEY)
    if energy is not None and energy[1].start <= oldest:
        energy = None
    power = (
        await async_mean_backfill_targets(hass, {POWER_KEY: f"{device}_{POWER_KEY}"})
    ).get(POWER_KEY)
    if power is not None and power[1].start <= oldest:
        power = None
    anchors = [target[1].start for target in (energy, power) if target is not None]
    if not anchors:
        return 0

    # The energy backfill needs the anchor's own hour too: a day's answer holds
    # every hour of that day (its last slot ends at the next day's 00:00).
    newest = max(anchors)
    slots: dict[datetime, float] = {}
    for day in days:
        if day > newest:
            break
        history = await client.get_individual_history(day)
        if history is not None:  # None: no data that day (206)
            slots.update(history.power)
    hours = complete_hours(slots)

    energy_rows = power_rows = 0
    if energy is not None:
        entity_id, anchor = energy
        energy_rows = await async_backfill_sensor(
            hass,
            entity_id=entity_id,
            hours=[(hour.start, hour.energy) for hour in hours],
            anchor=anchor,
        )
    if power is not None:
        entity_id, mean_anchor = power
        power_rows = await async_backfill_sensor_means(
            hass,
            entity_id=entity_id,
            hours=[(hour.start, hour.power) for hour in hours],
            anchor=mean_anchor,
        )
    return energy_rows + power_rows
