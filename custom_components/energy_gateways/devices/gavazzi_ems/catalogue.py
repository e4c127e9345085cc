"""What each EMS signal-identifier code (`si`) measures: the one place to add codes.

The vendor has not published the code table. Only `si` 29 = voltage is in the
API document; the other entries are the team's assumption for an EM24-class
three-phase meter (see docs/devices/carlo-gavazzi-ems.md) and are shared with the
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

    @property
    def is_counter(self) -> bool:
        """An ever-growing total: never published lower, or as 0."""
        return self.state_class is SensorStateClass.TOTAL_INCREASING


def _voltage(phase: int) -> Quantity:
    return Quantity(
        translation_key="ems_voltage_phase",
        device_class=SensorDeviceClass.VOLTAGE,
        unit=UnitOfElectricPotential.VOLT,
        precision=1,
        phase=phase,
    )


def _current(phase: int) -> Quantity:
    return Quantity(
        translation_key="ems_current_phase",
        device_class=SensorDeviceClass.CURRENT,
        unit=UnitOfElectricCurrent.AMPERE,
        precision=2,
        phase=phase,
    )


def _power(phase: int) -> Quantity:
    return Quantity(
        translation_key="ems_power_phase",
        device_class=SensorDeviceClass.POWER,
        unit=UnitOfPower.WATT,
        precision=0,
        enabled=False,
        phase=phase,
    )


def _energy(
    direction: str, phase: int | None = None, *, enabled: bool = False
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
    )


CATALOGUE: dict[int, Quantity] = {
    29: _voltage(1),  # the one code the API document confirms
    30: _voltage(2),
    31: _voltage(3),
    32: _current(1),
    33: _current(2),
    34: _current(3),
    35: _power(1),
    36: _power(2),
    37: _power(3),
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
    44: _energy("export", enabled=True),
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
