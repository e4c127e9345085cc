"""Parsing the ZiggyMeter's status and version payloads (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.energy_gateways.devices.ziggymeter.models import (
    KNOWN_KEYS,
    Status,
    parse_status,
    parse_version,
    unit_for_key,
)

STATUS: dict[str, Any] = {
    "battery": {"percent": 87, "voltage": 2.95, "source": "usb"},
    "wifi": {"ssid": "home", "rssi": -61, "ip": "192.168.1.77"},
    "uptime_s": 86400,
    "temperature_c": 24.5,
    "meter": {
        "energy_import_kwh": 12345.678,
        "energy_export_kwh": 234.5,
        "power_w": 1250.0,
        "power_import_w": 1250.0,
        "power_export_w": 0.0,
        "voltage_l1_v": 231.0,
        "voltage_l2_v": 229.5,
        "voltage_l3_v": 230.2,
        "current_l1_a": 2.1,
        "current_l2_a": 1.4,
        "current_l3_a": 2.0,
        "power_l1_w": 480.0,
        "power_l2_w": 320.0,
        "power_l3_w": 450.0,
        "last_reading": 1767441000,
    },
}


def test_documented_status() -> None:
    """Every documented key lands in its field; nothing is left over."""
    status = parse_status(STATUS)
    assert status.battery_percent == 87
    assert status.battery_voltage == 2.95
    assert status.power_source == "usb"
    assert (status.wifi_ssid, status.wifi_rssi, status.wifi_ip) == (
        "home",
        -61,
        "192.168.1.77",
    )
    assert status.uptime == 86400
    assert status.temperature == 24.5
    assert status.energy_import == 12345.678
    assert status.energy_export == 234.5
    assert (status.power, status.power_import, status.power_export) == (
        1250.0,
        1250.0,
        0.0,
    )
    assert (status.voltage_l1, status.voltage_l2, status.voltage_l3) == (
        231.0,
        229.5,
        230.2,
    )
    assert (status.current_l1, status.current_l2, status.current_l3) == (
        2.1,
        1.4,
        2.0,
    )
    assert (status.power_l1, status.power_l2, status.power_l3) == (480, 320, 450)
    assert status.last_reading == datetime(2026, 1, 3, 11, 50, tzinfo=UTC)
    assert status.identifier is None
    assert status.present == frozenset(KNOWN_KEYS)
    assert status.extras == {}
    assert status.raw == STATUS
    assert status.value("meter.power_l2_w") == 320.0
    assert status.value("meter.frequency_hz") is None
    assert "home" not in repr(parse_status({"x": 1}))


def test_single_phase_without_export() -> None:
    """Absent keys are None and not present; present ones are."""
    meter = {
        "energy_import_kwh": 10,
        "power_w": 5,
        "voltage_l1_v": 230,
        "current_l1_a": 1,
        "power_l1_w": 5,
    }
    status = parse_status({"meter": meter, "battery": {"source": "battery"}})
    assert status.voltage_l1 == 230.0
    assert isinstance(status.voltage_l1, float)  # integers read as floats
    assert status.voltage_l2 is None
    assert status.energy_export is None
    assert status.power_source == "battery"
    assert "meter.voltage_l1_v" in status.present
    assert "meter.voltage_l2_v" not in status.present
    assert "meter.energy_export_kwh" not in status.present
    assert "battery.percent" not in status.present
    assert status.battery_percent is None


def test_wrong_types_and_numbers_as_strings() -> None:
    """Numeric strings count for known keys; garbage is None but still present."""
    status = parse_status(
        {
            "battery": {"percent": "86.6", "voltage": "x", "source": "solar"},
            "wifi": {"ssid": 5, "rssi": "-70", "ip": ""},
            "uptime_s": True,
            "temperature_c": None,
            "meter": {
                "energy_import_kwh": "12345.5",
                "power_w": {"nested": 1},
                "voltage_l1_v": [230],
                "last_reading": "soon",
            },
        }
    )
    assert status.battery_percent == 87
    assert status.battery_voltage is None
    assert status.power_source is None
    assert status.wifi_ssid is None
    assert status.wifi_rssi == -70.0
    assert status.wifi_ip is None
    assert status.uptime is None  # a bool is not a number
    assert status.temperature is None
    assert status.energy_import == 12345.5
    assert status.power is None
    assert status.voltage_l1 is None
    assert status.last_reading is None
    assert {"battery.voltage", "meter.power_w", "uptime_s"} <= status.present
    # the dict under a known key is walked like any other object
    assert status.extras == {"meter.power_w.nested": 1.0}


def test_power_source_spelling() -> None:
    """The supply is read case-insensitively."""
    assert parse_status({"battery": {"source": " USB "}}).power_source == "usb"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1767441000, datetime(2026, 1, 3, 11, 50, tzinfo=UTC)),
        (1767441000500, datetime(2026, 1, 3, 11, 50, 0, 500000, tzinfo=UTC)),
        ("1767441000", datetime(2026, 1, 3, 11, 50, tzinfo=UTC)),
        (0, None),
        (-5, None),
        (1e30, None),
    ],
)
def test_last_reading(value: Any, expected: datetime | None) -> None:
    """Epoch seconds, or milliseconds above 1e11; nonsense is None."""
    status = parse_status({"meter": {"last_reading": value}})
    assert status.last_reading == expected
    if expected is not None:
        assert status.last_reading is not None
        assert status.last_reading.tzinfo is UTC


def test_unknown_keys_become_extras() -> None:
    """Other numeric leaves are kept by dotted path; strings, bools, lists are not."""
    status = parse_status(
        {
            **STATUS,
            "meter": {**STATUS["meter"], "frequency_hz": 50.01, "tariff": 2},
            "diag": {"resets": 3, "flag": True, "name": "x", "list": [1, 2]},
            "heap_b": 40960,
            "label": "kitchen",
            "as_text": "42",
            "deep": {"a": {"b_v": 1.5}},
            "not_finite": float("nan"),
        }
    )
    assert status.extras == {
        "meter.frequency_hz": 50.01,
        "meter.tariff": 2.0,
        "diag.resets": 3.0,
        "heap_b": 40960.0,
        "deep.a.b_v": 1.5,
    }
    assert status.value("diag.resets") == 3.0
    assert status.energy_import == 12345.678  # known keys unaffected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"serial": "ZG400-0001", "device": {"mac": "AA:BB"}}, "ZG400-0001"),
        ({"device": {"mac": "AA:BB"}, "wifi": {"id": 7}}, "AA:BB"),
        ({"wifi": {"ssid": "home", "id": 7}}, "7"),
        ({"mac": "  ", "id": True, "info": {"serial": ["x"]}}, None),
        ({"id": 12}, "12"),
        ({"meter": {"deep": {"serial": "too-deep"}}}, None),
    ],
)
def test_identifier(payload: dict[str, Any], expected: str | None) -> None:
    """`serial`, `mac` or `id` at the top level or one object down; never an extra."""
    status = parse_status(payload)
    assert status.identifier == expected
    assert "id" not in status.extras
    assert "wifi.id" not in status.extras


@pytest.mark.parametrize("payload", [None, [], "text", 5, {"battery": "full"}])
def test_garbage_status(payload: Any) -> None:
    """Anything that is not the documented object parses to an empty status."""
    status = parse_status(payload)
    assert status == Status(raw=status.raw)
    assert status.present == frozenset()
    assert status.extras == {}


def test_version() -> None:
    """The vendor's sample: versions, build number, compiler stamp."""
    version = parse_version(
        {
            "firmware": {
                "version": "1.0.320",
                "date": "Jan  3 2026",
                "time": "11:50:00",
            },
            "frontend": {
                "version": "1.0.319",
                "date": "Jan  3 2026",
                "time": "11:36:31",
            },
            "build_number": 320,
            "upgrade_url": "https://fw.ziggymeter.com/",
            "new_key": {"x": 1},
        }
    )
    assert version.firmware_version == "1.0.320"
    assert version.frontend_version == "1.0.319"
    assert version.build_number == 320
    assert version.upgrade_url == "https://fw.ziggymeter.com/"
    assert version.firmware_date == "Jan  3 2026 11:50:00"
    assert version.frontend_date == "Jan  3 2026 11:36:31"
    assert version.raw["new_key"] == {"x": 1}


