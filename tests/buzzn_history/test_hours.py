"""15-minute average powers summed into complete UTC hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_gateways.devices.buzzn.history import (
    complete_hours,
    history_days,
)
from custom_components.energy_gateways.statistics import PowerStats

BASE = datetime(2026, 3, 10, 8, tzinfo=UTC)
SLOT = timedelta(minutes=15)
HOUR = timedelta(hours=1)


def slots(watts: list[float], start: datetime = BASE) -> dict[datetime, float]:
    """Consecutive slots from `start`, keyed by their end."""
    return {start + (n + 1) * SLOT: value for n, value in enumerate(watts)}


def test_an_hour_is_its_four_slots() -> None:
    (hour,) = complete_hours(slots([1000.0, 2000.0, 3000.0, 4000.0]))
    assert hour.start == BASE
    # 0.25 h each: (1 + 2 + 3 + 4) kW * 0.25 h
    assert hour.energy == pytest.approx(2.5)
    assert hour.power == PowerStats(mean=2500.0, min=1000.0, max=4000.0)


def test_an_hour_with_a_missing_slot_is_left_out() -> None:
    power = slots([500.0] * 12)
    del power[BASE + HOUR + 2 * SLOT]  # the third slot of 09:00
    assert [hour.start for hour in complete_hours(power)] == [BASE, BASE + 2 * HOUR]


def test_the_running_hour_is_left_out() -> None:
    hours = complete_hours(slots([500.0] * 7))
    assert [hour.start for hour in hours] == [BASE]


def test_slots_not_aligned_to_the_hour_give_nothing() -> None:
    assert complete_hours(slots([500.0] * 8, start=BASE + timedelta(minutes=5))) == []
    assert complete_hours({}) == []


def test_hours_are_utc_across_a_dst_change() -> None:
    """Slot ends given in local time: 24 UTC hours on the day summer time starts."""
    berlin = ZoneInfo("Europe/Berlin")
    day = datetime(2026, 3, 29, tzinfo=UTC)
    power = {(day + (n + 1) * SLOT).astimezone(berlin): 400.0 for n in range(4 * 24)}
    hours = complete_hours(power)
    assert [hour.start for hour in hours] == [day + n * HOUR for n in range(24)]
    assert all(hour.start.tzinfo is UTC for hour in hours)
    assert sum(hour.energy for hour in hours) == pytest.approx(0.4 * 24)


def test_history_days_are_seven_complete_days_and_today() -> None:
    days = history_days(datetime(2026, 3, 30, 0, 30, tzinfo=ZoneInfo("Europe/Berlin")))
    # 00:30 in Berlin is still 29 March in UTC.
    assert days[-1] == datetime(2026, 3, 29, tzinfo=UTC)
    assert days[0] == datetime(2026, 3, 22, tzinfo=UTC)
    assert len(days) == 8
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(days))
