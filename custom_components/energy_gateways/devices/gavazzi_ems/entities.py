"""Entity descriptions of an EMS gateway, built from its signal tree."""

from __future__ import annotations

from homeassistant.const import EntityCategory

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
)


def signal_description(
    configuration: Configuration, signal: Signal
) -> GatewaySensorEntityDescription[EmsData]:
    """Describe the sensor of one signal: its quantity, its device, its load."""
    entry = quantity(signal.si)
    device = configuration.device_of(signal)
    load = configuration.load_of(signal)
    uid = signal.uid
    return GatewaySensorEntityDescription[EmsData](
        # The unique id is the serial plus this key: labels may change, UIDs not.
        key=str(uid),
        translation_key=entry.translation_key,
        translation_placeholders={
            "load": (load.label if load else None) or f"Load {signal.load_uid}",
            "phase": f"L{entry.phase}" if entry.phase else "",
            "code": str(signal.si),
        },
        device=str(device.uid) if device else GATEWAY,
        device_class=entry.device_class,
        native_unit_of_measurement=entry.unit,
        state_class=entry.state_class,
        suggested_display_precision=entry.precision,
        entity_registry_enabled_default=entry.enabled,
        # Codes nobody catalogued yet are there for the curious, not dashboards.
        entity_category=EntityCategory.DIAGNOSTIC if entry is UNKNOWN else None,
        value_fn=lambda data: data.values.get(uid),
        available_fn=lambda data: uid in data.values and uid not in data.stale,
    )


def signal_descriptions(
    configuration: Configuration, uids: set[int] | None = None
) -> list[GatewaySensorEntityDescription[EmsData]]:
    """Describe the sensors of the active signals (or of those among `uids`)."""
    return [
        signal_description(configuration, signal)
        for uid, signal in sorted(configuration.active_signals.items())
        if uids is None or uid in uids
    ]
