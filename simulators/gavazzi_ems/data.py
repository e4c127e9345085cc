"""The simulated installation: devices, loads, signals and their values.

Values are deterministic functions of time and signal UID. Energy counters are
integrals of non-negative power curves, so they never decrease.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
import hashlib
import math
from typing import Any

PROTOCOLS = ("rtu", "tcp", "meterBus", "virtual", "P1")
"""Protocol names of the seed (load blocks and the ``protocol`` filter)."""

HISTORY_PERIOD = 900
"""Seconds between history samples (assumed: 15 minutes)."""
HISTORY_RETENTION = 7 * 24 * 3600
"""Seconds of history kept (assumed: 7 days)."""
EPOCH = 1_704_067_200
"""Start of the simulated counters (2024-01-01 UTC); counters are 0 before."""

_DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Quantity:
    """One entry of the assumed signal-identifier catalogue."""

    si: int
    kind: str
    phase: int | None
    unit: str


def _catalogue() -> tuple[Quantity, ...]:
    # only si 29 = voltage is documented; every other code is an assumption
    entries: list[Quantity] = []
    entries += [Quantity(29 + n, "voltage", n + 1, "V") for n in range(3)]
    entries += [Quantity(32 + n, "current", n + 1, "A") for n in range(3)]
    entries += [Quantity(35 + n, "active_power", n + 1, "W") for n in range(3)]
    entries += [
        Quantity(38, "active_power", None, "W"),
        Quantity(39, "reactive_power", None, "var"),
        Quantity(40, "apparent_power", None, "VA"),
        Quantity(41, "power_factor", None, ""),
        Quantity(42, "frequency", None, "Hz"),
        Quantity(43, "energy_import", None, "kWh"),
        Quantity(44, "energy_export", None, "kWh"),
    ]
    entries += [Quantity(45 + n, "energy_import", n + 1, "kWh") for n in range(3)]
    entries += [Quantity(48 + n, "energy_export", n + 1, "kWh") for n in range(3)]
    return tuple(entries)


CATALOGUE = _catalogue()
"""Signal codes each simulated load has (si → quantity, mostly assumed)."""
CATALOGUE_BY_SI = {entry.si: entry for entry in CATALOGUE}
EXTRA_SI_BASE = 900
"""First code of the generic extra signals (codes unknown to any client)."""
COUNTER_KINDS = frozenset({"energy_import", "energy_export"})


def _unit(*parts: object) -> float:
    """Return a stable pseudo-random number in [0, 1) from ``parts``."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(slots=True)
class Signal:
    """One signal of a load."""

    uid: int
    si: int
    lid: int
    did: int
    enable: bool = True

    def as_json(self) -> dict[str, Any]:
        """Return the signal object of ``/v1/signals``."""
        return {
            "uid": self.uid,
            "si": self.si,
            "sir": self.si,
            "enable": self.enable,
            "lid": self.lid,
            "did": self.did,
        }


@dataclass(slots=True)
class Load:
    """One measurement channel of a device."""

    uid: int
    did: int
    label: str
    protocol: str
    index: int = 1
    enable: bool = True
    # per-phase import base power (W) and export (solar) peak power (W)
    base_power: tuple[float, float, float] = (500.0, 400.0, 300.0)
    export_power: float = 0.0
    signals: list[Signal] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Return the load object of ``/v1/loads``: one protocol block filled."""
        settings: dict[str, Any]
        if self.protocol == "meterBus":
            settings = {
                "main": True,
                "system": 0,
                "ct": 10,
                "currentDirections": 0,
                "digitalInputMode": 0,
                "digitalOutputMode": 0,
                "digitalOutputModeNcNo": 0,
                "measureType": 0,
                "startUpCurrentRH": 10,
            }
        elif self.protocol == "rtu":
            settings = {"address": 1 + self.index, "baudrate": 9600, "parity": 0}
        elif self.protocol == "tcp":
            settings = {"ip": f"192.168.1.{60 + self.index}", "port": 502, "id": 1}
        elif self.protocol == "P1":
            settings = {"dsmr": "5.0"}
        else:
            settings = {"expression": ""}
        blocks: dict[str, Any] = {name: {} for name in PROTOCOLS}
        blocks[self.protocol] = settings
        return {
            "uid": self.uid,
            "label": self.label,
            "enable": self.enable,
            "index": self.index,
            "type": 0,
            "did": self.did,
            **{
                name: blocks[name]
                for name in ("meterBus", "tcp", "rtu", "virtual", "P1")
            },
        }


@dataclass(slots=True)
class Device:
    """A meter known to the gateway."""

    uid: int
    label: str
    part_number: str
    system: str = "3P"
    loads: list[Load] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Return the device object of ``/v1/devices``."""
        return {
            "uid": self.uid,
            "label": self.label,
            "partNumber": self.part_number,
            "system": self.system,
        }

    @property
    def protocols(self) -> set[str]:
        """Protocols of the device's loads."""
        return {load.protocol for load in self.loads}


