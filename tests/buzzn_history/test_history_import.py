"""The member's own 15-minute power history lands in the own sensors' statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.statistics import (
    PowerStats,
    async_backfill_sensor_means,
    async_mean_backfill_targets,
)
from simulators.buzzn import BuzznSimulator
from simulators.buzzn.data import DAY
from simulators.buzzn.faults import BuzznFault

from ..buzzn.conftest import PROFILE_ID, buzzn_entry_for, push
from ..conftest import (
    StatisticColumn,
    check_continuous,
    compile_hour,
    set_up_entry,
    statistic_rows,
)

HISTORY = "/individual-consumption-history"
ENERGY_COLUMNS: tuple[StatisticColumn, ...] = ("state", "sum")
POWER_COLUMNS: tuple[StatisticColumn, ...] = ("mean", "min", "max")
HOUR = 3600.0

# The day before (2026-03-29) Central Europe went to summer time at 01:00 UTC.
# At 12:59 the running hour (12:00) has three of its four slots.
NOW = "2026-03-30 12:59:00+00:00"
FIVE_PAST = "2026-03-30 13:05:00+00:00"
OLDEST = "2026-03-23 00:00:00+00:00"
"""00:00 UTC of the oldest day read: 7 complete days before today."""
FIRST_HOUR = "2026-03-30 12:00:00+00:00"
"""The hour the recorder compiles first for the live sensors (the anchor)."""


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _expected(simulator: BuzznSimulator, now: str) -> dict[float, dict[str, float]]:
    """Hour start -> kWh and mean/min/max W, from the simulator's own answers.

    Reads the same per-day history the server sends (mW by slot end) for the
    7 days before today and today; an hour counts when its four slots are there.
    """
    moment = _ts(now)
    today = moment // DAY * DAY
    slots: dict[float, float] = {}
    for day in range(int(today - 7 * DAY), int(today) + 1, int(DAY)):
        answer = simulator.individual_history(day, moment)
        for stamp, milliwatts in (answer or {}).get("power", {}).items():
            end = datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()
            slots[end] = milliwatts / 1000
    hours: dict[float, dict[str, float]] = {}
    for hour in sorted({(end - 900) // HOUR * HOUR for end in slots}):
        watts = [slots.get(hour + 900 * quarter) for quarter in (1, 2, 3, 4)]
        if any(value is None for value in watts):
            continue
        values = [value for value in watts if value is not None]
        hours[hour] = {
            "kwh": sum(value * 0.25 / 1000 for value in values),
            "mean": sum(values) / 4,
            "min": min(values),
            "max": max(values),
        }
    return hours


def _sensor(hass: HomeAssistant, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{PROFILE_ID}_{key}"
    )
    assert entity_id is not None
    return entity_id


async def _imported(hass: HomeAssistant, entry: MockConfigEntry, runs: int) -> None:
    """Check that `runs` imports have started; wait for the newest one to end."""
    history = entry.runtime_data.coordinator.history
    assert history.runs == runs
    assert history.task is not None
    await history.task
    await async_wait_recording_done(hass)


async def _rows(hass: HomeAssistant) -> tuple[list[dict[str, Any]], ...]:
    return (
        await statistic_rows(hass, _sensor(hass, "energy"), ENERGY_COLUMNS),
        await statistic_rows(hass, _sensor(hass, "power"), POWER_COLUMNS),
    )


async def _set_up_with_first_hour(
    hass: HomeAssistant, simulator: BuzznSimulator
) -> MockConfigEntry:
    """Set up at NOW (first import: no recorder hour yet), record one live
    message and let the recorder compile the first hour of the sensors.
    """
    entry = await set_up_entry(hass, buzzn_entry_for(simulator))
    await _imported(hass, entry, 1)
    await push(simulator, entry)
    await compile_hour(hass, FIRST_HOUR)
    return entry


async def _top_up(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    """Move to five past the hour: the hourly import runs (the second run)."""
    freezer.move_to(FIVE_PAST)
    async_fire_time_changed(hass)
    await _imported(hass, entry, 2)


def _check_energy(
    rows: list[dict[str, Any]], expected: dict[float, dict[str, float]]
) -> None:
    """Each sum step is the hour's energy; the sums end on the recorder's row."""
    for previous, row in itertools.pairwise(rows):
        assert row["sum"] - previous["sum"] == pytest.approx(
            expected[row["start"]]["kwh"], abs=1e-5
        )
    check_continuous(rows)


def _check_power(
    rows: list[dict[str, Any]], expected: dict[float, dict[str, float]]
) -> None:
    for row in rows:
        hour = expected[row["start"]]
        assert row["mean"] == pytest.approx(hour["mean"], abs=1e-3)
        assert row["min"] == pytest.approx(hour["min"], abs=1e-3)
        assert row["max"] == pytest.approx(hour["max"], abs=1e-3)


@pytest.mark.freeze_time(NOW)
async def test_history_goes_into_the_own_sensors(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    buzzn_simulator: BuzznSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """7 days and today, before the recorder's first hour; a second run adds nothing."""
    caplog.set_level(logging.DEBUG, logger="custom_components.energy_gateways")
    await hass.config.async_update(time_zone="Europe/Berlin")
    entry = await _set_up_with_first_hour(hass, buzzn_simulator)
    # The first run found no recorder hour to anchor on: nothing asked, nothing written.
    assert buzzn_simulator.requests[HISTORY] == 0
    energy_before, power_before = await _rows(hass)
    assert [row["start"] for row in energy_before] == [_ts(FIRST_HOUR)]
    assert [row["start"] for row in power_before] == [_ts(FIRST_HOUR)]

    await _top_up(hass, freezer, entry)
    assert buzzn_simulator.requests[HISTORY] == 8  # 7 days and today
    energy, power = await _rows(hass)
    expected = _expected(buzzn_simulator, FIVE_PAST)
    hours = [
        _ts(OLDEST) + HOUR * index
        for index in range(int((_ts(FIRST_HOUR) - _ts(OLDEST)) / HOUR) + 1)
    ]
    # Every UTC hour from the oldest day to the anchor, once: 24 on the DST day.
    assert [row["start"] for row in energy] == hours
    assert [row["start"] for row in power] == hours
    assert len(hours) == 7 * 24 + 12 + 1
    # The recorder's own rows are kept as they were.
    assert energy[-1] == energy_before[0]
    assert power[-1] == power_before[0]
    _check_energy(energy, expected)
    _check_power(power[:-1], expected)

    # The energy also matches the simulated household's exact integral.
    own = buzzn_simulator.households[0]
    for row in energy[1:]:
        start = row["start"]
        assert expected[start]["kwh"] == pytest.approx(
            (own.energy_ws(start + HOUR) - own.energy_ws(start)) / 3.6e6, abs=1e-6
        )

    # A second run writes nothing and asks for nothing: no older hour is missing.
    entry.runtime_data.coordinator.history.async_start()
    await _imported(hass, entry, 3)
    assert await _rows(hass) == (energy, power)
    assert buzzn_simulator.requests[HISTORY] == 8
    assert "Could not import" not in caplog.text


