"""The reader's history lands in long-term statistics: complete hours, no doubles."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
import itertools
import logging
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.models import (
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
    statistics_during_period,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util.unit_conversion import EnergyConverter
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_gateways.const import CONF_IMPORT_HISTORY, DOMAIN
from custom_components.energy_gateways.statistics import async_import_energy_sums
from simulators.cozify_han import HanFault, HanSimulator

from ..conftest import StatisticColumn, set_up_entry, statistic_rows, until
from ..cozify_han.conftest import NAME, han_entry_for

COLUMNS: tuple[StatisticColumn, ...] = ("state", "sum", "mean", "min", "max")

IMPORT = "energy_gateways:han12345678_energy_import"
EXPORT = "energy_gateways:han12345678_energy_export"
POWER = "energy_gateways:han12345678_power"
HOUR = timedelta(hours=1)
# 2026-03-10 12:37 UTC: 12:00 and 12:15 are final, 12:30 is the live bucket.
NOW = "2026-03-10 12:37:00+00:00"


async def create_external_statistics(hass: HomeAssistant, *statistic_ids: str) -> None:
    """Register external energy statistics without rows, as an earlier version had.

    Earlier versions created them on the first import; the import keeps the
    ones that exist up to date and creates none.
    """
    for key in statistic_ids:
        async_add_external_statistics(
            hass,
            StatisticMetaData(
                mean_type=StatisticMeanType.NONE,
                has_sum=True,
                name="old name",
                source=DOMAIN,
                statistic_id=key,
                unit_class=EnergyConverter.UNIT_CLASS,
                unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            ),
            [],
        )
    await async_wait_recording_done(hass)


@pytest.fixture(autouse=True)
async def existing_installation(hass: HomeAssistant) -> None:
    """These tests run on a reader that has the external statistics already."""
    await create_external_statistics(hass, IMPORT, EXPORT)


async def _imported(hass: HomeAssistant, entry: MockConfigEntry, runs: int) -> None:
    """Wait until the coordinator has started `runs` imports and the last one ended."""
    coordinator = entry.runtime_data.coordinator
    await until(
        lambda: (
            coordinator.history.task is not None
            and coordinator.history.task.done()
            and coordinator.history.runs >= runs
        )
    )
    await async_wait_recording_done(hass)


async def _weekly(simulator: HanSimulator) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{simulator.url}/history/weekly") as response,
    ):
        payload: dict[str, Any] = await response.json()
        return payload


def _hours_from(weekly: dict[str, Any]) -> dict[float, tuple[float, float, float]]:
    """Complete final hours of a weekly message: start -> (import, export, mean W)."""
    quarters: dict[float, list[tuple[float, float, float]]] = defaultdict(list)
    for start, final, imported, exported, mean in zip(
        weekly["t"], weekly["f"], weekly["i"], weekly["e"], weekly["c_avg"], strict=True
    ):
        if final == 1:
            quarters[start - start % 3600].append((imported, exported, mean))
    return {
        hour: (
            sum(q[0] for q in values),
            sum(q[1] for q in values),
            sum(q[2] for q in values) / 4,
        )
        for hour, values in quarters.items()
        if len(values) == 4
    }


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _check_sums(rows: list[dict[str, Any]]) -> None:
    """Every sum continues the previous one by exactly the hour's energy."""
    for previous, row in itertools.pairwise(rows):
        assert row["sum"] == pytest.approx(previous["sum"] + row["state"], abs=1e-5)
        assert row["state"] >= 0


async def _reconnect(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    simulator: HanSimulator,
) -> None:
    """Drop the stream and let the backoff reconnect it.

    Returns once the reconnect's reads are done and the first reading applied,
    so that the clock can be moved without timing out a request in flight.
    """
    coordinator = entry.runtime_data.coordinator
    stats = coordinator.stats
    reconnects = stats.reconnects
    simulator.drop_streams()
    await until(lambda: stats.state == "backoff")
    freezer.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await until(
        lambda: stats.reconnects > reconnects and coordinator.data.meter is not None
    )


