"""Entity descriptions of a Cozify Hub and of every device behind it.

What a device gets is decided by its capabilities and state type, never by a
state key alone: a light reports its colour temperature (Kelvin) in the same
`temperature` key a sensor uses for °C, so only non-lights get a temperature
sensor. Every description of a device carries the device id in its key (the
unique id) and in `device`, so each entity lands on its own HA device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
import re
from typing import Any

from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    LIGHT_LUX,
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricPotential,
    UnitOfPower,
    UnitOfRatio,
    UnitOfTemperature,
)

from ...binary_sensor import GatewayBinarySensorEntityDescription
from ...entity import GatewayEntityDescription
from ...sensor import GatewaySensorEntityDescription
from .data import HubData
from .models import CozifyDevice, DeviceState

HUB = "hub"
"""The `device` of the hub's own entities."""
ROUTES = ["local", "remote"]

type Description = GatewayEntityDescription[HubData]
type StateRead[T] = Callable[[DeviceState], T]

# Door and window in the hub's languages ("oven" is the Finnish "of the door").
_DOOR = re.compile(r"door|ovi|oven|dörr|tür", re.IGNORECASE)
_WINDOW = re.compile(r"window|ikkuna|fönster|fenster", re.IGNORECASE)


def reachable(device_id: str) -> Callable[[HubData], bool]:
    """Available while the hub reports the device and does not call it unreachable."""

    def available(data: HubData) -> bool:
        device = data.devices.get(device_id)
        return device is not None and device.state.reachable is not False

    return available


def _reported(device_id: str) -> Callable[[HubData], bool]:
    """Available while the hub reports the device at all (reachable or not)."""
    return lambda data: device_id in data.devices


def _reader[T](device_id: str, read: StateRead[T]) -> Callable[[HubData], T | None]:
    def value(data: HubData) -> T | None:
        state = data.state_of(device_id)
        return read(state) if state is not None else None

    return value


def _sensor(
    device: CozifyDevice, key: str, read: StateRead[Any], **kwargs: Any
) -> GatewaySensorEntityDescription[HubData]:
    return GatewaySensorEntityDescription[HubData](
        key=f"{device.id}_{key}",
        device=device.id,
        available_fn=kwargs.pop("available_fn", reachable(device.id)),
        value_fn=_reader(device.id, read),
        **kwargs,
    )


def _binary(
    device: CozifyDevice, key: str, read: StateRead[bool | None], **kwargs: Any
) -> GatewayBinarySensorEntityDescription[HubData]:
    return GatewayBinarySensorEntityDescription[HubData](
        key=f"{device.id}_{key}",
        device=device.id,
        available_fn=kwargs.pop("available_fn", reachable(device.id)),
        is_on_fn=_reader(device.id, read),
        **kwargs,
    )


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _has(device: CozifyDevice, capability: str, value: object) -> bool:
    """Whether the device measures something: it says so, or it reports a value."""
    return capability in device.capabilities or value is not None


@dataclass(frozen=True, slots=True)
class _Measurement:
    """A sensor a device has when it has one of `capabilities` or reports a value."""

    key: str
    capabilities: frozenset[str]
    read: StateRead[float | None]
    unit: str
    device_class: SensorDeviceClass | None
    options: Mapping[str, Any] = field(default_factory=dict)
    """More description fields (translation key, category, precision)."""


MEASUREMENTS = (
    # A light's `temperature` is its colour in Kelvin: the model never reads it
    # as °C, and a light's TEMPERATURE capability (if any) gives no sensor.
    _Measurement(
        "temperature",
        frozenset({"TEMPERATURE"}),
        lambda s: s.temperature,
        UnitOfTemperature.CELSIUS,
        SensorDeviceClass.TEMPERATURE,
        {"suggested_display_precision": 1},
    ),
    _Measurement(
        "heating_demand",
        frozenset(),
        lambda s: _percent(s.heating_demand),
        PERCENTAGE,
        None,
        {"translation_key": "heating_demand"},
    ),
    _Measurement(
        "humidity",
        frozenset({"HUMIDITY"}),
        lambda s: s.humidity,
        PERCENTAGE,
        SensorDeviceClass.HUMIDITY,
        {"suggested_display_precision": 0},
    ),
    _Measurement(
        "illuminance",
        frozenset({"LUX"}),
        lambda s: s.lux,
        LIGHT_LUX,
        SensorDeviceClass.ILLUMINANCE,
    ),
    _Measurement(
        "co2",
        frozenset({"CO2"}),
        lambda s: s.co2,
        UnitOfRatio.PARTS_PER_MILLION,
        SensorDeviceClass.CO2,
    ),
    _Measurement(
        "power",
        frozenset({"ACTIVE_POWER", "MEASURE_POWER"}),
        lambda s: s.power,
        UnitOfPower.WATT,
        SensorDeviceClass.POWER,
    ),
    _Measurement(
        "battery_voltage",
        frozenset({"BATTERY_U"}),
        lambda s: s.battery_voltage,
        UnitOfElectricPotential.VOLT,
        SensorDeviceClass.VOLTAGE,
        {
            "translation_key": "battery_voltage",
            "entity_category": EntityCategory.DIAGNOSTIC,
            "suggested_display_precision": 2,
        },
    ),
)