@pytest.mark.freeze_time(NOW)
async def test_days_without_data_and_incomplete_hours_are_skipped(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    buzzn_simulator: BuzznSimulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A day answered 206 and an hour with a missing slot leave gaps, no error."""
    caplog.set_level(logging.DEBUG, logger="custom_components.energy_gateways")
    no_data = _ts("2026-03-26 00:00:00+00:00")
    missing_slot = "2026-03-27 10:30:00"
    served = buzzn_simulator.individual_history

    def individual_history(day: float, now: float) -> dict[str, Any] | None:
        if day == no_data:
            return None  # the server answers 206 {}
        answer = served(day, now)
        if answer is not None:
            answer["power"].pop(missing_slot, None)
        return answer

    monkeypatch.setattr(buzzn_simulator, "individual_history", individual_history)
    entry = await _set_up_with_first_hour(hass, buzzn_simulator)
    await _top_up(hass, freezer, entry)

    energy, power = await _rows(hass)
    expected = _expected(buzzn_simulator, FIVE_PAST)
    starts = [row["start"] for row in energy]
    assert starts == [row["start"] for row in power]
    assert starts == sorted(expected)[: len(starts)]
    assert starts[-1] == _ts(FIRST_HOUR)
    assert not any(no_data <= start < no_data + DAY for start in starts)
    assert _ts("2026-03-27 10:00:00+00:00") not in starts
    assert _ts("2026-03-27 09:00:00+00:00") in starts
    assert _ts("2026-03-27 11:00:00+00:00") in starts
    assert starts[0] == _ts(OLDEST)
    assert len(starts) == 7 * 24 + 12 + 1 - 24 - 1
    _check_energy(energy, expected)
    _check_power(power[:-1], expected)
    assert "Could not import" not in caplog.text


@pytest.mark.freeze_time(NOW)
async def test_no_history_at_all_writes_nothing(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    buzzn_simulator: BuzznSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every day answered 206: the recorder's rows stay alone, no warning."""
    caplog.set_level(logging.DEBUG, logger="custom_components.energy_gateways")
    entry = await _set_up_with_first_hour(hass, buzzn_simulator)
    before = await _rows(hass)
    buzzn_simulator.set_fault(BuzznFault.NO_HISTORY)
    await _top_up(hass, freezer, entry)
    assert buzzn_simulator.requests[HISTORY] == 8
    assert await _rows(hass) == before
    assert "Could not import" not in caplog.text


@pytest.mark.freeze_time(NOW)
async def test_a_failing_server_is_one_warning(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    buzzn_simulator: BuzznSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An error answer stops the run with one warning; nothing half written."""
    caplog.set_level(logging.DEBUG, logger="custom_components.energy_gateways")
    entry = await _set_up_with_first_hour(hass, buzzn_simulator)
    before = await _rows(hass)
    buzzn_simulator.set_fault(BuzznFault.HTTP_ERROR, status=500, path=HISTORY)
    await _top_up(hass, freezer, entry)
    assert await _rows(hass) == before
    warnings = [
        record
        for record in caplog.records
        if "Could not import" in record.getMessage()
        and record.levelno == logging.WARNING
    ]
    assert len(warnings) == 1

    # The server is back: the next run fills the hours in.
    buzzn_simulator.clear_fault(BuzznFault.HTTP_ERROR)
    entry.runtime_data.coordinator.history.async_start()
    await _imported(hass, entry, 3)
    energy, _ = await _rows(hass)
    assert energy[0]["start"] == _ts(OLDEST)
    check_continuous(energy)


@pytest.mark.freeze_time(NOW)
async def test_mean_backfill_writes_only_into_power_means(
    hass: HomeAssistant, buzzn_simulator: BuzznSimulator
) -> None:
    """The shared mean backfill leaves a statistic alone that is no power mean."""
    await _set_up_with_first_hour(hass, buzzn_simulator)
    targets = await async_mean_backfill_targets(
        hass, {"energy": f"{PROFILE_ID}_energy", "power": f"{PROFILE_ID}_power"}
    )
    assert set(targets) == {"energy", "power"}
    entity_id, anchor = targets["energy"]
    hour = datetime.fromisoformat("2026-03-30 11:00:00+00:00")
    stats = PowerStats(mean=500.0, min=400.0, max=600.0)
    assert (
        await async_backfill_sensor_means(
            hass, entity_id=entity_id, hours=[(hour, stats)], anchor=anchor
        )
        == 0
    )
    # Hours at or after the recorder's first one are never written.
    entity_id, anchor = targets["power"]
    assert (
        await async_backfill_sensor_means(
            hass,
            entity_id=entity_id,
            hours=[(anchor.start, stats), (anchor.start + timedelta(hours=1), stats)],
            anchor=anchor,
        )
        == 0
    )
    assert (
        await async_backfill_sensor_means(
            hass, entity_id=entity_id, hours=[(hour, stats)], anchor=anchor
        )
        == 1
    )
    await async_wait_recording_done(hass)
    rows = await statistic_rows(hass, entity_id, POWER_COLUMNS)
    assert rows[0] == {
        "start": hour.timestamp(),
        "end": anchor.start.timestamp(),
        "mean": 500.0,
        "min": 400.0,
        "max": 600.0,
    }
