"""Parsing the reader's history columns, and summing quarters into hours."""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.energy_gateways.devices.cozify_han.history import (
    coarse_buckets,
    complete_hours,
)
from custom_components.energy_gateways.devices.cozify_han.models import parse_history

T0 = 1_773_144_000  # 2026-03-10 12:00 UTC


def test_parse_history_by_key_and_tolerant() -> None:
    """Columns in any order; short arrays and bad values drop only their bucket."""
    history = parse_history(
        {
            "type": "HAN_WEEKLY_HISTORY_MESSAGE",
            "x": T0 + 3000,
            "pc": "EUR",
            "c_avg": [100, 200, 300, "x", 500],
            "e": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            "t": [T0, T0 + 900, T0 + 1800, T0 + 2700, "bad", T0 + 3600, T0 + 4500],
            "f": [1, 1, 2, 1, 1, 0, 1],
            "i": [0.1, "0.2", 0.3, 0.4, 0.5, 0.6, 0.7],
            "c_min": [50],
        }
    )
    assert history is not None
    assert history.currency == "EUR"
    assert history.generated == datetime.fromtimestamp(T0 + 3000, UTC)
    # f = 2 is no flag, "bad" is no time, the last bucket has no export value.
    assert [b.start.timestamp() for b in history.buckets] == [
        T0,
        T0 + 900,
        T0 + 2700,
        T0 + 3600,
    ]
    assert [b.energy_import for b in history.buckets] == [0.1, 0.2, 0.4, 0.6]
    assert history.buckets[0].power_min == 50
    assert history.buckets[1].power_min is None
    assert history.buckets[2].power_avg is None
    assert history.buckets[2].price is None
    assert not history.buckets[3].final
    assert parse_history({"type": "HAN_WEEKLY_HISTORY_MESSAGE"}) is None
    assert parse_history([1, 2]) is None


def test_complete_hours_need_four_final_quarters_and_power() -> None:
    """An hour with a missing, live or powerless quarter gives no power row."""
    history = parse_history(
        {
            "t": [T0 + 900 * n for n in range(12)],
            "f": [1] * 11 + [0],
            "i": [0.25] * 12,
            "e": [0.0] * 12,
            "c_min": [1, 2, 3, 4, 5, 6, 7, None, 9, 10, 11, 12],
            "c_avg": [10] * 12,
            "c_max": [20, 30, 40, 50] * 3,
        }
    )
    assert history is not None
    hours = complete_hours(history.buckets)
    assert [hour.start.timestamp() for hour in hours] == [T0, T0 + 3600]
    assert hours[0].energy_import == 1.0
    assert hours[0].power is not None
    assert (hours[0].power.mean, hours[0].power.min, hours[0].power.max) == (10, 1, 50)
    assert hours[1].power is None
    assert coarse_buckets((), None) == []