def device_sensors(
    device: CozifyDevice,
) -> list[GatewaySensorEntityDescription[HubData]]:
    """Return the sensors a device's capabilities call for."""
    state = device.state
    capabilities = device.capabilities
    sensors = [
        _sensor(
            device,
            measurement.key,
            measurement.read,
            native_unit_of_measurement=measurement.unit,
            device_class=measurement.device_class,
            state_class=SensorStateClass.MEASUREMENT,
            **measurement.options,
        )
        for measurement in MEASUREMENTS
        if (
            measurement.read(state) is not None
            or (capabilities & measurement.capabilities and not device.is_light)
        )
    ]
    if _has(device, "DEVICE", state.last_seen):
        sensors.append(
            _sensor(
                device,
                "last_seen",
                _last_seen,
                translation_key="last_seen",
                device_class=SensorDeviceClass.TIMESTAMP,
                entity_category=EntityCategory.DIAGNOSTIC,
                # When it was last heard of keeps its meaning while unreachable.
                available_fn=_reported(device.id),
            )
        )
    return sensors


def _last_seen(state: DeviceState) -> datetime | None:
    return state.last_seen


def _contact_class(device: CozifyDevice) -> BinarySensorDeviceClass:
    """Return door or window when the name says so, else opening."""
    if _DOOR.search(device.name):
        return BinarySensorDeviceClass.DOOR
    if _WINDOW.search(device.name):
        return BinarySensorDeviceClass.WINDOW
    return BinarySensorDeviceClass.OPENING


def _not_dark(state: DeviceState) -> bool | None:
    """Daylight: the hub's `twilight` is true when it is dark."""
    return None if state.twilight is None else not state.twilight


def device_binary_sensors(
    device: CozifyDevice,
) -> list[GatewayBinarySensorEntityDescription[HubData]]:
    """Return the binary sensors a device's capabilities call for."""
    state = device.state
    found: list[GatewayBinarySensorEntityDescription[HubData]] = []
    simple: tuple[
        tuple[str, str, StateRead[bool | None], BinarySensorDeviceClass], ...
    ] = (
        ("MOTION", "motion", lambda s: s.motion, BinarySensorDeviceClass.MOTION),
        ("SMOKE", "smoke", lambda s: s.smoke, BinarySensorDeviceClass.SMOKE),
        (
            "MOISTURE",
            "moisture",
            lambda s: s.moisture,
            BinarySensorDeviceClass.MOISTURE,
        ),
        ("CO", "carbon_monoxide", lambda s: s.co, BinarySensorDeviceClass.CO),
    )
    for capability, key, read, device_class in simple:
        if _has(device, capability, read(state)):
            found.append(_binary(device, key, read, device_class=device_class))
    if _has(device, "CONTACT", state.open):
        found.append(
            _binary(
                device, "contact", lambda s: s.open, device_class=_contact_class(device)
            )
        )
    if _has(device, "TWILIGHT", state.twilight):
        found.append(
            _binary(
                device,
                "daylight",
                _not_dark,
                translation_key="daylight",
                device_class=BinarySensorDeviceClass.LIGHT,
            )
        )
    if _has(device, "BATTERY_U", state.battery_low):
        found.append(
            _binary(
                device,
                "battery_low",
                lambda s: s.battery_low,
                device_class=BinarySensorDeviceClass.BATTERY,
                entity_category=EntityCategory.DIAGNOSTIC,
            )
        )
    if _has(device, "DEVICE", state.reachable):
        found.append(
            _binary(
                device,
                "reachable",
                lambda s: s.reachable,
                device_class=BinarySensorDeviceClass.CONNECTIVITY,
                entity_category=EntityCategory.DIAGNOSTIC,
                available_fn=_reported(device.id),
            )
        )
    return found


def sensors_of(
    devices: Iterable[CozifyDevice],
) -> list[GatewaySensorEntityDescription[HubData]]:
    """Return the sensors of several devices."""
    return [description for device in devices for description in device_sensors(device)]


def binary_sensors_of(
    devices: Iterable[CozifyDevice],
) -> list[GatewayBinarySensorEntityDescription[HubData]]:
    """Return the binary sensors of several devices."""
    return [
        description
        for device in devices
        for description in device_binary_sensors(device)
    ]


HUB_SENSORS = (
    GatewaySensorEntityDescription[HubData](
        key="route",
        device=HUB,
        translation_key="cozify_route",
        device_class=SensorDeviceClass.ENUM,
        options=ROUTES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.route,
    ),
)
HUB_BINARY_SENSORS = (
    GatewayBinarySensorEntityDescription[HubData](
        key="connection",
        device=HUB,
        translation_key="hub_connection",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        always_available=True,
    ),
)
