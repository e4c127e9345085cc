"""Entity descriptions of a ZiggyMeter: one per status key the reader sends.

Known keys get their meaning (device class, unit, category); per-phase keys
exist only for the phases the meter has. Every other numeric leaf becomes a
generic diagnostic sensor, disabled by default, named after its key path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.components.update import UpdateEntityFeature
from homeassistant.const import (
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfRatio,
    UnitOfTemperature,
)

from ...sensor import GatewaySensorEntityDescription
from ...update import GatewayUpdateEntityDescription
from .data import ZiggyData
from .models import PHASES, unit_for_key

POWER_SOURCES = ["battery", "usb"]


def _status(path: str, **kwargs: Any) -> GatewaySensorEntityDescription[ZiggyData]:
    """Describe a sensor showing one known status key as the reader sends it."""
    return GatewaySensorEntityDescription[ZiggyData](
        value_fn=lambda data: data.status.value(path), **kwargs
    )


def _energy(field: str, key: str) -> GatewaySensorEntityDescription[ZiggyData]:
    """Describe an energy total for the Energy dashboard: never 0, never lower."""
    return GatewaySensorEntityDescription[ZiggyData](
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=lambda data: data.energy.get(field),
    )


def _measured(
    path: str, key: str, device_class: SensorDeviceClass, unit: str, **kwargs: Any
) -> GatewaySensorEntityDescription[ZiggyData]:
    """Describe a measurement (power, voltage, ...) of one known status key."""
    return _status(
        path,
        key=key,
        translation_key=kwargs.pop("translation_key", key),
        device_class=device_class,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=unit,
        **kwargs,
    )


def _phase(
    kind: str, n: int, device_class: SensorDeviceClass, unit: str
) -> tuple[str, GatewaySensorEntityDescription[ZiggyData]]:
    """Describe a per-phase value (disabled by default), keyed by its path."""
    suffix = {"voltage": "v", "current": "a", "power": "w"}[kind]
    path = f"meter.{kind}_l{n}_{suffix}"
    return path, _measured(
        path,
        f"{kind}_l{n}",
        device_class,
        unit,
        translation_key=f"{kind}_phase",
        translation_placeholders={"phase": f"L{n}"},
        entity_registry_enabled_default=False,
    )


_PHASE_KINDS = (
    ("power", SensorDeviceClass.POWER, UnitOfPower.WATT),
    ("voltage", SensorDeviceClass.VOLTAGE, UnitOfElectricPotential.VOLT),
    ("current", SensorDeviceClass.CURRENT, UnitOfElectricCurrent.AMPERE),
)

KNOWN: dict[str, GatewaySensorEntityDescription[ZiggyData]] = {
    "meter.energy_import_kwh": _energy("energy_import", "energy_import"),
    "meter.energy_export_kwh": _energy("energy_export", "energy_export"),
    **{
        path: _measured(path, key, SensorDeviceClass.POWER, UnitOfPower.WATT)
        for path, key in (
            ("meter.power_w", "power"),
            ("meter.power_import_w", "power_import"),
            ("meter.power_export_w", "power_export"),
        )
    },
    **dict(
        _phase(kind, n, device_class, unit)
        for kind, device_class, unit in _PHASE_KINDS
        for n in PHASES
    ),
    "meter.last_reading": _status(
        "meter.last_reading",
        key="last_meter_reading",
        translation_key="last_meter_reading",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    "battery.percent": _measured(
        "battery.percent",
        "battery",
        SensorDeviceClass.BATTERY,
        UnitOfRatio.PERCENTAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    "battery.voltage": _measured(
        "battery.voltage",
        "battery_voltage",
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
    ),
    "battery.source": _status(
        "battery.source",
        key="power_source",
        translation_key="power_source",
        device_class=SensorDeviceClass.ENUM,
        options=POWER_SOURCES,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    "wifi.rssi": _measured(
        "wifi.rssi",
        "wifi_rssi",
        SensorDeviceClass.SIGNAL_STRENGTH,
        SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
    ),
    **{
        path: _status(
            path,
            key=key,
            translation_key=key,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
        )
        for path, key in (("wifi.ssid", "wifi_ssid"), ("wifi.ip", "wifi_ip"))
    },
    "uptime_s": GatewaySensorEntityDescription[ZiggyData](
        key="last_restart",
        translation_key="last_restart",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda data: data.booted,
    ),
    "temperature_c": _measured(
        "temperature_c",
        "device_temperature",
        SensorDeviceClass.TEMPERATURE,
        UnitOfTemperature.CELSIUS,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
}
"""The known status keys' sensors, by key path (made only for keys present)."""

LAST_SEEN = GatewaySensorEntityDescription[ZiggyData](
    key="last_seen",
    translation_key="last_seen",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    # Most useful while the reader sleeps or is gone: since when.
    always_available=True,
    value_fn=lambda data: data.last_seen,
)

FIRMWARE = GatewayUpdateEntityDescription[ZiggyData](
    key="firmware",
    translation_key="firmware",
    # No firmware catalogue is published: the installed version is the newest
    # known; images are installed with the upload_firmware action.
    features=UpdateEntityFeature.PROGRESS,
    installed_version_fn=lambda data: (
        data.version.firmware_version if data.version else None
    ),
    latest_version_fn=lambda data: (
        data.version.firmware_version if data.version else None
    ),
    in_progress_fn=lambda data: data.upload is not None,
    progress_fn=lambda data: data.upload.percentage if data.upload else None,
    attributes_fn=lambda data: (
        {"build_number": data.version.build_number} if data.version else None
    ),
)


def extra_key(path: str) -> str:
    """Return the description key (and unique id suffix) of a generic sensor."""
    return f"extra_{path}"


def _extra(path: str) -> GatewaySensorEntityDescription[ZiggyData]:
    """Describe a generic sensor for a key the reader sends but is not known here."""
    return GatewaySensorEntityDescription[ZiggyData](
        key=extra_key(path),
        name=path.replace(".", " ").replace("_", " ").capitalize(),
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=unit_for_key(path),
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda data: data.status.extras.get(path),
    )


def sensor_descriptions(
    data: ZiggyData, only: Iterable[str] | None = None
) -> Sequence[GatewaySensorEntityDescription[ZiggyData]]:
    """Describe the sensors of the keys in the reader's status (or `only` these).

    The keys are what `status_keys` returns.
    """
    wanted = set(status_keys(data) if only is None else only)
    descriptions = [
        description for path, description in KNOWN.items() if path in wanted
    ]
    descriptions.extend(
        _extra(path) for path in sorted(data.status.extras) if path in wanted
    )
    if only is None:
        descriptions.append(LAST_SEEN)
    return descriptions


def status_keys(data: ZiggyData) -> set[str]:
    """Return the status key paths that have (or would have) a sensor."""
    return {path for path in data.status.present if path in KNOWN} | set(
        data.status.extras
    )
