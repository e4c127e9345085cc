"""Periods of an EMS counter's history summed into complete hours."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
import random

from hypothesis import given, strategies as st
import pytest

from custom_components.energy_gateways.devices.gavazzi_ems.history import (
    complete_hours,
)
from custom_components.energy_gateways.devices.gavazzi_ems.models import HistorySample

BASE = datetime(2026, 3, 10, 8, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)


def row(
    period_end: datetime | None, delta: float | None, uid: int = 17
) -> HistorySample:
    """One history row as the client parses it (t is one second before p)."""
    return HistorySample(
        uid=uid,
        timestamp=period_end - timedelta(seconds=1) if period_end else None,
        period_end=period_end,
        value=None,
        delta=delta,
        maximum=None,
        minimum=None,
    )


def quarters(
    deltas: Sequence[float | None], start: datetime = BASE
) -> list[HistorySample]:
    """Consecutive 15-minute rows from `start`, the first ending at start + 15 min."""
    return [row(start + (n + 1) * QUARTER, delta) for n, delta in enumerate(deltas)]


def assert_hours(
    actual: list[tuple[datetime, float]], expected: list[tuple[datetime, float]]
) -> None:
    """Same hour starts; energies equal but for float rounding."""
    assert [start for start, _ in actual] == [start for start, _ in expected]
    assert [energy for _, energy in actual] == pytest.approx(
        [energy for _, energy in expected], abs=1e-9
    )


def test_four_quarters_make_one_hour() -> None:
    hours = complete_hours(quarters([0.1, 0.2, 0.3, 0.4]))
    assert_hours(hours, [(BASE, 1.0)])


def test_consecutive_hours_each_sum_their_own_quarters() -> None:
    hours = complete_hours(quarters([1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.125, 0.0625]))
    assert [start for start, _ in hours] == [BASE, BASE + HOUR]
    assert [energy for _, energy in hours] == pytest.approx([4.0, 0.9375])


def test_hour_with_a_missing_quarter_is_left_out() -> None:
    rows = quarters([1.0] * 12)
    del rows[6]  # the third quarter of the second hour
    assert [start for start, _ in complete_hours(rows)] == [BASE, BASE + 2 * HOUR]


def test_hours_cut_by_the_start_and_the_end_are_left_out() -> None:
    # 08:30 .. 10:15: only 09:00 is whole.
    rows = quarters([1.0] * 7, start=BASE + 2 * QUARTER)
    assert_hours(complete_hours(rows), [(BASE + HOUR, 4.0)])


def test_hourly_rows() -> None:
    rows = [row(BASE + (n + 1) * HOUR, 1.5 * n) for n in range(3)]
    assert complete_hours(rows) == [
        (BASE, 0.0),
        (BASE + HOUR, 1.5),
        (BASE + 2 * HOUR, 3.0),
    ]


def test_periods_that_do_not_tile_an_hour_give_nothing() -> None:
    period = timedelta(minutes=25)
    rows = [row(BASE + (n + 1) * period, 1.0) for n in range(12)]
    assert complete_hours(rows) == []


def test_periods_longer_than_an_hour_give_nothing() -> None:
    rows = [row(BASE + (n + 1) * 2 * HOUR, 1.0) for n in range(4)]
    assert complete_hours(rows) == []


def test_single_row_gives_nothing() -> None:
    assert complete_hours(quarters([1.0])) == []
    assert complete_hours([row(BASE + HOUR, 1.0)]) == []
    assert complete_hours([]) == []


def test_negative_delta_counts_as_zero() -> None:
    """A replaced meter restarting its counter must not take the sum down."""
    hours = complete_hours(quarters([0.5, -1234.5, 0.25, 0.25]))
    assert_hours(hours, [(BASE, 1.0)])


def test_rows_without_delta_or_period_end_are_ignored() -> None:
    # A quarter without delta is a missing quarter: that hour is left out.
    rows = quarters([1.0, 1.0, None, 1.0, 2.0, 2.0, 2.0, 2.0])
    # A row without period end is skipped, wherever it is.
    rows.insert(3, row(None, 100.0))
    assert_hours(complete_hours(rows), [(BASE + HOUR, 8.0)])


def test_row_without_delta_beside_a_complete_hour_changes_nothing() -> None:
    rows = [*quarters([1.0, 1.0, 1.0, 1.0]), row(BASE + HOUR + QUARTER, None)]
    assert_hours(complete_hours(rows), [(BASE, 4.0)])


def test_unsorted_rows() -> None:
    deltas = [0.1 * n for n in range(24)]
    ordered = quarters(deltas)
    shuffled = ordered[1::2][::-1] + ordered[::2]
    assert shuffled != ordered
    assert complete_hours(shuffled) == complete_hours(ordered)
    assert len(complete_hours(shuffled)) == 6


def test_hours_are_utc_and_on_the_hour() -> None:
    hours = complete_hours(quarters([0.1] * 96))
    assert len(hours) == 24
    for start, _ in hours:
        assert start.tzinfo is not None
        assert start.utcoffset() == timedelta(0)
        assert (start.minute, start.second, start.microsecond) == (0, 0, 0)
    assert [start for start, _ in hours] == [BASE + n * HOUR for n in range(24)]


def test_energy_is_rounded_to_six_decimals() -> None:
    hours = complete_hours(quarters([0.1, 0.2, 0.3, 0.0000004]))
    assert hours == [(BASE, 0.6)]


def test_periods_not_aligned_to_the_hour_give_nothing() -> None:
    # Periods 08:05-08:20, ..., 09:50-10:05: no hour is made of whole periods.
    rows = quarters([1.0] * 8, start=BASE + timedelta(minutes=5))
    assert complete_hours(rows) == []


_deltas = st.one_of(
    st.none(),
    st.floats(min_value=-100.0, max_value=100.0, allow_nan=False),
)


@given(
    st.dictionaries(
        st.integers(min_value=0, max_value=4 * 24 - 1), _deltas, max_size=4 * 24
    )
)
def test_hours_never_hold_more_than_the_positive_deltas(
    rows: dict[int, float | None],
) -> None:
    """Whatever the rows, the hours hold no energy the rows did not report."""
    samples = [row(BASE + (n + 1) * QUARTER, delta) for n, delta in rows.items()]
    hours = complete_hours(samples)
    positive = sum(max(delta, 0.0) for delta in rows.values() if delta is not None)
    assert sum(energy for _, energy in hours) <= positive + 1e-6 * (len(hours) + 1)
    assert all(energy >= 0 for _, energy in hours)
    starts = [start for start, _ in hours]
    assert starts == sorted(set(starts))


@given(
    st.dictionaries(
        st.integers(min_value=0, max_value=4 * 24 - 1),
        st.floats(min_value=0.0, max_value=50.0, allow_nan=False),
        max_size=4 * 24,
    ),
    st.integers(min_value=0, max_value=4 * 24 - 2),
    st.randoms(use_true_random=False),
)
def test_exactly_the_hours_with_all_four_quarters(
    rows: dict[int, float], neighbour: int, rng: random.Random
) -> None:
    """With 15-minute periods, an hour is there iff its four quarters are."""
    # Two neighbouring quarters at least, so the spacing shows the period.
    rows.setdefault(neighbour, 1.0)
    rows.setdefault(neighbour + 1, 1.0)
    samples = [row(BASE + (n + 1) * QUARTER, delta) for n, delta in rows.items()]
    rng.shuffle(samples)
    expected = {
        BASE + hour * HOUR: sum(rows[4 * hour + q] for q in range(4))
        for hour in range(24)
        if all(4 * hour + q in rows for q in range(4))
    }
    hours = complete_hours(samples)
    assert [start for start, _ in hours] == sorted(expected)
    for start, energy in hours:
        assert energy == pytest.approx(expected[start], abs=1e-6)
