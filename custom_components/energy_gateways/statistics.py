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

from collections.abc import Mapping, Sequence
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
from homeassistant.const import UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter

from .const import DOMAIN


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
