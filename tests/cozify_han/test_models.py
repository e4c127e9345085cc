"""Property-based and example tests of the HAN payload parsers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.energy_gateways.devices.cozify_han.models import (
    HanInfo,
    MeterReading,
    parse_configuration,
    parse_firmware,
    parse_health,
    parse_info,
    parse_meter,
    parse_meter_identity,
    parse_ota,
    parse_prices,
    parse_stream_message,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=20,
)
meter_keys = st.sampled_from(
    ["ts", "ic", "ec", "ric", "rec", "p", "pi", "pe", "r", "ri", "re", "u", "i"]
)


@given(st.dictionaries(meter_keys, json_values))
def test_meter_parser_never_raises_and_never_invents_numbers(
    fields: dict[str, Any],
) -> None:
    """Any field values give a reading whose numbers are finite floats or None."""
    reading = parse_meter({"type": "HAN_METER_MESSAGE", **fields}, NOW)
    assert isinstance(reading, MeterReading)
    for phases in (
        reading.power,
        reading.power_import,
        reading.voltage,
        reading.current,
    ):
        for value in phases:
            assert value is None or isinstance(value, float)
    for total in (reading.energy_import, reading.energy_export):
        assert total is None or (isinstance(total, float) and total == total)


@given(json_values)
def test_any_json_value_is_rejected_or_parsed(payload: Any) -> None:
    """Stream messages of any shape parse or give None, never raise."""
    message = parse_stream_message(payload, NOW)
    assert message is None or isinstance(payload, dict)


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.sampled_from([str, float, lambda v: v]),
)
def test_counters_as_numbers_or_numeric_strings(value: float, shape: Any) -> None:
    """`ic` sent as "1000.123" or 1000.123 reads the same."""
    reading = parse_meter({"type": "HAN_METER_MESSAGE", "ic": shape(value)}, NOW)
    assert reading is not None
    assert reading.energy_import == float(str(value))


def test_short_arrays_are_unknown_not_zero() -> None:
    """A single-phase meter's missing entries are None."""
    reading = parse_meter(
        {"type": "HAN_METER_MESSAGE", "p": [500, 500], "u": [230.1], "i": ["2.5"]}, NOW
    )
    assert reading is not None
    assert reading.power == (500.0, 500.0, None, None)
    assert reading.voltage == (230.1, None, None)
    assert reading.current == (2.5, None, None)


def test_timestamp_in_seconds_or_milliseconds() -> None:
    """The magnitude decides ms vs s; implausible clocks are dropped."""
    ms = parse_meter({"type": "HAN_METER_MESSAGE", "ts": 1_763_812_800_000}, NOW)
    seconds = parse_meter({"type": "HAN_METER_MESSAGE", "ts": 1_763_812_800}, NOW)
    sample = parse_meter({"type": "HAN_METER_MESSAGE", "ts": 173568240000}, NOW)
    future = parse_meter(
        {"type": "HAN_METER_MESSAGE", "ts": (NOW + timedelta(days=3)).timestamp()}, NOW
    )
    assert ms is not None
    assert seconds is not None
    assert (
        ms.timestamp == seconds.timestamp == datetime(2025, 11, 22, 12, 0, tzinfo=UTC)
    )
    assert sample is not None
    assert sample.timestamp is None
    assert future is not None
    assert future.timestamp is None


def test_state_message_and_unique_id_fallback() -> None:
    """The serial is the unique id; without one, the MAC."""
    info = parse_info({"type": "HAN_STATE_MESSAGE", "mac": "AA:BB:CC:DD:EE:FF"})
    assert isinstance(info, HanInfo)
    assert info.unique_id == "aabbccddeeff"
    assert parse_info({"type": "HAN_STATE_MESSAGE", "serial": "S1"}).unique_id == "S1"  # type: ignore[union-attr]
    assert parse_info({"type": "HAN_METER_MESSAGE"}) is None


def test_configuration_accepts_both_discriminators() -> None:
    """REST says HAN_CONFIGURATION, the stream HAN_CONFIGURATION_MESSAGE."""
    for kind in ("HAN_CONFIGURATION", "HAN_CONFIGURATION_MESSAGE"):
        config = parse_configuration({"type": kind, "m": {"f": 25}, "pc": "EUR"})
        assert config is not None
        assert config.main_fuse == 25


def test_prices_slots_and_current_price() -> None:
    """Bad slots are dropped; the slot covering a moment gives its price."""
    start = int(NOW.timestamp())
    prices = parse_prices(
        {
            "type": "HAN_PRICES_MESSAGE",
            "price": 9.0,
            "currency": "EUR",
            "prices": [
                {"s": start + 900, "e": start + 1800, "p": 7.5},
                {"s": start, "e": start + 900, "p": "8.25"},
                {"s": start, "e": start, "p": 1},
                {"s": "x", "e": start, "p": 1},
                "garbage",
            ],
        }
    )
    assert prices is not None
    assert [slot.price for slot in prices.slots] == [8.25, 7.5]
    assert prices.price_at(NOW + timedelta(minutes=20)) == 7.5
    assert prices.price_at(NOW + timedelta(hours=5)) == 9.0


def test_health_and_ota_ranges() -> None:
    """Negative uptime and out-of-range progress are unknown."""
    health = parse_health(
        {"type": "HAN_HEALTH_MESSAGE", "uptime_ms": -5, "wifi_rssi": -61}
    )
    assert health is not None
    assert health.uptime is None
    assert health.wifi_rssi == -61
    ota = parse_ota({"type": "HAN_OTA_MESSAGE", "progress": 140, "status": "IDLE"})
    assert ota is not None
    assert ota.progress is None
    assert ota.status == "IDLE"


@pytest.mark.parametrize(
    "parse",
    [
        parse_info,
        parse_meter_identity,
        parse_health,
        parse_firmware,
        parse_configuration,
        parse_ota,
        parse_prices,
        lambda payload: parse_meter(payload, NOW),
    ],
)
@pytest.mark.parametrize("payload", [None, [], "HAN", {"type": "HAN_FUTURE_MESSAGE"}])
def test_parsers_reject_other_payloads(parse: Any, payload: Any) -> None:
    """A payload of another type, or no object at all, is not parsed."""
    assert parse(payload) is None
