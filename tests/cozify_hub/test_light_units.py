"""The light units of the Cozify Hub model: ranges, order and round trips.

Home Assistant's value → the hub's → Home Assistant's lands on the same step;
the hub's → Home Assistant's → the hub's stays within one step of the scale.
"""

from __future__ import annotations

import math

from hypothesis import given, strategies as st

from custom_components.energy_gateways.devices.cozify_hub.models import (
    BRIGHTNESS_STEP,
    HUE_STEP,
    LIGHT_PLACES,
    SATURATION_STEP,
    brightness_from_ha,
    brightness_to_ha,
    clamp_kelvin,
    hue_from_ha,
    hue_to_ha,
    kelvin_range,
    kelvin_to_ha,
    mired,
    saturation_from_ha,
    saturation_to_ha,
    transition_from_ms,
    transition_to_ms,
)

fractions = st.floats(min_value=0.0, max_value=1.0)
ha_brightness = st.integers(min_value=1, max_value=255)
radians = st.floats(min_value=0.0, max_value=math.tau)
degrees = st.floats(min_value=0.0, max_value=360.0)
percent = st.floats(min_value=0.0, max_value=100.0)
kelvin = st.floats(min_value=1000.0, max_value=12000.0)
seconds = st.floats(min_value=0.0, max_value=3600.0)
ROUNDING = 0.5 * 10.0**-LIGHT_PLACES
"""The most rounding to LIGHT_PLACES decimals moves a value."""


def circular(a: float, b: float, full: float) -> float:
    """Distance of two angles on a circle of `full`."""
    difference = abs(a - b) % full
    return min(difference, full - difference)


# -- brightness -------------------------------------------------------------------


def test_brightness_ends() -> None:
    """255 is full (1.0); 1 is the dimmest level of a light that is on (0.0)."""
    assert brightness_from_ha(255) == 1.0
    assert brightness_from_ha(1) == 0.0
    assert brightness_from_ha(128) == 0.5
    assert brightness_to_ha(1.0) == 255
    assert brightness_to_ha(0.0) == 1
    assert brightness_to_ha(0.5) == 128


@given(ha_brightness)
def test_brightness_round_trip_from_ha_is_exact(value: int) -> None:
    """HA → hub → HA: the same brightness."""
    hub = brightness_from_ha(value)
    assert 0.0 <= hub <= 1.0
    assert brightness_to_ha(hub) == value


@given(fractions)
def test_brightness_round_trip_from_the_hub_within_one_step(value: float) -> None:
    """Hub → HA (1..255, never 0) → hub: within half a step and the rounding."""
    shown = brightness_to_ha(value)
    assert 1 <= shown <= 255
    assert abs(brightness_from_ha(shown) - value) <= BRIGHTNESS_STEP / 2 + ROUNDING


@given(fractions, fractions)
def test_brightness_is_monotonic(a: float, b: float) -> None:
    """A brighter hub value never shows dimmer, and back."""
    low, high = sorted((a, b))
    assert brightness_to_ha(low) <= brightness_to_ha(high)
    ha_low, ha_high = sorted((brightness_to_ha(a), brightness_to_ha(b)))
    assert brightness_from_ha(ha_low) <= brightness_from_ha(ha_high)


@given(st.floats(min_value=-1e6, max_value=1e6))
def test_brightness_out_of_range_is_clamped(value: float) -> None:
    """Whatever comes in, the results stay in range."""
    assert 1 <= brightness_to_ha(value) <= 255
    assert 0.0 <= brightness_from_ha(value) <= 1.0


# -- hue and saturation -------------------------------------------------------------


def test_hue_ends() -> None:
    """0 and 2π are the same red; π is cyan (180°)."""
    assert hue_to_ha(0.0) == 0.0
    assert hue_to_ha(math.tau) == 0.0
    assert hue_to_ha(math.pi) == 180.0
    assert hue_from_ha(180) == 3.1416
    assert hue_from_ha(360) == 0.0
    assert hue_from_ha(359.9999) <= math.tau


@given(degrees)
def test_hue_round_trip_from_ha(value: float) -> None:
    """HA → hub (0..2π) → HA: the same hue, but for the rounding."""
    hub = hue_from_ha(value)
    assert 0.0 <= hub <= math.tau
    back = hue_to_ha(hub)
    assert 0.0 <= back < 360.0
    assert circular(back, value, 360.0) <= math.degrees(2 * ROUNDING)


