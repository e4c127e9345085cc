"""What each EMS signal-identifier code (`si`) measures: the one place to add codes.

The vendor has not published the code table. Only `si` 29 = voltage is in the
API document; the other entries are the team's assumption for an EM24-class
three-phase meter (listed in the README's code table) and are shared with the
simulator. A code that is not here still gets a sensor: generic, disabled by
default and named after its code, so nothing the gateway reports is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfReactivePower,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Quantity:
    """How Home Assistant shows one signal code."""

    translation_key: str
    device_class: SensorDeviceClass | None
    unit: str | None
    state_class: SensorStateClass = SensorStateClass.MEASUREMENT
    precision: int | None = None
    enabled: bool = True
    phase: int | None = None
    """1 to 3 for per-phase quantities (the name says "L1")."""
    import_history: bool = False
    """Import this counter's recorded history into long-term statistics."""
    enabled_where_exported: bool = False
    """Enabled by default only on a grid meter or a load that has exported
    (counter above 0 when first seen): a heat pump never exports."""

    @property
    def is_counter(self) -> bool:
        """An ever-growing total: never published lower, or as 0."""
        return self.state_class is SensorStateClass.TOTAL_INCREASING


def _phases(
    translation_key: str,
    device_class: SensorDeviceClass,
    unit: str,
    *,
    precision: int,
    enabled: bool = True,
) -> tuple[Quantity, ...]:
    """Describe the same quantity on L1, L2 and L3."""
    return tuple(
        Quantity(
            translation_key=translation_key,
            device_class=device_class,
            unit=unit,
            precision=precision,
            enabled=enabled,
            phase=phase,
        )
        for phase in (1, 2, 3)
    )


def _energy(
    direction: str,
    phase: int | None = None,
    *,
    enabled: bool = False,
    enabled_where_exported: bool = False,
) -> Quantity:
    return Quantity(
        translation_key=f"ems_energy_{direction}"
        + ("_phase" if phase is not None else ""),
        device_class=SensorDeviceClass.ENERGY,
        unit=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        precision=3,
        enabled=enabled,
        phase=phase,
        import_history=phase is None,
        enabled_where_exported=enabled_where_exported,
    )


_VOLTAGE = _phases(
    "ems_voltage_phase",
    SensorDeviceClass.VOLTAGE,
    UnitOfElectricPotential.VOLT,
    precision=1,
)
_CURRENT = _phases(
    "ems_current_phase",
    SensorDeviceClass.CURRENT,
    UnitOfElectricCurrent.AMPERE,
    precision=2,
)
_POWER = _phases(
    "ems_power_phase",
    SensorDeviceClass.POWER,
    UnitOfPower.WATT,
    precision=0,
    enabled=False,
)

CATALOGUE: dict[int, Quantity] = {
    29: _VOLTAGE[0],  # the one code the API document confirms
    30: _VOLTAGE[1],
    31: _VOLTAGE[2],
    32: _CURRENT[0],
    33: _CURRENT[1],
    34: _CURRENT[2],
    35: _POWER[0],
    36: _POWER[1],
    37: _POWER[2],
    38: Quantity(
        translation_key="ems_power",
        device_class=SensorDeviceClass.POWER,
        unit=UnitOfPower.WATT,
        precision=0,
    ),
    39: Quantity(
        translation_key="ems_reactive_power",
        device_class=SensorDeviceClass.REACTIVE_POWER,
        unit=UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
        precision=0,
        enabled=False,
    ),
    40: Quantity(
        translation_key="ems_apparent_power",
        device_class=SensorDeviceClass.APPARENT_POWER,
        unit=UnitOfApparentPower.VOLT_AMPERE,
        precision=0,
        enabled=False,
    ),
    41: Quantity(
        translation_key="ems_power_factor",
        device_class=SensorDeviceClass.POWER_FACTOR,
        unit=None,
        precision=2,
        enabled=False,
    ),
    42: Quantity(
        translation_key="ems_frequency",
        device_class=SensorDeviceClass.FREQUENCY,
        unit=UnitOfFrequency.HERTZ,
        precision=2,
        enabled=False,
    ),
    43: _energy("import", enabled=True),
    44: _energy("export", enabled=True, enabled_where_exported=True),
    45: _energy("import", 1),
    46: _energy("import", 2),
    47: _energy("import", 3),
    48: _energy("export", 1),
    49: _energy("export", 2),
    50: _energy("export", 3),
}

UNKNOWN = Quantity(
    translation_key="ems_signal",
    device_class=None,
    unit=None,
    enabled=False,
)
"""A code the catalogue does not know: a plain number named after the code."""


def quantity(si: int | None) -> Quantity:
    """Return the catalogue entry of a code, or the generic one."""
    return CATALOGUE.get(si, UNKNOWN) if si is not None else UNKNOWN
