"""The lenient value readers every client relies on."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, strategies as st

from custom_components.energy_gateways.transport.values import (
    as_float,
    as_int,
    epoch_to_datetime,
    from_epoch_seconds,
)

NOW = datetime(2026, 11, 22, tzinfo=UTC)


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.text(),
        st.floats(),
        st.integers(),
        st.lists(st.integers()),
    )
)
def test_as_float_is_finite_or_none(value: object) -> None:
    """Whatever arrives, the result is a finite float or None; bools are not numbers."""
    result = as_float(value)
    assert result is None or (isinstance(result, float) and abs(result) != float("inf"))
    if isinstance(value, bool):
        assert result is None


def test_as_float_turns_a_huge_integer_into_none() -> None:
    """JSON integers have no size limit; one beyond float's range is no reading."""
    assert as_float(10**400) is None
    assert as_float(-(10**400)) is None
    assert as_float(10**20) == 1e20


def test_as_int_needs_an_integral_value() -> None:
    """2.5 amperes of main fuse is not an integer setting."""
    assert as_int("25") == 25
    assert as_int(2.5) is None
    assert as_int(float("nan")) is None


@given(st.floats(min_value=1e15, max_value=1e300) | st.integers(min_value=10**20))
def test_absurd_timestamps_are_none(value: float) -> None:
    """Overflowing timestamps give None, never an exception."""
    assert epoch_to_datetime(value, NOW) is None
    assert from_epoch_seconds(value * 1e300) is None


def test_epoch_seconds() -> None:
    """Negative and non-numeric slot times are rejected."""
    assert from_epoch_seconds(-1) is None
    assert from_epoch_seconds("x") is None
    assert from_epoch_seconds(0) == datetime(1970, 1, 1, tzinfo=UTC)
