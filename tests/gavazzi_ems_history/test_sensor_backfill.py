"""The EMS counters' history goes into the energy sensors' own statistics."""

from __future__ import annotations

import itertools

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.energy_gateways.const import DOMAIN
from simulators.gavazzi_ems import EmsSimulator

from ..conftest import (
    check_continuous,
    compile_hour,
    metadata,
    set_up_entry,
    statistic_rows,
)
from ..gavazzi_ems.conftest import SERIAL, ems_entry_for
from .test_history_import import (
    COLUMNS,
    _counters,
    _expected,
    _five_past,
    _imported,
    _ts,
)


@pytest.mark.freeze_time("2026-03-10 12:59:00+00:00")
async def test_history_goes_into_the_sensors(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
) -> None:
    """Every enabled counter sensor: the hours before its first recorder row."""
    entry = await set_up_entry(hass, ems_entry_for(ems_simulator))
    await _imported(hass, entry, 1)
    registry = er.async_get(hass)
    sensors = {}
    for counter in _counters(ems_simulator):
        entity_id = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{SERIAL}_{counter.signal.uid}"
        )
        assert entity_id is not None
        entity = registry.async_get(entity_id)
        if entity is not None and not entity.disabled:
            sensors[entity_id] = counter
    assert len(sensors) >= 2
    # No anchor yet: nothing written, no external statistic created.
    for entity_id in sensors:
        assert await statistic_rows(hass, entity_id, COLUMNS) == []
    assert await metadata(hass, statistic_source=DOMAIN) == {}

    await compile_hour(hass, "2026-03-10 12:00+00:00")
    recorded = {e: await statistic_rows(hass, e, COLUMNS) for e in sensors}
    await _five_past(hass, freezer, entry, "2026-03-10 13:05:00+00:00", 2)
    after = {e: await statistic_rows(hass, e, COLUMNS) for e in sensors}
    for entity_id, counter in sensors.items():
        rows = after[entity_id]
        expected = _expected(counter, "2026-03-10 13:05:00+00:00")
        anchor, last_imported = rows[-1], rows[-2]
        assert anchor == recorded[entity_id][0]
        assert anchor["start"] == _ts("2026-03-10 12:00+00:00")
        assert last_imported["start"] == _ts("2026-03-10 11:00+00:00")
        assert anchor["sum"] - last_imported["sum"] == pytest.approx(
            expected[anchor["start"]], abs=1e-5
        )
        assert [row["start"] for row in rows] == sorted(expected)
        for previous, row in itertools.pairwise(rows):
            assert row["sum"] - previous["sum"] == pytest.approx(
                expected[row["start"]], abs=1e-5
            )
        check_continuous(rows)
    assert await metadata(hass, statistic_source=DOMAIN) == {}

    # A second run has nothing older to add.
    entry.runtime_data.coordinator.history.async_start()
    await _imported(hass, entry, 3)
    assert {e: await statistic_rows(hass, e, COLUMNS) for e in sensors} == after