def test_odd_versions() -> None:
    """Strings, numbers, partial stamps and garbage never raise."""
    version = parse_version(
        {
            "firmware": "2.0.1",
            "frontend": {"version": 3, "date": "Feb 10 2026"},
            "build_number": "321",
            "upgrade_url": 5,
        }
    )
    assert version.firmware_version == "2.0.1"
    assert version.firmware_date is None
    assert version.frontend_version == "3"
    assert version.frontend_date == "Feb 10 2026"
    assert version.build_number == 321
    assert version.upgrade_url is None
    empty = parse_version(["no"])
    assert empty.firmware_version is None
    assert empty.build_number is None
    assert parse_version({"build_number": 320.5}).build_number is None
    assert parse_version({"build_number": True}).build_number is None


@pytest.mark.parametrize(
    ("path", "unit"),
    [
        ("meter.energy_total_kwh", "kWh"),
        ("meter.energy_wh", "Wh"),
        ("meter.power_l1_w", "W"),
        ("meter.voltage_v", "V"),
        ("meter.current_a", "A"),
        ("meter.frequency_hz", "Hz"),
        ("board_temperature_c", "°C"),
        ("uptime_s", "s"),
        ("diag.load_pct", "%"),
        ("diag.cpu_percent", "%"),
        ("wifi.signal_dbm", "dBm"),
        ("heap_b", "B"),
        ("diag.free_bytes", "B"),
        ("diag.resets", None),
        ("meter.tariff", None),
        ("_w", None),
        ("meter.POWER_W", "W"),
    ],
)
def test_unit_for_key(path: str, unit: str | None) -> None:
    """Units are guessed from the last segment's suffix."""
    assert unit_for_key(path) == unit
