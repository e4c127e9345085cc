"""The gateway's recorded energy counters, imported into long-term statistics.

History rows are periods (the simulated gateway records 15 minutes; the API
document does not say) with the counter's increase `d`. An hour is imported
when every period of it is there; hours cut by a gap or by the start of the
recording are left out, never estimated. The period length is read from the
spacing of the rows, and must divide an hour.

Each counter's hours go into its energy sensor's own statistic, before the
oldest hour the recorder has for it (see `async_backfill_sensor`). Gateways set
up with an earlier version also keep their external statistics
(`energy_gateways:<serial>_<uid>_energy_import`) up to date; new ones do not
get them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
import itertools

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ...statistics import (
    HISTORY_NAME_SUFFIX,
    async_backfill_sensor,
    async_backfill_targets,
    async_existing_statistics,
    async_import_energy_sums,
    async_last_hour,
    complete_hours_of,
    statistic_id,
)
from .catalogue import quantity
from .client import EmsClient
from .data import Configuration
from .models import HistorySample, Signal

HOUR = timedelta(hours=1)
FIRST_IMPORT_DAYS = 31
"""How far back the first import asks; the gateway returns what it kept."""


def complete_hours(rows: Sequence[HistorySample]) -> list[tuple[datetime, float]]:
    """Sum the periods of a counter into (hour start, kWh) for complete hours."""
    periods = sorted(
        {
            row.period_end: row.delta
            for row in rows
            if row.period_end and row.delta is not None
        }.items()
    )
    steps = {
        later[0] - earlier[0]
        for earlier, later in itertools.pairwise(periods)
        if later[0] > earlier[0]
    }
    if not steps or HOUR % min(steps):
        return []  # one row, or periods that do not tile an hour
    # A counter replaced by a new meter must not take the sum down.
    return [
        (hour, round(sum(max(delta, 0.0) for delta in deltas), 6))
        for hour, deltas in complete_hours_of(dict(periods), min(steps))
    ]


def signal_name(configuration: Configuration, signal: Signal) -> str:
    """Name a signal's statistic after its device and load, e.g. "EM1 Heat pump"."""
    device = configuration.device_of(signal)
    load = configuration.load_of(signal)
    parts = [
        (device.label if device else None) or f"Device {signal.device_uid}",
        (load.label if load else None) or "",
    ]
    return " ".join(part for part in parts if part)


def _kind(signal: Signal) -> str:
    """Return the counter's quantity, e.g. "energy_import"."""
    return quantity(signal.si).translation_key.removeprefix("ems_")


def counter_statistic_id(device: str, signal: Signal) -> str:
    """`energy_gateways:<serial>_<signal uid>_<quantity>`."""
    return statistic_id(device, f"{signal.uid}_{_kind(signal)}")


async def async_import_history(
    hass: HomeAssistant,
    client: EmsClient,
    configuration: Configuration,
    *,
    device: str,
) -> int:
    """Import the history of every energy counter; return the rows written.

    `device` (the serial number, the prefix of the sensors' unique ids) names
    the statistics. Raises the client's errors when the gateway cannot be read.
    """
    counters = [
        signal
        for signal in configuration.active_signals.values()
        if quantity(signal.si).import_history
    ]
    if not counters:
        return 0
    now = dt_util.utcnow()
    oldest = now - timedelta(days=FIRST_IMPORT_DAYS)

    # The sensors the recorder has compiled an hour for: the hours before it.
    targets = await async_backfill_targets(
        hass, {signal.uid: f"{device}_{signal.uid}" for signal in counters}
    )
    sensors = {
        uid: target for uid, target in targets.items() if target[1].start > oldest
    }
    written = 0
    if sensors:
        newest = max(anchor.start for _, anchor in sensors.values())
        history = await client.get_history(sensors, oldest, min(now, newest + 2 * HOUR))
        for uid, (entity_id, anchor) in sensors.items():
            written += await async_backfill_sensor(
                hass,
                entity_id=entity_id,
                hours=complete_hours(history.get(uid, ())),
                anchor=anchor,
            )

    # The external statistics of earlier versions: only the ones there already.
    ids = {signal.uid: counter_statistic_id(device, signal) for signal in counters}
    existing = await async_existing_statistics(hass, list(ids.values()))
    external = [signal for signal in counters if ids[signal.uid] in existing]
    if not external:
        return written
    start = oldest
    newest_rows = [await async_last_hour(hass, ids[signal.uid]) for signal in external]
    if all(last is not None for last in newest_rows):
        # Only what is missing: from the hour after the oldest newest row.
        start = max(start, min(last for last in newest_rows if last) + HOUR)
    history = await client.get_history((signal.uid for signal in external), start, now)
    for signal in external:
        kind = _kind(signal).replace("_", " ")
        written += await async_import_energy_sums(
            hass,
            statistic_id=ids[signal.uid],
            name=f"{signal_name(configuration, signal)} {kind}{HISTORY_NAME_SUFFIX}",
            hours=complete_hours(history.get(signal.uid, ())),
        )
    return written
