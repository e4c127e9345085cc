"""The simulated house behind the ZiggyMeter, and fake OTA images.

Power is a deterministic function of the time of day (UTC), the same every
day: three phases of household load (L1 carries a heat pump and never drops
below about 1.2 kW) and a 3.6 kWp PV inverter split evenly over the phases
producing from 07:00 to 19:00. A phase whose PV share exceeds its load
exports, so around midday L2 and L3 export while L1 imports. The reader reads
the meter every 10 s: values change only at those readings, and the energy
counters are the exact sum of each reading's power over its 10 s.
"""

from dataclasses import dataclass
import hashlib
import math
import re

DAY = 86400
"""The power profile repeats every day (UTC)."""
READING_PERIOD = 10
"""Seconds between two meter readings."""
SLOTS = DAY // READING_PERIOD
ORIGIN = 1704067200
"""2024-01-01 00:00 UTC: the counters read IMPORT_AT_ORIGIN / EXPORT_AT_ORIGIN then."""
IMPORT_AT_ORIGIN = 9000.0
EXPORT_AT_ORIGIN = 150.0
PV_PEAK_W = 3600.0
PV_START = 7 * 3600
PV_END = 19 * 3600
_KWH_PER_WATT_SLOT = READING_PERIOD / 3_600_000
_OTA_HEADER = re.compile(rb"ZIGGYOTA build=(\d+) version=([^\s]+)\n")


def _wave(seconds: float, period: float, phase: float = 0.0) -> float:
    return math.sin(2 * math.pi * seconds / period + phase)


def household_load(phase: int, second: float) -> float:
    """Load on phase ``phase`` (1-3) at ``second`` of the day, in W (always > 0)."""
    # evening peak around 19:00, morning bump around 07:30, hourly appliance ripple
    evening = (1 - math.cos(2 * math.pi * (second - 19 * 3600) / DAY)) / 2
    morning = math.exp(-(((second - 7.5 * 3600) / 3600) ** 2))
    if phase == 1:
        return 1200 + 150 * _wave(second, 3600) + 500 * (1 - evening) + 300 * morning
    if phase == 2:
        return 180 + 60 * _wave(second, 1800, 1.0) + 350 * (1 - evening) + 400 * morning
    return 220 + 80 * _wave(second, 900, 2.0) + 250 * (1 - evening) + 150 * morning


def pv_power(second: float) -> float:
    """Total PV production at ``second`` of the day, in W."""
    if not PV_START <= second <= PV_END:
        return 0.0
    return (
        PV_PEAK_W * math.sin(math.pi * (second - PV_START) / (PV_END - PV_START)) ** 2
    )


def phase_voltage(phase: int, moment: float) -> float:
    """Voltage of phase ``phase`` at epoch ``moment`` (about 230 V)."""
    return 230.0 + 2.0 * _wave(moment, DAY, phase) + 0.8 * _wave(moment, 600, 2 * phase)


@dataclass(frozen=True, slots=True)
class Reading:
    """One meter reading: signed power per phase (import positive) and its sums."""

    time: int
    """Epoch s of the reading (a multiple of READING_PERIOD)."""
    phases: tuple[float, ...]
    import_w: float
    export_w: float

    @property
    def net_w(self) -> float:
        """Import minus export, W."""
        return self.import_w - self.export_w


class House:
    """Meter readings and energy counters of the simulated house.

    ``phases``: 3, or 1 (every load and the PV on L1). ``solar``: without it
    there is no PV, so nothing is ever exported. ``digits``: decimals of the
    phase powers (0 for the whole-number variant); totals are their exact sums.
    """

    def __init__(self, phases: int = 3, *, solar: bool = True, digits: int = 1) -> None:
        if phases not in (1, 3):
            raise ValueError("phases must be 1 or 3")
        self.phases = phases
        self.solar = solar
        self.digits = digits
        self._slots = [self._slot(index) for index in range(SLOTS)]
        imported = exported = 0.0
        self._prefix: list[tuple[float, float]] = []
        for powers in self._slots:
            self._prefix.append((imported, exported))
            imported += self._import(powers) * _KWH_PER_WATT_SLOT
            exported += self._export(powers) * _KWH_PER_WATT_SLOT
        self.day_import_kwh = imported
        """Energy imported per day, kWh."""
        self.day_export_kwh = exported
        """Energy exported per day, kWh."""

    def _slot(self, index: int) -> tuple[float, ...]:
        second = index * READING_PERIOD
        pv = pv_power(second) if self.solar else 0.0
        loads = [household_load(phase, second) for phase in (1, 2, 3)]
        if self.phases == 1:
            raw = [sum(loads) - pv]
        else:
            raw = [load - pv / 3 for load in loads]
        return tuple(round(power, self.digits) for power in raw)

    def _import(self, powers: tuple[float, ...]) -> float:
        return round(sum((power for power in powers if power > 0), 0.0), self.digits)

    def _export(self, powers: tuple[float, ...]) -> float:
        return round(sum((-power for power in powers if power < 0), 0.0), self.digits)

    @staticmethod
    def reading_time(moment: float) -> int:
        """Epoch s of the last reading at or before ``moment``."""
        return math.floor(moment / READING_PERIOD) * READING_PERIOD

    def reading(self, moment: float) -> Reading:
        """Return the last meter reading at or before epoch ``moment``."""
        when = self.reading_time(moment)
        powers = self._slots[(when % DAY) // READING_PERIOD]
        return Reading(when, powers, self._import(powers), self._export(powers))

    def energy(self, moment: float) -> tuple[float, float]:
        """Import and export counters (kWh) at the last reading before ``moment``.

        The counters grow by each reading's power over its 10 s, so they never
        decrease; with 3 phases the import grows at every reading (L1 always
        imports).
        """
        when = self.reading_time(moment) - ORIGIN
        days, second = divmod(when, DAY)
        imported, exported = self._prefix[second // READING_PERIOD]
        return (
            IMPORT_AT_ORIGIN + days * self.day_import_kwh + imported,
            EXPORT_AT_ORIGIN + days * self.day_export_kwh + exported,
        )


def ota_image(build_number: int, version: str, size: int) -> bytes:
    """Return a fake OTA image of exactly ``size`` bytes.

    Its first line is ``ZIGGYOTA build=<build_number> version=<version>`` and it
    is padded with deterministic pseudo-random bytes (SHA-256 in counter mode).
    An accepted upload of it makes the simulator come back with that version
    and build. A ``size`` below the header's length cuts the header.
    """
    if size < 0:
        raise ValueError("size must not be negative")
    header = f"ZIGGYOTA build={build_number} version={version}\n".encode()
    seed = hashlib.sha256(header).digest()
    blocks = [header]
    length, counter = len(header), 0
    while length < size:
        block = hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        blocks.append(block)
        length += len(block)
        counter += 1
    return b"".join(blocks)[:size]


def image_version(head: bytes) -> tuple[int, str] | None:
    """Build number and version from the header of an image, None without one."""
    match = _OTA_HEADER.match(head)
    if match is None:
        return None
    return int(match.group(1)), match.group(2).decode(errors="replace")