@pytest.mark.freeze_time(NOW)
async def test_first_setup_imports_complete_hours(
    hass: HomeAssistant, setup_han: MockConfigEntry, han_simulator: HanSimulator
) -> None:
    """Complete final hours from the weekly history; days and months before it."""
    await _imported(hass, setup_han, 1)
    weekly = await _weekly(han_simulator)
    expected = _hours_from(weekly)
    imports = await statistic_rows(hass, IMPORT, COLUMNS)
    exports = await statistic_rows(hass, EXPORT, COLUMNS)
    powers = await statistic_rows(hass, POWER, COLUMNS)

    hourly = [row for row in imports if row["start"] >= _ts("2026-03-03 12:45+00:00")]
    # The history starts at 12:45 seven days ago: 13:00 is the first whole hour,
    # and the hour holding the live bucket (12:00 today) is not imported.
    assert hourly[0]["start"] == _ts("2026-03-03 13:00+00:00")
    assert hourly[-1]["start"] == _ts("2026-03-10 11:00+00:00")
    assert len(hourly) == 7 * 24 - 1
    assert [row["start"] for row in hourly] == sorted(expected)
    for row in hourly:
        assert row["state"] == pytest.approx(expected[row["start"]][0], abs=1e-6)
    for row in (r for r in exports if r["start"] in expected):
        assert row["state"] == pytest.approx(expected[row["start"]][1], abs=1e-6)
    assert [row["start"] for row in powers] == sorted(expected)
    for row in powers:
        assert row["mean"] == pytest.approx(expected[row["start"]][2], abs=0.1)
        assert row["min"] <= row["mean"] <= row["max"]

    # Where no 15-minute data exists: whole final days, then whole final months,
    # each in the first hour of its period (the day 2026-03-03 itself is cut).
    coarse = [row["start"] for row in imports if row["start"] < hourly[0]["start"]]
    days = [datetime.fromtimestamp(start, UTC) for start in coarse]
    assert days[-1] == datetime(2026, 3, 2, tzinfo=UTC)
    assert datetime(2026, 2, 8, tzinfo=UTC) in days  # oldest day of /history/monthly
    assert datetime(2026, 1, 1, tzinfo=UTC) in days  # a month from /history/yearly
    assert datetime(2026, 2, 1, tzinfo=UTC) not in days  # overlaps the daily data
    assert len(coarse) == 10 + 23
    assert len(exports) == len(imports)
    _check_sums(imports)
    _check_sums(exports)
    assert imports[0]["sum"] == pytest.approx(imports[0]["state"])


