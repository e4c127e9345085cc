"""The reader's history goes into the energy sensors' own statistics."""

from __future__ import annotations

from datetime import UTC, datetime
import itertools
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import (
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from simulators.cozify_han import HanSimulator

from ..conftest import (
    check_continuous,
    compile_hour,
    metadata,
    set_up_entry,
    statistic_rows,
)
from ..cozify_han.conftest import han_entry_for
from .test_history_import import (
    COLUMNS,
    EXPORT,
    IMPORT,
    POWER,
    _hours_from,
    _imported,
    _reconnect,
    _ts,
    _weekly,
    create_external_statistics,
)

DIRECTIONS = ("energy_import", "energy_export")


def sensor_ids(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """The entity ids of the energy import and export sensors, in that order."""
    registry = er.async_get(hass)
    ids = [
        registry.async_get_entity_id("sensor", DOMAIN, f"{entry.unique_id}_{key}")
        for key in DIRECTIONS
    ]
    assert all(ids)
    return [entity_id for entity_id in ids if entity_id]


@pytest.mark.freeze_time("2026-03-10 12:59:30+00:00")
async def test_history_goes_into_the_sensors(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """Older hours before the recorder's first row, sums continuous, once."""
    await _imported(hass, setup_han, 1)
    sensors = sensor_ids(hass, setup_han)
    # No anchor yet: nothing written, no external energy statistic created.
    for entity_id in sensors:
        assert await statistic_rows(hass, entity_id, COLUMNS) == []
    assert set(await metadata(hass, statistic_source=DOMAIN)) == {POWER}
    assert han_simulator.requests.get("/history/monthly", 0) == 0

    # The recorder compiles the sensors' first hour from their first state.
    await compile_hour(hass, "2026-03-10 12:00+00:00")
    recorded = {e: await statistic_rows(hass, e, COLUMNS) for e in sensors}
    recorder_meta = await metadata(hass, statistic_ids=set(sensors))
    for rows in recorded.values():
        assert [row["start"] for row in rows] == [_ts("2026-03-10 12:00+00:00")]

    freezer.move_to("2026-03-10 13:00:30+00:00")
    await _reconnect(hass, freezer, setup_han, han_simulator)
    await _imported(hass, setup_han, 2)
    expected = _hours_from(await _weekly(han_simulator))
    after = {e: await statistic_rows(hass, e, COLUMNS) for e in sensors}
    for index, entity_id in enumerate(sensors):
        rows = after[entity_id]
        anchor, last_imported = rows[-1], rows[-2]
        assert anchor == recorded[entity_id][0]  # the recorder's row is untouched
        assert last_imported["start"] == _ts("2026-03-10 11:00+00:00")
        # The step into the recorder's first hour is that hour's real energy.
        assert anchor["sum"] - last_imported["sum"] == pytest.approx(
            expected[anchor["start"]][index], abs=1e-5
        )
        # Every imported hour of the weekly history: its step is its energy.
        hourly = [row for row in rows if row["start"] >= min(expected)]
        assert [row["start"] for row in hourly] == sorted(expected)
        for previous, row in itertools.pairwise(hourly):
            assert row["sum"] - previous["sum"] == pytest.approx(
                expected[row["start"]][index], abs=1e-5
            )
        # Whole days and months from the coarse history before it.
        coarse = rows[: len(rows) - len(hourly)]
        assert len(coarse) > 20
        assert all(
            datetime.fromtimestamp(row["start"], UTC).hour == 0 for row in coarse
        )
        check_continuous(rows)
    # The sensors' metadata is still the recorder's own.
    assert await metadata(hass, statistic_ids=set(sensors)) == recorder_meta
    assert all(meta["source"] == "recorder" for meta in recorder_meta.values())
    assert all(meta["name"] is None for meta in recorder_meta.values())
    assert set(await metadata(hass, statistic_source=DOMAIN)) == {POWER}

    # A second run finds the imported rows as the oldest: nothing to add.
    setup_han.runtime_data.coordinator.history.async_start()
    await _imported(hass, setup_han, 3)
    assert {e: await statistic_rows(hass, e, COLUMNS) for e in sensors} == after
    assert han_simulator.requests["/history/monthly"] == 1


@pytest.mark.freeze_time("2026-03-10 12:37:00+00:00")
async def test_existing_external_statistic_is_kept_up_to_date(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """A reader that had the external import statistic keeps it, renamed."""
    await create_external_statistics(hass, IMPORT)
    entry = await set_up_entry(hass, han_entry_for(han_simulator))
    await _imported(hass, entry, 1)
    meta = await metadata(hass, statistic_source=DOMAIN)
    assert set(meta) == {IMPORT, POWER}  # no export statistic is created
    assert meta[IMPORT]["name"] == "Cozify-HAN-123-456 energy import (imported history)"
    rows = await statistic_rows(hass, IMPORT, COLUMNS)
    assert rows[-1]["start"] == _ts("2026-03-10 11:00+00:00")
    assert await statistic_rows(hass, EXPORT, COLUMNS) == []


@pytest.mark.freeze_time("2026-03-10 12:59:30+00:00")
async def test_disabled_sensor_is_skipped(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_han: MockConfigEntry,
    han_simulator: HanSimulator,
) -> None:
    """A sensor the user disabled gets nothing; the other one does."""
    await _imported(hass, setup_han, 1)
    imported, exported = sensor_ids(hass, setup_han)
    await compile_hour(hass, "2026-03-10 12:00+00:00")
    er.async_get(hass).async_update_entity(
        exported, disabled_by=er.RegistryEntryDisabler.USER
    )
    await hass.async_block_till_done()
    freezer.move_to("2026-03-10 13:00:30+00:00")
    setup_han.runtime_data.coordinator.history.async_start()
    await _imported(hass, setup_han, 2)
    assert len(await statistic_rows(hass, imported, COLUMNS)) > 1
    assert len(await statistic_rows(hass, exported, COLUMNS)) == 1


@pytest.mark.freeze_time("2026-10-26 07:59:30+00:00")
async def test_dst_night_in_the_sensor(
    freezer: FrozenDateTimeFactory, hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """The night the clocks go back: 25 hours, the day's change is their energy."""
    await hass.config.async_update(time_zone="Europe/Helsinki")
    entry = await set_up_entry(hass, han_entry_for(han_simulator))
    await _imported(hass, entry, 1)
    imported = sensor_ids(hass, entry)[0]
    await compile_hour(hass, "2026-10-26 07:00+00:00")
    freezer.move_to("2026-10-26 08:00:30+00:00")
    await _reconnect(hass, freezer, entry, han_simulator)
    await _imported(hass, entry, 2)

    expected = _hours_from(await _weekly(han_simulator))
    rows = [
        row
        for row in await statistic_rows(hass, imported, COLUMNS)
        if row["start"] >= min(expected)
    ]
    starts = [row["start"] for row in rows]
    assert starts == sorted(expected)
    assert all(b - a == 3600 for a, b in itertools.pairwise(starts))
    helsinki = ZoneInfo("Europe/Helsinki")
    night = [
        start
        for start in starts
        if datetime.fromtimestamp(start, helsinki).date().isoformat() == "2026-10-25"
    ]
    assert len(night) == 25
    check_continuous(rows)
    day = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2026, 10, 25, tzinfo=helsinki),
        datetime(2026, 10, 26, tzinfo=helsinki),
        {imported},
        "day",
        None,
        {"change"},
    )
    assert day[imported][0]["change"] == pytest.approx(
        sum(expected[start][0] for start in night), abs=1e-5
    )
