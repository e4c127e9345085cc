"""Entity descriptions of a BUZZN account and its group.

The account device carries the member's own values, savings, profile and
settings; the group device (linked to it) the group's power and production and,
disabled by default, every member's power and energy (personal data of others).
Members and appliances that appear later get their sensors without a reload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from homeassistant.components.number import NumberDeviceClass, NumberMode
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    EntityCategory,
    UnitOfArea,
    UnitOfEnergy,
    UnitOfPower,
)

from ...number import GatewayNumberEntityDescription
from ...sensor import GatewaySensorEntityDescription, SensorValue
from .data import BuzznData

if TYPE_CHECKING:
    from .runtime import BuzznRuntime

ACCOUNT = "account"
GROUP = "group"
BASELINE_STATES = ["ready", "waiting_for_data", "no_readings_available"]


def _kwh(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _sensor(
    key: str, value_fn: Callable[[BuzznData], SensorValue], **kwargs: Any
) -> GatewaySensorEntityDescription[BuzznData]:
    return GatewaySensorEntityDescription[BuzznData](
        key=key,
        translation_key=kwargs.pop("translation_key", key),
        value_fn=value_fn,
        **kwargs,
    )


def _power(
    key: str, value_fn: Callable[[BuzznData], SensorValue], **kwargs: Any
) -> GatewaySensorEntityDescription[BuzznData]:
    return _sensor(
        key,
        value_fn,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        **kwargs,
    )


def _energy_amount(
    key: str, value_fn: Callable[[BuzznData], SensorValue], **kwargs: Any
) -> GatewaySensorEntityDescription[BuzznData]:
    """Describe an amount of energy that is no meter total (a prognosis)."""
    return _sensor(
        key,
        value_fn,
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        **kwargs,
    )


SENSORS: tuple[GatewaySensorEntityDescription[BuzznData], ...] = (
    _sensor(
        "energy",
        lambda d: d.energy,
        translation_key="energy_consumption",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
    ),
    _power("power", lambda d: d.power),
    _power("group_power", lambda d: d.group_power, device=GROUP),
    _power("group_production", lambda d: d.group_production, device=GROUP),
    _energy_amount(
        "saving_prognosis",
        lambda d: _kwh(d.saving.prognosis) if d.saving else None,
    ),
    _energy_amount(
        "saving_baseline",
        lambda d: _kwh(d.saving.baseline) if d.saving else None,
    ),
    _energy_amount(
        "community_saving",
        lambda d: _kwh(d.community.prognosis) if d.community else None,
        device=GROUP,
    ),
    _sensor(
        "per_capita",
        lambda d: d.per_capita.value if d.per_capita else None,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    ),
    _sensor(
        "baseline_state",
        lambda d: (
            d.profile.baseline_state.lower() if d.profile.baseline_state else None
        ),
        device_class=SensorDeviceClass.ENUM,
        options=BASELINE_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
)


def _member_power(member: str) -> Callable[[BuzznData], SensorValue]:
    return lambda d: d.members[member].power if member in d.members else None


def _member_energy(member: str) -> Callable[[BuzznData], SensorValue]:
    return lambda d: d.members[member].energy if member in d.members else None


def _appliance(name: str) -> Callable[[BuzznData], SensorValue]:
    return lambda d: d.disaggregation.appliances.get(name) if d.disaggregation else None


def member_sensors(
    member_ids: Iterable[str],
) -> list[GatewaySensorEntityDescription[BuzznData]]:
    """Describe a power and an energy sensor per member, disabled by default."""
    descriptions: list[GatewaySensorEntityDescription[BuzznData]] = []
    for member in sorted(member_ids):
        placeholders = {"member": member}
        descriptions.append(
            _power(
                f"member_{member}_power",
                _member_power(member),
                translation_key="member_power",
                translation_placeholders=placeholders,
                device=GROUP,
                entity_registry_enabled_default=False,
            )
        )
        descriptions.append(
            _sensor(
                f"member_{member}_energy",
                _member_energy(member),
                translation_key="member_energy",
                translation_placeholders=placeholders,
                device=GROUP,
                device_class=SensorDeviceClass.ENERGY,
                state_class=SensorStateClass.TOTAL_INCREASING,
                native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
                suggested_display_precision=3,
                entity_registry_enabled_default=False,
            )
        )
    return descriptions


def appliance_sensors(
    names: Iterable[str],
) -> list[GatewaySensorEntityDescription[BuzznData]]:
    """Describe each appliance's average power over the newest 15 minutes."""
    return [
        _power(
            f"appliance_{name}",
            _appliance(name),
            translation_key="appliance_power",
            translation_placeholders={"appliance": name},
        )
        for name in sorted(names)
    ]


def _profile_setter(field: str) -> Callable[[Any, float], Any]:
    async def write(runtime: BuzznRuntime, value: float) -> None:
        await runtime.async_update_profile(**{field: value})

    return write


NUMBERS: tuple[GatewayNumberEntityDescription[BuzznData], ...] = (
    GatewayNumberEntityDescription[BuzznData](
        key="flat_size",
        translation_key="flat_size",
        entity_category=EntityCategory.CONFIG,
        device_class=NumberDeviceClass.AREA,
        native_unit_of_measurement=UnitOfArea.SQUARE_METERS,
        native_min_value=1,
        native_max_value=1000,
        native_step=0.5,
        mode=NumberMode.BOX,
        value_fn=lambda d: d.profile.flat_size,
        set_fn=_profile_setter("flat_size"),
    ),
    GatewayNumberEntityDescription[BuzznData](
        key="inhabitants",
        translation_key="inhabitants",
        entity_category=EntityCategory.CONFIG,
        native_min_value=1,
        native_max_value=20,
        native_step=1,
        mode=NumberMode.BOX,
        value_fn=lambda d: d.profile.inhabitants,
        set_fn=_profile_setter("inhabitants"),
    ),
)


def sensor_descriptions(
    data: BuzznData, members: Iterable[str], appliances: Iterable[str]
) -> Sequence[GatewaySensorEntityDescription[BuzznData]]:
    """Every sensor of the account: fixed ones, members and appliances seen."""
    return (*SENSORS, *member_sensors(members), *appliance_sensors(appliances))