@pytest.mark.freeze_time("2026-03-10 13:04:45+00:00")
async def test_history_imported_twice_changes_nothing(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """A second import (reconnect, hourly top-up) writes nothing new."""
    await _imported(hass, setup_han, 1)
    keys = (IMPORT, EXPORT, POWER)
    before = {key: await statistic_rows(hass, key, COLUMNS) for key in keys}
    assert before[IMPORT][-1]["start"] == _ts("2026-03-10 12:00+00:00")

    await _reconnect(hass, freezer, setup_han, han_simulator)
    await _imported(hass, setup_han, 2)
    assert {key: await statistic_rows(hass, key, COLUMNS) for key in keys} == before
    assert han_simulator.requests["/history/monthly"] == 1  # not needed any more

    # Five past the hour the top-up runs; 13:00 is not complete yet.
    freezer.move_to("2026-03-10 13:05:00+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await _imported(hass, setup_han, 3)
    assert han_simulator.requests["/history/weekly"] == 3
    assert {key: await statistic_rows(hass, key, COLUMNS) for key in keys} == before
    last = await get_instance(hass).async_add_executor_job(
        get_last_statistics, hass, 1, IMPORT, True, {"sum"}
    )
    assert last[IMPORT][0]["sum"] == pytest.approx(before[IMPORT][-1]["sum"])


@pytest.mark.freeze_time(NOW)
async def test_history_with_a_gap(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """Hours cut by a gap are left out; the sum carries on across the gap."""
    han_simulator.set_fault(
        HanFault.HISTORY_GAP,
        start=_ts("2026-03-08 10:00+00:00"),
        end=_ts("2026-03-08 13:20+00:00"),
    )
    entry = await set_up_entry(hass, han_entry_for(han_simulator))
    await _imported(hass, entry, 1)
    rows = {row["start"]: row for row in await statistic_rows(hass, IMPORT, COLUMNS)}
    powers = {row["start"] for row in await statistic_rows(hass, POWER, COLUMNS)}

    before = _ts("2026-03-08 09:00+00:00")
    after = _ts("2026-03-08 14:00+00:00")
    assert before in rows
    assert after in rows
    for hour in range(10, 14):  # 13:00 lost its first two quarters
        start = _ts(f"2026-03-08 {hour}:00+00:00")
        assert start not in rows
        assert start not in powers
    assert rows[after]["sum"] == pytest.approx(
        rows[before]["sum"] + rows[after]["state"], abs=1e-5
    )
    _check_sums(list(rows.values()))


@pytest.mark.freeze_time("2026-10-26 08:07:00+00:00")
async def test_dst_change(hass: HomeAssistant, han_simulator: HanSimulator) -> None:
    """The night the clocks go back has 25 hours, each imported exactly once."""
    await hass.config.async_update(time_zone="Europe/Helsinki")
    entry = await set_up_entry(hass, han_entry_for(han_simulator))
    await _imported(hass, entry, 1)
    weekly = await _weekly(han_simulator)
    expected = _hours_from(weekly)
    rows = [
        r
        for r in await statistic_rows(hass, IMPORT, COLUMNS)
        if r["start"] >= min(expected)
    ]

    starts = [row["start"] for row in rows]
    assert starts == sorted(expected)
    assert all(b - a == 3600 for a, b in itertools.pairwise(starts))
    helsinki = ZoneInfo("Europe/Helsinki")
    local = [datetime.fromtimestamp(start, helsinki) for start in starts]
    night = [moment for moment in local if moment.date().isoformat() == "2026-10-25"]
    assert len(night) == 25
    assert [moment.hour for moment in night].count(3) == 2  # 03:00 EEST and EET
    _check_sums(rows)
    # The day total in the local calendar equals the history's hours of that day.
    day = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2026, 10, 25, tzinfo=helsinki),
        datetime(2026, 10, 26, tzinfo=helsinki),
        {IMPORT},
        "day",
        None,
        {"change"},
    )
    night_total = sum(
        row["state"]
        for row, moment in zip(rows, local, strict=True)
        if moment.date().isoformat() == "2026-10-25"
    )
    assert day[IMPORT][0]["change"] == pytest.approx(night_total, abs=1e-5)


@pytest.mark.freeze_time(NOW)
async def test_opt_out(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    han_simulator: HanSimulator,
) -> None:
    """With the option off the history is never read, not even after a reconnect."""
    entry = han_entry_for(han_simulator)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_IMPORT_HISTORY: False})
    await set_up_entry(hass, entry)
    await until(lambda: han_simulator.stream_clients == 1)
    await _reconnect(hass, freezer, entry, han_simulator)
    freezer.move_to("2026-03-10 13:05:00+00:00")
    async_fire_time_changed(hass)
    await async_wait_recording_done(hass)
    assert entry.runtime_data.coordinator.history.task is None
    assert not any(path.startswith("/history") for path in han_simulator.requests)
    assert await statistic_rows(hass, IMPORT, COLUMNS) == []


