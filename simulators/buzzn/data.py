"""The simulated BUZZN group: households, producers, appliances, time formats.

Everything is a function of epoch seconds, so values follow a frozen and
advanced test clock. Units are the Broker API's: energy in µWh/10 (10⁻¹⁰ kWh),
power in mW.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
import math
import struct
import zlib

DAY = 86400.0
SLOT = 900.0
"""Seconds of one history / disaggregation slot (15 minutes)."""
UNITS_PER_WS = 1e7 / 3600
"""µWh/10 per watt-second (1 kWh = 1e10 µWh/10 = 3.6e6 Ws)."""
EPOCH_2020 = 1577836800.0
"""2020-01-01 00:00 UTC: where the simulated counters started counting."""
FIRST_READING = 4.123456
"""Seconds after midnight of a day's first meter reading."""
LAST_READING = DAY - 4.5
"""Seconds after midnight of a past day's latest meter reading."""
APPLIANCES = (
    "Waschmaschine-1",
    "Spülmaschine-1",
    "Grundlast-1",
    "Durchlauferhitzer-1",
    "Kühlschrank-1",
)
NEW_APPLIANCE = "Trockner-1"


def day_start(now: float) -> float:
    """Epoch seconds of 00:00 UTC of the day of ``now``."""
    return math.floor(now / DAY) * DAY


def stamp(epoch: float, *, fraction: bool = False) -> str:
    """``YYYY-MM-DD HH:MM:SS`` (UTC), with ``.ffffff`` when ``fraction``."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f" if fraction else "%Y-%m-%d %H:%M:%S")


def tiny_png(red: int, green: int, blue: int) -> bytes:
    """Return a valid 1x1 RGB PNG of one colour (an avatar)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes((0, red, green, blue)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


@dataclass(frozen=True, slots=True)
class Household:
    """One member's consumption: a smooth load curve with an analytic integral.

    Power (W) = scale * (1000 + 400 sin(day, peak 19:00 UTC) + 250 sin(90 min)
    + 150 sin(21 min)), between 200 and 1800 W for scale 1; the counter is its
    exact integral, so 15-minute averages and readings agree.
    """

    scale: float
    offset: float
    """Counter at EPOCH_2020 (µWh/10)."""
    phase: float = 0.0

    _TERMS = ((400.0, DAY), (250.0, 5400.0), (150.0, 1260.0))

    def _angle(self, index: int, period: float, t: float) -> float:
        shift = math.pi / 2 - 2 * math.pi * 19 / 24 if index == 0 else self.phase
        return 2 * math.pi * t / period + shift * (index + 1)

    def power_w(self, now: float) -> float:
        """Instantaneous power (W)."""
        t = now - EPOCH_2020
        total = 1000.0
        for index, (amplitude, period) in enumerate(self._TERMS):
            total += amplitude * math.sin(self._angle(index, period, t))
        return self.scale * total

    def energy_ws(self, now: float) -> float:
        """Energy used since EPOCH_2020 (Ws, without the offset)."""
        t = now - EPOCH_2020
        total = 1000.0 * t
        for index, (amplitude, period) in enumerate(self._TERMS):
            factor = amplitude * period / (2 * math.pi)
            total -= factor * (
                math.cos(self._angle(index, period, t))
                - math.cos(self._angle(index, period, 0.0))
            )
        return self.scale * total

    def counter(self, now: float) -> int:
        """Meter reading (µWh/10)."""
        return int(self.offset + self.energy_ws(now) * UNITS_PER_WS)

    def average_mw(self, begin: float, end: float) -> float:
        """Average power between ``begin`` and ``end`` (mW)."""
        return (self.energy_ws(end) - self.energy_ws(begin)) / (end - begin) * 1000


@dataclass(frozen=True, slots=True)
class Producer:
    """A PV production meter: a half-sine from 06:00 to 18:00 UTC, 0 at night."""

    peak_w: float
    offset: float
    """Counter at EPOCH_2020 (µWh/10)."""

    _SUNRISE = 6 * 3600.0
    _DAYLIGHT = 12 * 3600.0

    def power_w(self, now: float) -> float:
        """Instantaneous production (W)."""
        into = (now - day_start(now) - self._SUNRISE) / self._DAYLIGHT
        if not 0 < into < 1:
            return 0.0
        return self.peak_w * math.sin(math.pi * into)

    def _day_energy(self, seconds: float) -> float:
        """Ws produced from midnight to ``seconds`` after it."""
        into = min(max((seconds - self._SUNRISE) / self._DAYLIGHT, 0.0), 1.0)
        return self.peak_w * self._DAYLIGHT / math.pi * (1 - math.cos(math.pi * into))

    def energy_ws(self, now: float) -> float:
        """Energy produced since EPOCH_2020 (Ws, without the offset)."""
        days = math.floor((now - EPOCH_2020) / DAY)
        return days * self._day_energy(DAY) + self._day_energy(now - day_start(now))

    def counter(self, now: float) -> int:
        """Meter reading (µWh/10)."""
        return int(self.offset + self.energy_ws(now) * UNITS_PER_WS)

    def average_mw(self, begin: float, end: float) -> float:
        """Average production between ``begin`` and ``end`` (mW)."""
        return (self.energy_ws(end) - self.energy_ws(begin)) / (end - begin) * 1000


type Meter = Household | Producer


def readings(meter: Meter, day: float, now: float) -> dict[str, int]:
    """Return the first and latest reading of the day starting at ``day`` (to ``now``)."""
    first = day + FIRST_READING
    latest = min(now, day + LAST_READING)
    return {
        stamp(first, fraction=True): meter.counter(first),
        stamp(latest, fraction=True): meter.counter(latest),
    }


def slot_powers(meter: Meter, day: float, now: float) -> dict[str, float]:
    """15-minute average power (mW) of each complete slot of that day, by slot end."""
    result: dict[str, float] = {}
    end = day + SLOT
    while end <= min(now, day + DAY):
        result[stamp(end)] = round(meter.average_mw(end - SLOT, end), 1)
        end += SLOT
    return result


def _mix(*numbers: int) -> int:
    """Return a deterministic pseudo-random 32-bit number from integers."""
    value = 0x9E3779B9
    for number in numbers:
        value = (value ^ (number & 0xFFFFFFFF)) * 0x01000193 & 0xFFFFFFFF
        value ^= value >> 15
    return value


def disaggregation(member: int, slot_end: float) -> dict[str, int]:
    """Energy per appliance in the 15 minutes before ``slot_end`` (µWh/10).

    232500000 µWh/10 in 15 minutes is 93 W on average.
    """
    index = int(slot_end // SLOT)
    minute = (slot_end - day_start(slot_end)) / 60 - 15
    day = int(slot_end // DAY)
    noise = _mix(member, index)
    values = dict.fromkeys(APPLIANCES, 0)
    values["Grundlast-1"] = 225_000_000 + noise % 15_000_000 + member * 2_500_000
    if index % 3:
        values["Kühlschrank-1"] = 120_000_000 + noise % 30_000_000
    if (day + member) % 2 == 0 and 9 * 60 <= minute < 10 * 60 + 30:
        values["Waschmaschine-1"] = 1_500_000_000 + noise % 200_000_000
    if 19 * 60 + 30 <= minute < 20 * 60 + 30:
        values["Spülmaschine-1"] = 2_500_000_000 + noise % 100_000_000
    if 6 * 60 + 30 <= minute < 7 * 60:
        values["Durchlauferhitzer-1"] = 4_500_000_000 + noise % 500_000_000
    return values
