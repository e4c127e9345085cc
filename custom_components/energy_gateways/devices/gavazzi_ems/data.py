"""What the integration knows about one EMS gateway at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .catalogue import CATALOGUE
from .models import Device, GatewayDate, Load, RealtimeSample, Signal


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayInfo:
    """The gateway's own identity (`/ver`, `/v1/serial-number`, …)."""

    serial_number: str
    mac: str | None
    firmware: str | None
    part_number: str | None
    api_version: int | None
    date: GatewayDate | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Configuration:
    """The gateway's tree of devices, loads and signals, keyed by UID."""

    devices: dict[int, Device]
    loads: dict[int, Load]
    signals: dict[int, Signal]
    active_signals: dict[int, Signal] = field(init=False, compare=False)
    """Signals that get an entity: enabled, on an enabled load of a known device.

    Derived once per read of the tree: every polling cycle walks it.
    """
    enabled_loads: dict[int, list[Load]] = field(init=False, compare=False)
    """The enabled loads of each device UID, in the gateway's order."""

    def __post_init__(self) -> None:
        active = {
            uid: signal
            for uid, signal in self.signals.items()
            if signal.enable
            and (load := self.load_of(signal)) is not None
            and load.enable
            and self.device_of(signal) is not None
        }
        object.__setattr__(self, "active_signals", active)
        loads: dict[int, list[Load]] = {}
        for load in sorted(
            self.loads.values(), key=lambda load: (load.index or 0, load.uid)
        ):
            if load.enable and load.device_uid is not None:
                loads.setdefault(load.device_uid, []).append(load)
        object.__setattr__(self, "enabled_loads", loads)

    def device_name(self, device: Device) -> str:
        """Name a meter after what it measures: the label of its one load.

        A meter with several enabled loads (a multi-channel meter) keeps its own
        label, and its sensors name their load (see `names_load`).
        """
        loads = self.enabled_loads.get(device.uid, [])
        if len(loads) == 1 and loads[0].label:
            return loads[0].label
        return device.label or f"Device {device.uid}"

    def names_load(self, load: Load) -> bool:
        """Whether the sensors of a load carry its label: its meter has others."""
        return (
            load.device_uid is not None
            and len(self.enabled_loads.get(load.device_uid, [])) > 1
        )

    def load_of(self, signal: Signal) -> Load | None:
        """Return the load a signal belongs to."""
        return self.loads.get(signal.load_uid) if signal.load_uid is not None else None

    def device_of(self, signal: Signal) -> Device | None:
        """Return the device a signal belongs to (its `did`, else its load's)."""
        device_uid = signal.device_uid
        if device_uid is None and signal.load_uid in self.loads:
            device_uid = self.loads[signal.load_uid].device_uid
        return self.devices.get(device_uid) if device_uid is not None else None

    def unknown_codes(self) -> list[int]:
        """Signal codes the catalogue does not know, sorted."""
        return sorted(
            {
                signal.si
                for signal in self.signals.values()
                if signal.si is not None and signal.si not in CATALOGUE
            }
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class EmsData:
    """One polling cycle's result: the tree and the latest value of each signal."""

    gateway: GatewayInfo
    configuration: Configuration
    samples: dict[int, RealtimeSample] = field(default_factory=dict)
    """Latest sample per signal UID, as the gateway sent it."""
    values: dict[int, float | None] = field(default_factory=dict)
    """Value to show per signal UID: None when not valid; counters never go back."""
    stale: frozenset[int] = frozenset()
    """Signals whose sample time stopped advancing: their meter is not being read."""
    read_at: datetime | None = None
    """When this cycle's values were read (the last good reading)."""
