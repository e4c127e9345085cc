"""The EMS gateway's counter history lands in long-term statistics: whole hours, once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
import itertools
import logging
import math
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import (
    get_last_statistics,
    get_metadata,
)
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.energy_gateways.const import CONF_IMPORT_HISTORY, DOMAIN
from custom_components.energy_gateways.devices.gavazzi_ems.client import PAGE_SIZE
from custom_components.energy_gateways.devices.gavazzi_ems.history import (
    counter_statistic_id,
)
from simulators.gavazzi_ems import EmsFault, EmsSimulator
from simulators.gavazzi_ems.data import (
    HISTORY_PERIOD,
    HISTORY_RETENTION,
    Load,
    Signal,
    history_row,
)

from ..conftest import StatisticColumn, set_up_entry, statistic_rows, until
from ..cozify_han_history.test_history_import import create_external_statistics
from ..gavazzi_ems.conftest import HEAT_PUMP, MAIN, SERIAL, TITLE, ems_entry_for

COLUMNS: tuple[StatisticColumn, ...] = ("state", "sum")

HISTORY = "/v1/signals/history"
COUNTER_CODES = {43: "import", 44: "export"}
# 12:30 is the newest period end; the history starts 7 days before it, so
# 2026-03-03 13:00 is the first whole hour and 12:00 today is still running.
NOW = "2026-03-10 12:37:00+00:00"
# Five past: the hourly top-up's minute; 11:00 is the newest whole hour.
FIVE_PAST = "2026-03-10 12:05:00+00:00"


@dataclass(frozen=True, slots=True)
class Counter:
    """An energy counter of the simulated installation and its statistic."""

    statistic_id: str
    name: str
    load: Load
    signal: Signal


def _counters(simulator: EmsSimulator) -> list[Counter]:
    """Total import and export (si 43/44) of every meter, from the simulator."""
    counters = []
    for device in simulator.installation.visible_devices():
        for load in device.loads:
            for signal in load.signals:
                kind = COUNTER_CODES.get(signal.si)
                if kind is None:
                    continue
                counters.append(
                    Counter(
                        statistic_id=(
                            f"{DOMAIN}:{SERIAL.lower()}_{signal.uid}_energy_{kind}"
                        ),
                        name=(
                            f"{device.label} {load.label} energy {kind}"
                            " (imported history)"
                        ),
                        load=load,
                        signal=signal,
                    )
                )
    return counters


@pytest.fixture(autouse=True)
async def existing_installation(
    hass: HomeAssistant, ems_simulator: EmsSimulator
) -> None:
    """These tests run on a gateway that has the external statistics already."""
    await create_external_statistics(
        hass, *(counter.statistic_id for counter in _counters(ems_simulator))
    )


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _expected(counter: Counter, now: str) -> dict[float, float]:
    """Hour start -> the simulator's four 15-minute increases of that hour, summed.

    Only hours whose every period lies within the simulator's kept history
    (the newest period end at or before `now`, 7 days back) are whole.
    """
    newest = int(_ts(now)) // HISTORY_PERIOD * HISTORY_PERIOD
    oldest = newest - HISTORY_RETENTION
    first = -(-(oldest - HISTORY_PERIOD) // 3600) * 3600
    hours = {}
    for hour in range(first, newest - 3600 + 1, 3600):
        ends = range(hour + HISTORY_PERIOD, hour + 3600 + 1, HISTORY_PERIOD)
        hours[float(hour)] = sum(
            history_row(counter.load, counter.signal, end)["d"] for end in ends
        )
    return hours


async def _imported(hass: HomeAssistant, entry: MockConfigEntry, runs: int) -> None:
    """Check that `runs` imports have started; wait for the newest one to end.

    Awaits the task rather than polling for it: a busy event loop would starve
    the recorder's threads that the import waits on.
    """
    history = entry.runtime_data.coordinator.history
    assert history.runs == runs
    assert history.task is not None
    await history.task
    await async_wait_recording_done(hass)


async def _polled(entry: MockConfigEntry, cycles: int) -> None:
    """Wait until `cycles` polls have succeeded (no request left in flight)."""
    stats = entry.runtime_data.coordinator.stats
    await until(lambda: stats.cycles >= cycles)


async def _five_past(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    moment: str,
    runs: int,
) -> None:
    """Move to `moment` (five past an hour): one poll and the hourly import run.

    Call only with nothing in flight: the clock must not move under a request.
    """
    cycles = entry.runtime_data.coordinator.stats.cycles
    freezer.move_to(moment)
    async_fire_time_changed(hass)
    await _polled(entry, cycles + 1)
    await _imported(hass, entry, runs)


async def _all_rows(
    hass: HomeAssistant, counters: list[Counter]
) -> dict[str, list[dict[str, Any]]]:
    return {
        c.statistic_id: await statistic_rows(hass, c.statistic_id, COLUMNS)
        for c in counters
    }


async def _metadata(hass: HomeAssistant) -> dict[str, dict[str, Any]]:
    """Every statistic of this integration: id -> metadata."""
    result = await get_instance(hass).async_add_executor_job(
        partial(get_metadata, hass, statistic_source=DOMAIN)
    )
    return {key: dict(meta) for key, (_, meta) in result.items()}


async def _untouched(hass: HomeAssistant) -> bool:
    """Whether no statistic was written: the external ones keep their old name."""
    return {meta["name"] for meta in (await _metadata(hass)).values()} == {"old name"}


def _check(rows: list[dict[str, Any]], expected: dict[float, float]) -> None:
    """The rows are the expected hours, and every sum continues the one before."""
    assert [row["start"] for row in rows] == sorted(expected)
    for row in rows:
        assert row["state"] == pytest.approx(expected[row["start"]], abs=1e-6)
        assert row["state"] >= 0
    assert rows[0]["sum"] == pytest.approx(rows[0]["state"], abs=1e-6)
    for previous, row in itertools.pairwise(rows):
        assert row["sum"] == pytest.approx(previous["sum"] + row["state"], abs=1e-6)


@pytest.mark.freeze_time(NOW)
async def test_first_import_writes_complete_hours(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
) -> None:
    """Every total import/export counter: its whole hours, summed and named."""
    entry = await set_up_entry(hass, ems_entry_for(ems_simulator))
    await _imported(hass, entry, 1)
    counters = _counters(ems_simulator)
    assert len(counters) == 8  # four meters, import and export each

    # The ids the integration names its statistics by are the ones written.
    configuration = entry.runtime_data.coordinator.data.configuration
    assert {
        counter_statistic_id(SERIAL, signal)
        for signal in configuration.signals.values()
        if signal.si in COUNTER_CODES
    } == {counter.statistic_id for counter in counters}
    metadata = await _metadata(hass)
    assert set(metadata) == {counter.statistic_id for counter in counters}
    for counter in counters:
        meta = metadata[counter.statistic_id]
        assert meta["name"] == counter.name
        assert meta["source"] == DOMAIN
        assert meta["has_sum"] is True
        assert meta["unit_of_measurement"] == "kWh"
    names = {meta["name"] for meta in metadata.values()}
    assert "Main meter Main energy import (imported history)" in names
    assert "EM1 Heat pump energy export (imported history)" in names

    for counter in counters:
        rows = await statistic_rows(hass, counter.statistic_id, COLUMNS)
        # Whole hours only: 7 days less the hour cut by the start of the
        # history; the running hour 12:00 is not imported.
        assert len(rows) == 7 * 24 - 1
        assert rows[0]["start"] == _ts("2026-03-03 13:00+00:00")
        assert rows[-1]["start"] == _ts("2026-03-10 11:00+00:00")
        _check(rows, _expected(counter, NOW))
    # The solar meters export in daylight: export hours are not all zero.
    export = next(
        c
        for c in counters
        if c.name == "Main meter Main energy export (imported history)"
    )
    assert (await statistic_rows(hass, export.statistic_id, COLUMNS))[-1]["sum"] > 0


@pytest.mark.freeze_time(NOW)
async def test_import_twice_changes_nothing(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A second run asks only for the missing hours and writes nothing."""
    caplog.set_level(logging.DEBUG, logger="custom_components.energy_gateways")
    entry = await set_up_entry(hass, ems_entry_for(ems_simulator))
    await _imported(hass, entry, 1)
    counters = _counters(ems_simulator)
    before = await _all_rows(hass, counters)
    assert all(len(rows) == 7 * 24 - 1 for rows in before.values())
    # 673 periods per counter (7 days and the newest), read page by page.
    periods = HISTORY_RETENTION // HISTORY_PERIOD + 1
    assert ems_simulator.requests[HISTORY] == math.ceil(
        len(counters) * periods / PAGE_SIZE
    )

    entry.runtime_data.coordinator.history.async_start()
    await _imported(hass, entry, 2)
    assert await _all_rows(hass, counters) == before
    # Only from 12:00 on (the hour after the newest stored one): one page.
    assert (
        ems_simulator.requests[HISTORY]
        == math.ceil(len(counters) * periods / PAGE_SIZE) + 1
    )
    imported = [
        record.getMessage()
        for record in caplog.records
        if record.getMessage().startswith("Imported ")
    ]
    assert imported == [
        f"Imported {len(counters) * (7 * 24 - 1)} statistics rows from {TITLE}",
        f"Imported 0 statistics rows from {TITLE}",
    ]


