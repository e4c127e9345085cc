"""Typed views of the ZiggyMeter's JSON answers (status, version).

Parsing never fails: unknown keys are kept (numeric leaves become `extras`),
a missing or unreadable known key is None. `Status.present` records which known
keys the payload carried, since entities are made only for those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...transport.values import as_float, as_int, as_str, from_epoch_seconds, mapping

PHASES = (1, 2, 3)

POWER_SOURCES = ("battery", "usb")
"""The values `battery.source` may take; anything else reads as None."""

IDENTIFIER_KEYS = ("serial", "mac", "id")
"""Keys whose value identifies the device, in order of preference."""

MS_THRESHOLD = 1e11
"""An epoch above this is in milliseconds (1e11 s is the year 5138)."""

# Known key path -> Status field. Only these are parsed into fields; every other
# numeric leaf becomes an extra.
KNOWN_KEYS: Mapping[str, str] = {
    "battery.percent": "battery_percent",
    "battery.voltage": "battery_voltage",
    "battery.source": "power_source",
    "wifi.ssid": "wifi_ssid",
    "wifi.rssi": "wifi_rssi",
    "wifi.ip": "wifi_ip",
    "uptime_s": "uptime",
    "temperature_c": "temperature",
    "meter.energy_import_kwh": "energy_import",
    "meter.energy_export_kwh": "energy_export",
    "meter.power_w": "power",
    "meter.power_import_w": "power_import",
    "meter.power_export_w": "power_export",
    **{f"meter.voltage_l{n}_v": f"voltage_l{n}" for n in PHASES},
    **{f"meter.current_l{n}_a": f"current_l{n}" for n in PHASES},
    **{f"meter.power_l{n}_w": f"power_l{n}" for n in PHASES},
    "meter.last_reading": "last_reading",
}

_UNIT_SUFFIXES = (
    ("_kwh", "kWh"),
    ("_wh", "Wh"),
    ("_w", "W"),
    ("_v", "V"),
    ("_a", "A"),
    ("_hz", "Hz"),
    ("_c", "°C"),
    ("_s", "s"),
    ("_pct", "%"),
    ("_percent", "%"),
    ("_dbm", "dBm"),
    ("_bytes", "B"),
    ("_b", "B"),
)


def unit_for_key(path: str) -> str | None:
    """Guess a unit (Home Assistant's spelling) from a key's suffix, e.g. `_hz` → Hz."""
    key = path.rsplit(".", 1)[-1].lower()
    for suffix, unit in _UNIT_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return unit
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    """`GET /api/v1/system/status`."""

    battery_percent: int | None = None
    battery_voltage: float | None = None
    power_source: str | None = None
    """"usb" or "battery"; None when absent or unrecognised."""
    wifi_ssid: str | None = None
    wifi_rssi: float | None = None
    wifi_ip: str | None = None
    uptime: float | None = None
    """Seconds since boot."""
    temperature: float | None = None
    """Internal device temperature, °C."""
    energy_import: float | None = None
    """kWh from the grid (cumulative)."""
    energy_export: float | None = None
    """kWh to the grid (cumulative)."""
    power: float | None = None
    """Net active power, W."""
    power_import: float | None = None
    power_export: float | None = None
    voltage_l1: float | None = None
    voltage_l2: float | None = None
    voltage_l3: float | None = None
    current_l1: float | None = None
    current_l2: float | None = None
    current_l3: float | None = None
    power_l1: float | None = None
    power_l2: float | None = None
    power_l3: float | None = None
    last_reading: datetime | None = None
    """When the meter was last read (aware, UTC)."""
    identifier: str | None = None
    """A `serial`, `mac` or `id` value, if the payload carries one."""
    present: frozenset[str] = frozenset()
    """The known key paths (`KNOWN_KEYS`) the payload carried, readable or not."""
    extras: Mapping[str, float] = field(default_factory=dict)
    """Every other numeric leaf, keyed by its dotted path."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The payload as received."""

    def value(self, path: str) -> Any:
        """Return the value of a known key path or an extra; None if absent."""
        name = KNOWN_KEYS.get(path)
        if name is not None:
            return getattr(self, name)
        return self.extras.get(path)


@dataclass(frozen=True, slots=True, kw_only=True)
class Version:
    """`GET /api/v1/system/version`."""

    firmware_version: str | None = None
    frontend_version: str | None = None
    build_number: int | None = None
    upgrade_url: str | None = None
    firmware_date: str | None = None
    """The firmware's build stamp, e.g. "Jan  3 2026 11:50:00" (as sent)."""
    frontend_date: str | None = None
    identifier: str | None = None
    """A `serial`, `mac` or `id` value, if the payload carries one."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


def _leaf(payload: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """Return (present, value) of a dotted path."""
    node: Any = payload
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _percent(value: Any) -> int | None:
    number = as_float(value)
    return None if number is None else round(number)


def _source(value: Any) -> str | None:
    text = as_str(value)
    source = text.strip().lower() if text else None
    return source if source in POWER_SOURCES else None


def _timestamp(value: Any) -> datetime | None:
    number = as_float(value)
    if number is None or number <= 0:
        return None
    return from_epoch_seconds(number / 1000 if number > MS_THRESHOLD else number)


_READERS: Mapping[str, Callable[[Any], Any]] = {
    "battery_percent": _percent,
    "power_source": _source,
    "wifi_ssid": as_str,
    "wifi_ip": as_str,
    "last_reading": _timestamp,
}


def _identifier(payload: Mapping[str, Any]) -> str | None:
    objects = [payload, *(v for v in payload.values() if isinstance(v, dict))]
    for node in objects:
        for key in IDENTIFIER_KEYS:
            value = node.get(key)
            if isinstance(value, bool):
                continue
            if isinstance(value, int):
                return str(value)
            text = as_str(value)
            if text is not None and text.strip():
                return text.strip()
    return None


def _extras(node: Mapping[str, Any], prefix: str, out: dict[str, float]) -> None:
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            _extras(value, f"{path}.", out)
        elif (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and path not in KNOWN_KEYS
            and key not in IDENTIFIER_KEYS
        ):
            number = as_float(value)
            if number is not None:
                out[path] = number


def parse_status(payload: Any) -> Status:
    """Read a status payload; never raises."""
    raw = mapping(payload)
    values: dict[str, Any] = {}
    present: set[str] = set()
    for path, name in KNOWN_KEYS.items():
        found, value = _leaf(raw, path)
        if not found:
            continue
        present.add(path)
        reader: Callable[[Any], Any] = _READERS.get(name, as_float)
        values[name] = reader(value)
    extras: dict[str, float] = {}
    _extras(raw, "", extras)
    return Status(
        **values,
        identifier=_identifier(raw),
        present=frozenset(present),
        extras=extras,
        raw=raw,
    )


def _stamp(part: Mapping[str, Any]) -> str | None:
    stamp = " ".join(
        text for text in (as_str(part.get("date")), as_str(part.get("time"))) if text
    )
    return stamp or None


def _component(payload: Mapping[str, Any], key: str) -> tuple[str | None, str | None]:
    value = payload.get(key)
    if isinstance(value, str):  # a bare version string
        return as_str(value), None
    part = mapping(value)
    version = part.get("version")
    return (as_str(version) or _number_text(version)), _stamp(part)


def _number_text(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def parse_version(payload: Any) -> Version:
    """Read a version payload; never raises."""
    raw = mapping(payload)
    firmware, firmware_date = _component(raw, "firmware")
    frontend, frontend_date = _component(raw, "frontend")
    return Version(
        firmware_version=firmware,
        frontend_version=frontend,
        build_number=as_int(raw.get("build_number")),
        upgrade_url=as_str(raw.get("upgrade_url")),
        firmware_date=firmware_date,
        frontend_date=frontend_date,
        identifier=_identifier(raw),
        raw=raw,
    )


__all__ = [
    "KNOWN_KEYS",
    "PHASES",
    "Status",
    "Version",
    "parse_status",
    "parse_version",
    "unit_for_key",
]