@given(radians)
def test_hue_round_trip_from_the_hub_within_one_step(value: float) -> None:
    """Hub → HA (0..360) → hub: well within one hue step."""
    shown = hue_to_ha(value)
    assert 0.0 <= shown < 360.0
    assert circular(hue_from_ha(shown), value, math.tau) <= HUE_STEP


@given(
    st.floats(min_value=0.0, max_value=6.28), st.floats(min_value=0.0, max_value=6.28)
)
def test_hue_is_monotonic_below_a_turn(a: float, b: float) -> None:
    """Below a full turn, a larger angle is a larger hue, both ways."""
    low, high = sorted((a, b))
    assert hue_to_ha(low) <= hue_to_ha(high)
    assert hue_from_ha(hue_to_ha(low)) <= hue_from_ha(hue_to_ha(high))


@given(percent)
def test_saturation_round_trip_from_ha(value: float) -> None:
    """HA → hub (0..1) → HA: the same saturation, but for the rounding."""
    hub = saturation_from_ha(value)
    assert 0.0 <= hub <= 1.0
    assert abs(saturation_to_ha(hub) - value) <= 100 * ROUNDING + 1e-9


@given(fractions)
def test_saturation_round_trip_from_the_hub_within_one_step(value: float) -> None:
    """Hub → HA (0..100) → hub: well within one saturation step."""
    shown = saturation_to_ha(value)
    assert 0.0 <= shown <= 100.0
    assert abs(saturation_from_ha(shown) - value) <= SATURATION_STEP


@given(fractions, fractions)
def test_saturation_is_monotonic(a: float, b: float) -> None:
    """More saturated stays more saturated, both ways."""
    low, high = sorted((a, b))
    assert saturation_to_ha(low) <= saturation_to_ha(high)
    assert saturation_from_ha(100 * low) <= saturation_from_ha(100 * high)


# -- colour temperature ---------------------------------------------------------------


def test_kelvin_range_is_rounded_inwards() -> None:
    """HA's integral range lies inside the light's; missing or reversed: None."""
    assert kelvin_range(2202.64, 4000.0) == (2203, 4000)
    assert kelvin_range(2000.0, 6535.0) == (2000, 6535)
    assert kelvin_range(2202.4, 2202.6) == (2203, 2203)
    assert kelvin_range(None, 4000.0) is None
    assert kelvin_range(2200.0, None) is None
    assert kelvin_range(4000.0, 2200.0) is None


@given(kelvin, kelvin, kelvin)
def test_clamped_kelvin_is_in_range_and_monotonic(
    a: float, b: float, asked: float
) -> None:
    """A clamped value is in the range, the asked one when it is inside."""
    found = kelvin_range(*sorted((a, b)))
    assert found is not None
    low, high = found
    result = clamp_kelvin(asked, low, high)
    assert low <= result <= high
    if low <= round(asked) <= high:
        assert result == round(asked)
    assert clamp_kelvin(asked + 100, low, high) >= result


@given(kelvin)
def test_kelvin_round_trip_within_one_mired(value: float) -> None:
    """Hub (fractional K) → HA (integral K): far below one mired."""
    shown = kelvin_to_ha(value)
    assert abs(shown - value) <= 0.5
    assert abs(mired(shown) - mired(value)) < 1.0


# -- transitions --------------------------------------------------------------------


def test_transition_examples() -> None:
    """Seconds ↔ whole milliseconds; nothing negative."""
    assert transition_to_ms(2.5) == 2500
    assert transition_to_ms(0.4) == 400
    assert transition_to_ms(0) == 0
    assert transition_to_ms(-1) == 0
    assert transition_from_ms(1500) == 1.5


@given(seconds)
def test_transition_round_trip_within_a_millisecond(value: float) -> None:
    """HA s → hub ms → s: within half a millisecond."""
    ms = transition_to_ms(value)
    assert isinstance(ms, int)
    assert ms >= 0
    assert abs(transition_from_ms(ms) - value) <= 0.0005 + 1e-9


@given(st.integers(min_value=0, max_value=3_600_000))
def test_transition_round_trip_from_the_hub_is_exact(ms: int) -> None:
    """Hub ms → s → ms: the same milliseconds."""
    assert transition_to_ms(transition_from_ms(ms)) == ms


@given(seconds, seconds)
def test_transition_is_monotonic(a: float, b: float) -> None:
    """A longer transition is never fewer milliseconds."""
    low, high = sorted((a, b))
    assert transition_to_ms(low) <= transition_to_ms(high)