@pytest.mark.freeze_time(FIVE_PAST)
async def test_next_hour_is_appended(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
) -> None:
    """At five past the hour the hour just ended is added; the sum carries on."""
    entry = await set_up_entry(hass, ems_entry_for(ems_simulator))
    await _imported(hass, entry, 1)
    await _polled(entry, 1)
    counters = _counters(ems_simulator)
    before = await _all_rows(hass, counters)
    for counter in counters:
        rows = before[counter.statistic_id]
        assert len(rows) == 7 * 24
        assert rows[-1]["start"] == _ts("2026-03-10 11:00+00:00")

    await _five_past(hass, freezer, entry, "2026-03-10 13:05:00+00:00", 2)
    after = await _all_rows(hass, counters)
    for counter in counters:
        old, new = before[counter.statistic_id], after[counter.statistic_id]
        assert new[:-1] == old
        assert len(new) == len(old) + 1
        assert new[-1]["start"] == _ts("2026-03-10 12:00+00:00")
        expected = _expected(counter, "2026-03-10 13:05:00+00:00")
        assert new[-1]["state"] == pytest.approx(expected[new[-1]["start"]], abs=1e-6)
        assert new[-1]["sum"] == pytest.approx(
            old[-1]["sum"] + new[-1]["state"], abs=1e-6
        )
        last = await get_instance(hass).async_add_executor_job(
            get_last_statistics, hass, 1, counter.statistic_id, True, {"sum"}
        )
        assert last[counter.statistic_id][0]["sum"] == pytest.approx(new[-1]["sum"])


