"""Entity descriptions of an EMS gateway, built from its signal tree."""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import EntityCategory

from ...binary_sensor import GatewayBinarySensorEntityDescription
from ...sensor import GatewaySensorEntityDescription
from .catalogue import UNKNOWN, quantity
from .data import Configuration, EmsData
from .models import Signal

GATEWAY = "gateway"
"""The `device` of entities that belong to the gateway itself."""

GATEWAY_SENSORS: tuple[GatewaySensorEntityDescription[EmsData], ...] = (
    GatewaySensorEntityDescription[EmsData](
        key="api_version",
        translation_key="ems_api_version",
        device=GATEWAY,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda data: data.gateway.api_version,
    ),
    GatewaySensorEntityDescription[EmsData](
        key="firmware",
        translation_key="ems_firmware",
        device=GATEWAY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.gateway.firmware,
    ),
    GatewaySensorEntityDescription[EmsData](
        key="meters",
        translation_key="ems_meters",
        device=GATEWAY,
        value_fn=lambda data: len(data.configuration.devices),
    ),
    GatewaySensorEntityDescription[EmsData](
        key="last_reading",
        translation_key="ems_last_reading",
        device=GATEWAY,
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # Most useful while the gateway is out of reach: since when.
        always_available=True,
        value_fn=lambda data: data.read_at,
    ),
)

GATEWAY_BINARY_SENSORS: tuple[GatewayBinarySensorEntityDescription[EmsData], ...] = (
    GatewayBinarySensorEntityDescription[EmsData](
        key="connection",
        translation_key="ems_connection",
        device=GATEWAY,
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        # Off (not unavailable) while the gateway cannot be reached.
        always_available=True,
        is_on_fn=None,
    ),
)


def signal_name(
    configuration: Configuration, signal: Signal
) -> tuple[str, dict[str, str]]:
    """Return the translation key and placeholders of a signal's sensor name.

    The meter's device is named after its load, so the name is the quantity
    ("Current L1"); on a meter with several loads it names the load too.
    """
    entry = quantity(signal.si)
    load = configuration.load_of(signal)
    key = entry.translation_key
    placeholders = {
        "phase": f"L{entry.phase}" if entry.phase else "",
        "code": str(signal.si),
    }
    if load is not None and configuration.names_load(load):
        key = "ems_load_" + key.removeprefix("ems_")
        placeholders["load"] = load.label or f"Load {load.uid}"
    return key, placeholders


def signal_description(
    configuration: Configuration,
    signal: Signal,
    values: Mapping[int, float | None],
) -> GatewaySensorEntityDescription[EmsData]:
    """Describe the sensor of one signal: its quantity, its device, its name."""
    entry = quantity(signal.si)
    device = configuration.device_of(signal)
    load = configuration.load_of(signal)
    uid = signal.uid
    enabled = entry.enabled
    if entry.enabled_where_exported:
        # Decided when the entity is first registered; the registry keeps it.
        enabled = (load is not None and load.grid) or (values.get(uid) or 0) > 0
    translation_key, placeholders = signal_name(configuration, signal)
    return GatewaySensorEntityDescription[EmsData](
        # The unique id is the serial plus this key: labels may change, UIDs not.
        key=str(uid),
        translation_key=translation_key,
        translation_placeholders=placeholders,
        device=str(device.uid) if device else GATEWAY,
        device_class=entry.device_class,
        native_unit_of_measurement=entry.unit,
        state_class=entry.state_class,
        suggested_display_precision=entry.precision,
        entity_registry_enabled_default=enabled,
        # Codes nobody catalogued yet are there for the curious, not dashboards.
        entity_category=EntityCategory.DIAGNOSTIC if entry is UNKNOWN else None,
        value_fn=lambda data: data.values.get(uid),
        available_fn=lambda data: uid in data.values and uid not in data.stale,
    )


def signal_descriptions(
    configuration: Configuration,
    values: Mapping[int, float | None],
    uids: set[int] | None = None,
) -> list[GatewaySensorEntityDescription[EmsData]]:
    """Describe the sensors of the active signals (or of those among `uids`)."""
    return [
        signal_description(configuration, signal, values)
        for uid, signal in sorted(configuration.active_signals.items())
        if uids is None or uid in uids
    ]