class Installation:
    """Devices → loads → signals, with UIDs in one shared number space."""

    def __init__(self, extra_signals: int = 0) -> None:
        self.devices: dict[int, Device] = {}
        self.hidden: set[int] = set()
        self._next_uid = 1
        self.add_device(
            "Main meter",
            "EMS10AV5S1X",
            "meterBus",
            load_label="Main",
            base_power=(900.0, 700.0, 600.0),
            export_power=1800.0,
            uid=1,
        )
        self.add_device(
            "EM1",
            "EM24_E1",
            "rtu",
            load_label="Heat pump",
            base_power=(700.0, 700.0, 700.0),
            uid=30,
        )
        self.add_device(
            "EM2",
            "EM24_E1",
            "tcp",
            load_label="EV charger",
            base_power=(1200.0, 1100.0, 1000.0),
            uid=60,
        )
        self.add_device(
            "P1 meter",
            "P1",
            "P1",
            load_label="Grid",
            base_power=(800.0, 600.0, 500.0),
            export_power=1500.0,
            uid=90,
        )
        if extra_signals:
            load = self.devices[1].loads[0]
            for n in range(extra_signals):
                load.signals.append(
                    Signal(self._take_uid(), EXTRA_SI_BASE + n % 50, load.uid, 1)
                )

    def _take_uid(self) -> int:
        uid = self._next_uid
        self._next_uid += 1
        return uid

    def add_device(
        self,
        label: str,
        part_number: str,
        protocol: str,
        *,
        load_label: str | None = None,
        base_power: tuple[float, float, float] | None = None,
        export_power: float = 0.0,
        uid: int | None = None,
    ) -> Device:
        """Add a 3-phase device with one load and the full signal set."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}")
        if uid is not None:
            if uid < self._next_uid:
                raise ValueError(f"uid {uid} is taken")
            self._next_uid = uid
        device = Device(self._take_uid(), label, part_number)
        if base_power is None:
            base_power = (
                300.0 + 600.0 * _unit(device.uid, 1),
                300.0 + 600.0 * _unit(device.uid, 2),
                300.0 + 600.0 * _unit(device.uid, 3),
            )
        load = Load(
            self._take_uid(),
            device.uid,
            load_label or label,
            protocol,
            index=len(self.devices) + 1,
            base_power=base_power,
            export_power=export_power,
        )
        load.signals = [
            Signal(self._take_uid(), entry.si, load.uid, device.uid)
            for entry in CATALOGUE
        ]
        device.loads.append(load)
        self.devices[device.uid] = device
        return device

    def remove_device(self, uid: int) -> None:
        """Remove a device with its loads and signals; KeyError when unknown."""
        del self.devices[uid]
        self.hidden.discard(uid)

    # ---- views of what the API shows ----------------------------------------

    def visible_devices(self) -> list[Device]:
        """Return the devices not hidden, by UID."""
        return [
            device
            for uid, device in sorted(self.devices.items())
            if uid not in self.hidden
        ]

    def visible_loads(self) -> list[Load]:
        """Return the loads of the visible devices, by UID."""
        loads = [load for device in self.visible_devices() for load in device.loads]
        return sorted(loads, key=lambda load: load.uid)

    def visible_signals(self) -> list[Signal]:
        """Return the signals of the visible loads, by UID."""
        signals = [signal for load in self.visible_loads() for signal in load.signals]
        return sorted(signals, key=lambda signal: signal.uid)

    def load_of(self, signal: Signal) -> Load:
        """Return the load a signal belongs to."""
        for load in self.devices[signal.did].loads:
            if load.uid == signal.lid:
                return load
        raise KeyError(signal.lid)


# ---- the physics ------------------------------------------------------------


def _import_power(load: Load, phase: int, t: float) -> float:
    """Import power (W) of one phase: daily swing plus a faster ripple, > 0."""
    base = load.base_power[phase - 1]
    shift = 2 * math.pi * _unit(load.uid, phase)
    daily = math.sin(2 * math.pi * t / _DAY + shift)
    ripple = math.sin(2 * math.pi * t / 600.0 + shift)
    return base * (1.0 + 0.5 * daily + 0.1 * ripple)


def _import_energy(load: Load, phase: int, t: float) -> float:
    """Integral of ``_import_power`` from EPOCH to ``t`` in kWh."""
    base = load.base_power[phase - 1]
    shift = 2 * math.pi * _unit(load.uid, phase)
    t = max(t, EPOCH)

    def primitive(x: float) -> float:
        return base * (
            x
            - 0.5 * _DAY / (2 * math.pi) * math.cos(2 * math.pi * x / _DAY + shift)
            - 0.1 * 600.0 / (2 * math.pi) * math.cos(2 * math.pi * x / 600.0 + shift)
        )

    return (primitive(t) - primitive(EPOCH)) / 3.6e6


def _export_power(load: Load, phase: int, t: float) -> float:
    """Export (solar) power of one phase in W: 0 at night, a midday bump."""
    if load.export_power <= 0:
        return 0.0
    return (
        load.export_power
        / 3
        * max(0.0, math.sin(2 * math.pi * t / _DAY)) ** 2
        * (1.0 + 0.02 * phase)
    )


def _export_energy(load: Load, phase: int, t: float) -> float:
    """Integral of ``_export_power`` from EPOCH to ``t`` in kWh (exact)."""
    if load.export_power <= 0:
        return 0.0
    t = max(t, EPOCH)
    peak = load.export_power / 3 * (1.0 + 0.02 * phase)

    def primitive(x: float) -> float:
        # integral of max(0, sin)^2 over whole days is DAY/4; within a day the
        # positive half (first half of the UTC day) contributes x/2 - sin(2wx)/(4w)
        days, rest = divmod(x, _DAY)
        omega = 2 * math.pi / _DAY
        half = min(rest, _DAY / 2)
        return days * _DAY / 4 + half / 2 - math.sin(2 * omega * half) / (4 * omega)

    return peak * (primitive(t) - primitive(EPOCH)) / 3.6e6


def _voltage(load: Load, phase: int, t: float) -> float:
    shift = 2 * math.pi * _unit(load.uid, phase, "v")
    return 230.0 + 3.0 * math.sin(2 * math.pi * t / 3600.0 + shift)


def _power_factor(load: Load, t: float) -> float:
    shift = 2 * math.pi * _unit(load.uid, "pf")
    return 0.92 + 0.05 * math.sin(2 * math.pi * t / 7200.0 + shift)


def value(load: Load, signal: Signal, t: float) -> float:
    """Return the value of ``signal`` at epoch seconds ``t`` (engineering units)."""
    entry = CATALOGUE_BY_SI.get(signal.si)
    if entry is None:
        # generic signal with an unknown code: a slow wave around its code
        return round(signal.si / 10 + math.sin(t / 300.0 + signal.uid), 3)
    phases: Iterable[int] = (entry.phase,) if entry.phase else (1, 2, 3)
    kind = entry.kind
    if kind == "voltage":
        return round(_voltage(load, entry.phase or 1, t), 1)
    if kind == "frequency":
        return round(50.0 + 0.04 * math.sin(t / 97.0 + load.uid), 2)
    if kind == "power_factor":
        return round(_power_factor(load, t), 3)
    if kind == "energy_import":
        return round(sum(_import_energy(load, p, t) for p in phases), 3)
    if kind == "energy_export":
        return round(sum(_export_energy(load, p, t) for p in phases), 3)
    active = sum(_import_power(load, p, t) - _export_power(load, p, t) for p in phases)
    if kind == "active_power":
        return round(active, 1)
    pf = _power_factor(load, t)
    apparent = abs(active) / pf
    if kind == "apparent_power":
        return round(apparent, 1)
    if kind == "reactive_power":
        return round(math.sqrt(max(apparent**2 - active**2, 0.0)), 1)
    # current of one phase
    phase = entry.phase or 1
    return round(abs(active) / pf / _voltage(load, phase, t), 2)


def is_counter(signal: Signal) -> bool:
    """Whether the signal is an energy counter (only grows)."""
    entry = CATALOGUE_BY_SI.get(signal.si)
    return entry is not None and entry.kind in COUNTER_KINDS


def history_row(load: Load, signal: Signal, period_end: int) -> dict[str, Any]:
    """One history row for the period ending at ``period_end`` (epoch s)."""
    start = period_end - HISTORY_PERIOD
    samples = [value(load, signal, start + k * HISTORY_PERIOD / 6) for k in range(7)]
    current = value(load, signal, period_end - 1)
    delta = (
        round(value(load, signal, period_end) - value(load, signal, start), 3)
        if is_counter(signal)
        else 0
    )
    return {
        "uid": signal.uid,
        "t": period_end - 1,
        "p": period_end,
        "v": current,
        "d": delta,
        "max": max(samples),
        "min": min(samples),
    }