@pytest.mark.freeze_time("2026-03-10 12:59:30+00:00")
async def test_live_bucket_is_not_imported_until_final(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """Three final quarters and the live one: the hour waits for the next import."""
    await _imported(hass, setup_han, 1)
    weekly = await _weekly(han_simulator)
    assert weekly["t"][-1] == _ts("2026-03-10 12:45+00:00")
    assert weekly["f"][-4:] == [1, 1, 1, 0]
    rows = await statistic_rows(hass, IMPORT, COLUMNS)
    assert rows[-1]["start"] == _ts("2026-03-10 11:00+00:00")

    freezer.move_to("2026-03-10 13:00:30+00:00")
    await _reconnect(hass, freezer, setup_han, han_simulator)
    await _imported(hass, setup_han, 2)
    after = await statistic_rows(hass, IMPORT, COLUMNS)
    assert after[:-1] == rows
    assert after[-1]["start"] == _ts("2026-03-10 12:00+00:00")
    expected = _hours_from(await _weekly(han_simulator))
    assert after[-1]["state"] == pytest.approx(expected[after[-1]["start"]][0])
    assert after[-1]["sum"] == pytest.approx(rows[-1]["sum"] + after[-1]["state"])
    assert len(await statistic_rows(hass, POWER, COLUMNS)) == 7 * 24


@pytest.mark.freeze_time(NOW)
async def test_failure_is_logged_once_and_spares_the_stream(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    han_simulator: HanSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A reader that cannot serve its history: one warning, the stream stays up."""
    caplog.set_level(logging.DEBUG, logger="custom_components.energy_gateways")
    han_simulator.set_fault(HanFault.HTTP_ERROR, status=500, path="/history")
    entry = await set_up_entry(hass, han_entry_for(han_simulator))
    await _imported(hass, entry, 1)
    await _reconnect(hass, freezer, entry, han_simulator)
    await _imported(hass, entry, 2)
    failures = [r for r in caplog.records if "Could not import" in r.getMessage()]
    assert [r.levelno for r in failures] == [logging.WARNING, logging.DEBUG]
    assert all(r.exc_info is None for r in failures)
    assert NAME in failures[0].getMessage()
    assert entry.runtime_data.coordinator.link_up
    assert await statistic_rows(hass, IMPORT, COLUMNS) == []

    han_simulator.clear_fault(HanFault.HTTP_ERROR)
    await _reconnect(hass, freezer, entry, han_simulator)
    await _imported(hass, entry, 3)
    assert len(await statistic_rows(hass, IMPORT, COLUMNS)) > 0


@pytest.mark.freeze_time(NOW)
async def test_firmware_without_daily_history(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """Without /history/monthly, whole months fill in up to the weekly history."""
    han_simulator.set_fault(HanFault.HTTP_ERROR, status=404, path="/history/monthly")
    entry = await set_up_entry(hass, han_entry_for(han_simulator))
    await _imported(hass, entry, 1)
    rows = await statistic_rows(hass, IMPORT, COLUMNS)
    hourly = [row for row in rows if row["start"] >= _ts("2026-03-03 13:00+00:00")]
    coarse = [datetime.fromtimestamp(row["start"], UTC) for row in rows[: -len(hourly)]]
    assert len(hourly) == 7 * 24 - 1
    months = [(2025, month) for month in range(4, 13)] + [(2026, 1), (2026, 2)]
    assert coarse == [datetime(year, month, 1, tzinfo=UTC) for year, month in months]
    _check_sums(rows)


async def test_helper_rejects_bad_hours(hass: HomeAssistant) -> None:
    """Hour starts must be aware, on the hour and unique; nothing is written else."""
    bad = [
        [(datetime(2026, 3, 1, 12), 1.0)],  # noqa: DTZ001 - naive on purpose
        [(datetime(2026, 3, 1, 12, 30, tzinfo=UTC), 1.0)],
        [
            (datetime(2026, 3, 1, 12, tzinfo=UTC), 1.0),
            (datetime(2026, 3, 1, 14, tzinfo=ZoneInfo("Europe/Helsinki")), 1.0),
        ],
    ]
    for hours in bad:
        with pytest.raises(ValueError, match="hour"):
            await async_import_energy_sums(
                hass, statistic_id=IMPORT, name="test", hours=hours
            )
    assert (
        await async_import_energy_sums(hass, statistic_id=IMPORT, name="test", hours=[])
        == 0
    )
    await async_wait_recording_done(hass)
    assert await statistic_rows(hass, IMPORT, COLUMNS) == []