@pytest.mark.freeze_time(FIVE_PAST)
async def test_opt_out(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
) -> None:
    """With the option off no history is read or written, not even hourly."""
    entry = ems_entry_for(ems_simulator)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_IMPORT_HISTORY: False})
    await set_up_entry(hass, entry)
    await _polled(entry, 1)
    cycles = entry.runtime_data.coordinator.stats.cycles
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await _polled(entry, cycles + 1)
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    history = entry.runtime_data.coordinator.history
    assert history.runs == 0
    assert history.task is None
    assert HISTORY not in ems_simulator.requests
    assert await _untouched(hass)


@pytest.mark.freeze_time(NOW)
async def test_gateway_error_is_logged_once(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failing history: one warning, the sensors carry on, a later run catches up."""
    caplog.set_level(logging.DEBUG, logger="custom_components.energy_gateways")
    ems_simulator.set_fault(EmsFault.HTTP_ERROR, status=503, path=HISTORY)
    entry = await set_up_entry(hass, ems_entry_for(ems_simulator))
    await _imported(hass, entry, 1)
    coordinator = entry.runtime_data.coordinator
    coordinator.history.async_start()
    await _imported(hass, entry, 2)
    assert ems_simulator.requests[HISTORY] == 2

    failures = [r for r in caplog.records if "Could not import" in r.getMessage()]
    assert [r.levelno for r in failures] == [logging.WARNING, logging.DEBUG]
    assert all(r.exc_info is None for r in failures)
    assert TITLE in failures[0].getMessage()
    assert "503" in failures[0].getMessage()
    assert await _untouched(hass)
    assert coordinator.last_update_success
    for entity_id in (f"{MAIN}_energy_import", f"{HEAT_PUMP}_energy_import"):
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state != STATE_UNAVAILABLE
        assert float(state.state) > 0

    ems_simulator.clear_fault(EmsFault.HTTP_ERROR)
    later = "2026-03-10 13:05:00+00:00"
    await _five_past(hass, freezer, entry, later, 3)
    counters = _counters(ems_simulator)
    assert set(await _metadata(hass)) == {c.statistic_id for c in counters}
    for counter in counters:
        rows = await statistic_rows(hass, counter.statistic_id, COLUMNS)
        assert len(rows) == 7 * 24
        assert rows[-1]["start"] == _ts("2026-03-10 12:00+00:00")
        _check(rows, _expected(counter, later))
    # A success ends the failure streak: nothing more was logged as failed.
    assert len([r for r in caplog.records if "Could not import" in r.getMessage()]) == 2


@pytest.mark.freeze_time(FIVE_PAST)
async def test_new_meter_gets_its_whole_history(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
) -> None:
    """A meter added later gets no external statistic; the others carry on."""
    entry = await set_up_entry(hass, ems_entry_for(ems_simulator))
    await _imported(hass, entry, 1)
    await _polled(entry, 1)
    old = _counters(ems_simulator)
    before = await _all_rows(hass, old)

    ems_simulator.set_fault(EmsFault.DEVICE_APPEARS, label="EM3")
    # The hour's poll reads the new tree; the import that starts beside it may
    # still see the old one, so one more run follows.
    later = "2026-03-10 13:05:00+00:00"
    await _five_past(hass, freezer, entry, later, 2)
    assert len(entry.runtime_data.coordinator.data.configuration.devices) == 5
    entry.runtime_data.coordinator.history.async_start()
    await _imported(hass, entry, 3)

    counters = _counters(ems_simulator)
    new = [counter for counter in counters if counter not in old]
    assert [counter.name for counter in new] == [
        "EM3 EM3 energy import (imported history)",
        "EM3 EM3 energy export (imported history)",
    ]
    assert set(await _metadata(hass)) == {c.statistic_id for c in old}
    after = await _all_rows(hass, counters)
    for counter in old:
        rows = after[counter.statistic_id]
        assert rows[:-1] == before[counter.statistic_id]
        assert rows[-1]["start"] == _ts("2026-03-10 12:00+00:00")
        _check(rows, _expected(counter, FIVE_PAST) | _expected(counter, later))
    for counter in new:
        assert after[counter.statistic_id] == []


@pytest.mark.freeze_time(NOW)
async def test_gateway_without_counters(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
) -> None:
    """Without total energy counters there is nothing to ask for."""
    for load in ems_simulator.installation.visible_loads():
        load.signals = [s for s in load.signals if s.si not in COUNTER_CODES]
    entry = await set_up_entry(hass, ems_entry_for(ems_simulator))
    await _imported(hass, entry, 1)
    assert HISTORY not in ems_simulator.requests
    assert await _untouched(hass)
    state = hass.states.get(f"{MAIN}_voltage_l1")
    assert state is not None
    assert 220 < float(state.state) < 240


@pytest.mark.freeze_time(NOW)
async def test_meter_without_label(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
) -> None:
    """A meter without a label names its statistics "Device <uid> <load>"."""
    for uid in (1, 60, 90):
        ems_simulator.remove_device(uid)
    ems_simulator.installation.devices[30].label = ""
    entry = await set_up_entry(hass, ems_entry_for(ems_simulator))
    await _imported(hass, entry, 1)
    metadata = await _metadata(hass)
    assert sorted(
        meta["name"]
        for key, meta in metadata.items()
        if key in {c.statistic_id for c in _counters(ems_simulator)}
    ) == [
        "Device 30 Heat pump energy export (imported history)",
        "Device 30 Heat pump energy import (imported history)",
    ]
    for counter in _counters(ems_simulator):
        _check(
            await statistic_rows(hass, counter.statistic_id, COLUMNS),
            _expected(counter, NOW),
        )
