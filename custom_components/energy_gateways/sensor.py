"""Sensor platform: builds sensors from the descriptions each device type declares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.const import Platform

from .entity import (
    GatewayEntity,
    GatewayEntityDescription,
    described_platform_setup,
)

# Read-only entities fed by a coordinator: no need to throttle.
PARALLEL_UPDATES = 0

type SensorValue = str | int | float | Decimal | date | datetime | None


@dataclass(frozen=True, kw_only=True)
class GatewaySensorEntityDescription[DataT](
    SensorEntityDescription, GatewayEntityDescription[DataT]
):
    """How to read one sensor's value (and, if it varies, its unit) from the data."""

    value_fn: Callable[[DataT], SensorValue]
    unit_fn: Callable[[DataT], str | None] | None = None
    attributes_fn: Callable[[DataT], dict[str, Any] | None] | None = None
    """Extra attributes; return the same objects while they are unchanged."""


class GatewaySensor[DataT](GatewayEntity[DataT], SensorEntity):
    """A sensor whose value and unit come from its description."""

    entity_description: GatewaySensorEntityDescription[DataT]
    # Lists such as price slots change daily: keep them out of the database.
    _unrecorded_attributes = frozenset({"prices"})

    def _current_value(self, data: DataT) -> object:
        description = self.entity_description
        value = self._attr_native_value = description.value_fn(data)
        unit = attributes = None
        if description.unit_fn is not None:
            unit = self._attr_native_unit_of_measurement = description.unit_fn(data)
        if description.attributes_fn is not None:
            attributes = self._attr_extra_state_attributes = (
                description.attributes_fn(data) or {}
            )
        return (value, unit, attributes)


async_setup_entry = described_platform_setup(
    Platform.SENSOR, GatewaySensorEntityDescription, GatewaySensor
)
