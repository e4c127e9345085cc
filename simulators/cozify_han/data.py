"""Realistic meter model of the Cozify HAN simulator.

Power is a deterministic function of wall-clock time and the device serial
(hash-based noise instead of a stateful random generator). That keeps history
repeatable between calls and consistent with the live readings, which add only
a little random jitter on top.
"""

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
import functools
import hashlib
import math
import random
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MASK64 = (1 << 64) - 1
_TWO64 = float(1 << 64)

# noise channels, so that the load, the clouds and the voltages never correlate
_CH_LOAD_SLOW = 1
_CH_LOAD_FAST = 2
_CH_LOAD_STEP = 3
_CH_APPLIANCE = 4
_CH_APPLIANCE_POWER = 5
_CH_SAUNA = 6
_CH_CLOUD_FAST = 7
_CH_CLOUD_DAY = 8
_CH_PHASE = 10
_CH_REACTIVE = 20
_CH_VOLTAGE = 30
_CH_PRICE_DAY = 40
_CH_PRICE_SLOT = 41

# house load in W per local hour, weekdays and weekends (Finnish detached house)
_WEEKDAY_PROFILE = (
    380, 340, 320, 320, 330, 420, 780, 1150, 950, 620, 520, 560,
    650, 580, 540, 640, 900, 1450, 1750, 1650, 1450, 1150, 800, 520,
)  # fmt: skip
_WEEKEND_PROFILE = (
    420, 360, 330, 320, 320, 340, 420, 560, 850, 1150, 1200, 1100,
    1000, 900, 850, 900, 1100, 1550, 1850, 1750, 1500, 1200, 900, 600,
)  # fmt: skip
# spot price shape in EUR cents/kWh per local hour
_PRICE_PROFILE = (
    3.6, 3.2, 3.0, 2.9, 3.0, 3.6, 5.5, 8.5, 9.8, 8.0, 6.2, 5.2,
    4.6, 4.4, 4.8, 5.6, 7.4, 10.2, 11.5, 10.0, 8.2, 6.4, 5.2, 4.2,
)  # fmt: skip
# rough exchange rates: EUR cents to minor units of the configured currency
CURRENCY_FACTORS = {
    "EUR": 1.0,
    "SEK": 11.5,
    "NOK": 11.7,
    "DKK": 7.46,
    "GBP": 0.85,
    "PLN": 4.3,
    "CZK": 25.0,
    "HUF": 400.0,
    "RON": 4.97,
    "BGN": 1.96,
    "CHF": 0.94,
    "ISK": 150.0,
}
# Helsinki; places solar noon at about 10:20 UTC
_LONGITUDE = 25.0
_SOLAR_PEAK_W = 6000.0


def seed_from(text: str) -> int:
    """Return a stable 64-bit seed for a text (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _mix(value: int) -> int:
    # splitmix64 finaliser: cheap, well distributed, no state
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


@functools.lru_cache(maxsize=1 << 16)
def unit(seed: int, channel: int, index: int) -> float:
    """Return a deterministic pseudo-random number in [0, 1)."""
    # cached: the smooth noise asks for the same lattice points many times
    return _mix(seed ^ _mix(((channel << 44) ^ index) & _MASK64)) / _TWO64


def smooth(seed: int, channel: int, t: float, period: float) -> float:
    """Return smooth value noise in [-1, 1] that changes over ``period`` seconds."""
    x = t / period
    index = math.floor(x)
    frac = x - index
    frac = frac * frac * (3.0 - 2.0 * frac)
    start = unit(seed, channel, index) * 2.0 - 1.0
    end = unit(seed, channel, index + 1) * 2.0 - 1.0
    return start + (end - start) * frac


def get_zone(name: str) -> tzinfo:
    """Return the time zone for a Linux tz id, UTC when unknown or unavailable."""
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError, ValueError:
        return UTC


def _interpolate(profile: tuple[float, ...], hour: float) -> float:
    index = int(hour) % 24
    frac = hour - math.floor(hour)
    return profile[index] * (1.0 - frac) + profile[(index + 1) % 24] * frac


class PowerModel:
    """Deterministic household load and rooftop solar power as a function of time."""

    def __init__(
        self, seed: int, phases: int, zone: tzinfo, *, solar: bool = True
    ) -> None:
        self.seed = seed
        self.phases = phases
        self.solar_enabled = solar
        self._zone = zone
        self._offsets: dict[int, float] = {}
        # how the base load spreads over the phases differs from house to house
        weights = [0.42, 0.33, 0.25][:phases]
        total = sum(weights)
        self._base_split = [weight / total for weight in weights]

    @property
    def signature(self) -> tuple[int, int, bool, str]:
        """Everything the power curve depends on (a cache key)."""
        return (self.seed, self.phases, self.solar_enabled, str(self._zone))

    @property
    def zone(self) -> tzinfo:
        """Time zone that drives the daily load profile."""
        return self._zone

    @zone.setter
    def zone(self, zone: tzinfo) -> None:
        self._zone = zone
        self._offsets.clear()

    def local_seconds(self, t: float) -> float:
        """Return ``t`` shifted by the local UTC offset (cached per hour)."""
        hour = int(t // 3600)
        offset = self._offsets.get(hour)
        if offset is None:
            if len(self._offsets) > 20000:
                self._offsets.clear()
            moment = datetime.fromtimestamp(hour * 3600, UTC).astimezone(self._zone)
            delta = moment.utcoffset() or timedelta()
            offset = self._offsets[hour] = delta.total_seconds()
        return t + offset

    def phase_loads(self, t: float) -> list[float]:
        """Return the house consumption per phase in W."""
        base, extra_phase, extra, sauna = self._load_parts(t)
        seed = self.seed
        wobbles = [
            share * (1.0 + 0.15 * smooth(seed, _CH_PHASE + phase, t, 1800.0))
            for phase, share in enumerate(self._base_split)
        ]
        # the wobble only moves load between phases; the total stays the same
        scale = base / sum(wobbles)
        loads = [wobble * scale + sauna / self.phases for wobble in wobbles]
        loads[extra_phase] += extra
        return loads

    def total_load(self, t: float) -> float:
        """Return the house consumption in W (equals the sum of phase_loads)."""
        base, _phase, extra, sauna = self._load_parts(t)
        return base + extra + sauna

    def _load_parts(self, t: float) -> tuple[float, int, float, float]:
        """Return base load, appliance phase, appliance load and sauna load (W)."""
        seed = self.seed
        local = self.local_seconds(t)
        day = math.floor(local / 86400)
        hour = (local - day * 86400) / 3600
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        profile = _WEEKEND_PROFILE if weekday >= 5 else _WEEKDAY_PROFILE
        day_of_year = (t / 86400) % 365.2425
        # winter: heating, lights and the engine heater
        season = 1.0 + 0.35 * math.cos(2 * math.pi * (day_of_year - 15) / 365.2425)
        base = _interpolate(profile, hour) * season
        base *= 1.0 + 0.25 * smooth(seed, _CH_LOAD_SLOW, t, 600.0)
        base *= 1.0 + 0.08 * smooth(seed, _CH_LOAD_FAST, t, 60.0)
        base *= 1.0 + 0.05 * (unit(seed, _CH_LOAD_STEP, int(t // 10)) * 2.0 - 1.0)
        if self.phases == 1:
            base *= 0.6
        base = max(base, 120.0)
        # appliances (oven, kettle, dishwasher) switch on per quarter hour
        quarter = int(t // 900)
        chance = 0.05 if hour < 6 else 0.3 if hour >= 16 else 0.18
        extra = 0.0
        if unit(seed, _CH_APPLIANCE, quarter) < chance:
            extra = 900.0 + 1600.0 * unit(seed, _CH_APPLIANCE_POWER, quarter)
        # Friday and Saturday evening sauna: a 6 kW three-phase heater
        sauna = 0.0
        if self.phases == 3 and 18.0 <= hour < 19.5:
            likely = 0.6 if weekday in (4, 5) else 0.12
            if unit(seed, _CH_SAUNA, day) < likely:
                sauna = 6000.0
        return base, quarter % self.phases, extra, sauna

    def solar(self, t: float) -> float:
        """Return the rooftop PV production in W (never negative)."""
        if not self.solar_enabled:
            return 0.0
        day_of_year = (t / 86400) % 365.2425
        seasonal = math.sin(2 * math.pi * (day_of_year - 80) / 365.2425)
        day_length = 12.0 + 6.5 * seasonal  # hours at 60 degrees north
        solar_hour = ((t % 86400) / 3600 + _LONGITUDE / 15.0) % 24
        sunrise = 12.0 - day_length / 2
        position = (solar_hour - sunrise) / day_length
        if not 0.0 < position < 1.0:
            return 0.0
        clear_sky: float = math.sin(math.pi * position) ** 1.5
        # low winter sun still gives something on a clear day
        strength = 0.3 + 0.7 * (0.5 + 0.5 * seasonal)
        cloud = 0.6 + 0.5 * smooth(self.seed, _CH_CLOUD_FAST, t, 1200.0)
        cloud += 0.35 * smooth(self.seed, _CH_CLOUD_DAY, t, 86400.0 * 1.3)
        cloud = min(1.0, max(0.12, cloud))
        return _SOLAR_PEAK_W * clear_sky * strength * cloud

    def net(self, t: float) -> float:
        """Return the net active power in W (import positive, export negative)."""
        return self.total_load(t) - self.solar(t)

    def reactive(self, t: float, loads: list[float]) -> list[float]:
        """Return the reactive power per phase in var (inductive positive)."""
        return [
            0.07 * load
            - 25.0
            + 15.0 * smooth(self.seed, _CH_REACTIVE + phase, t, 120.0)
            for phase, load in enumerate(loads)
        ]

    def voltages(self, t: float, nets: list[float]) -> list[float]:
        """Return the phase voltages in V: import pulls them down, export up."""
        common = 2.0 * smooth(self.seed, _CH_VOLTAGE, t, 1800.0)
        offsets = (-0.8, 0.4, 0.3)
        return [
            230.5
            + common
            + offsets[phase]
            + 0.9 * smooth(self.seed, _CH_VOLTAGE + 1 + phase, t, 45.0)
            - 0.0007 * net
            for phase, net in enumerate(nets)
        ]


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One meter reading; arrays are ``[total, L1, ...]`` except ``u`` and ``i``."""

    ts_ms: int
    ic: float
    ec: float
    ric: float
    rec: float
    p: tuple[float, ...]
    pi: tuple[float, ...]
    pe: tuple[float, ...]
    r: tuple[float, ...]
    ri: tuple[float, ...]
    re: tuple[float, ...]
    u: tuple[float, ...]
    i: tuple[float, ...]

    def counter(self, name: str) -> float:
        """Return the counter ``ic``, ``ec``, ``ric`` or ``rec``."""
        values = {"ic": self.ic, "ec": self.ec, "ric": self.ric, "rec": self.rec}
        return values[name]

    def message(self) -> dict[str, Any]:
        """Return the ``HAN_METER_MESSAGE`` for this reading.

        ``ic`` and ``rec`` are numeric strings and ``ec``/``ric`` numbers, always,
        so a client has to cope with both forms (the vendor sample mixes them too).
        """
        return {
            "type": "HAN_METER_MESSAGE",
            "ts": self.ts_ms,
            "ic": format_counter("ic", self.ic),
            "ec": format_counter("ec", self.ec),
            "ric": format_counter("ric", self.ric),
            "rec": format_counter("rec", self.rec),
            "p": list(self.p),
            "pi": list(self.pi),
            "pe": list(self.pe),
            "r": list(self.r),
            "ri": list(self.ri),
            "re": list(self.re),
            "u": list(self.u),
            "i": list(self.i),
        }


STRING_COUNTERS = frozenset({"ic", "rec"})


def format_counter(name: str, value: float) -> str | float:
    """Return a counter as the reader sends it: a string for ic/rec, else a number."""
    if name in STRING_COUNTERS:
        return f"{value:.3f}"
    return round(value, 3)


class LiveMeter:
    """Takes readings from the power model and integrates the energy counters."""

    def __init__(self, model: PowerModel, seed: int, rng: random.Random) -> None:
        self.model = model
        self._rng = rng
        self.counters = {
            "ic": 8000.0 + 14000.0 * unit(seed, 90, 0),
            "ec": 300.0 + 1500.0 * unit(seed, 90, 1),
            "ric": 600.0 + 900.0 * unit(seed, 90, 2),
            "rec": 40.0 + 160.0 * unit(seed, 90, 3),
        }
        self._published = {
            name: round(value, 3) for name, value in self.counters.items()
        }
        self._powers = {"ic": 0.0, "ec": 0.0, "ric": 0.0, "rec": 0.0}
        self._last_mono: float | None = None

    def read(self, wall: float, mono: float) -> MeterReading:
        """Take a reading at wall-clock ``wall``; ``mono`` drives the integration."""
        model = self.model
        phases = model.phases
        gauss = self._rng.gauss
        loads = [load * (1.0 + gauss(0.0, 0.012)) for load in model.phase_loads(wall)]
        solar = model.solar(wall) * (1.0 + gauss(0.0, 0.005)) / phases
        nets = [float(round(load - solar)) for load in loads]
        total = sum(nets)
        reactive = [float(round(value)) for value in model.reactive(wall, loads)]
        reactive_total = sum(reactive)
        voltages = [round(value, 1) for value in model.voltages(wall, nets)]
        currents = [
            round(abs(net) / voltage, 2)
            for net, voltage in zip(nets, voltages, strict=True)
        ]
        powers = {
            "ic": max(total, 0.0),
            "ec": max(-total, 0.0),
            "ric": max(reactive_total, 0.0),
            "rec": max(-reactive_total, 0.0),
        }
        self._integrate(mono, powers)
        return MeterReading(
            ts_ms=int(wall * 1000),
            ic=self._published["ic"],
            ec=self._published["ec"],
            ric=self._published["ric"],
            rec=self._published["rec"],
            p=(total, *nets),
            pi=(powers["ic"], *(max(net, 0.0) for net in nets)),
            pe=(powers["ec"], *(max(-net, 0.0) for net in nets)),
            r=(reactive_total, *reactive),
            ri=(powers["ric"], *(max(value, 0.0) for value in reactive)),
            re=(powers["rec"], *(max(-value, 0.0) for value in reactive)),
            u=tuple(voltages),
            i=tuple(currents),
        )

    def _integrate(self, mono: float, powers: dict[str, float]) -> None:
        if self._last_mono is not None:
            hours = max(mono - self._last_mono, 0.0) / 3600.0
            for name, power in powers.items():
                # trapezoid between the previous and this reading, W to kWh
                average = (self._powers[name] + power) / 2.0
                self.counters[name] += average * hours / 1000.0
        for name, power in powers.items():
            published = round(self.counters[name], 3)
            if power > 0.0 and published <= self._published[name]:
                # readings closer together than 1 Wh still count up while power flows
                self.counters[name] = self._published[name] + 0.001
                published = round(self.counters[name], 3)
            self._published[name] = max(published, self._published[name])
        self._powers = powers
        self._last_mono = mono


@dataclass(frozen=True, slots=True)
class Bucket:
    """Energy and power statistics of one history bucket."""

    imported: float
    exported: float
    c_min: float
    c_avg: float
    c_max: float


def integrate(
    model: PowerModel, start: float, end: float, step: float, digits: int = 3
) -> Bucket:
    """Integrate the net power of ``model`` over [start, end) sampling every ``step`` s.

    Energies are rounded to ``digits`` decimals of a kWh.
    """
    duration = max(end - start, 0.0)
    count = max(1, math.ceil(duration / step - 1e-9))
    width = duration / count
    imported = exported = 0.0
    samples = []
    for index in range(count):
        net = model.net(start + (index + 0.5) * width)
        samples.append(net)
        if net > 0:
            imported += net * width
        else:
            exported -= net * width
    average = sum(samples) / len(samples)
    return Bucket(
        imported=round(imported / 3.6e6, digits),
        exported=round(exported / 3.6e6, digits),
        c_min=float(round(min(samples))),
        c_avg=float(round(average)),
        c_max=float(round(max(samples))),
    )


@dataclass(frozen=True, slots=True)
class HistorySpec:
    """Bucket layout of one history endpoint."""

    message_type: str
    size: str  # "10", "900", "day" or "month"
    count: int
    step: float
    columns: tuple[str, ...]
    digits: int = 3


HISTORY_SPECS = {
    "hourly": HistorySpec(
        "HAN_HOURLY_HISTORY_MESSAGE",
        "10",
        360,
        2.0,
        ("t", "f", "i", "e", "c_min", "c_avg", "c_max"),
        digits=6,  # a 10 s bucket holds only a few Wh
    ),
    "weekly": HistorySpec(
        "HAN_WEEKLY_HISTORY_MESSAGE",
        "900",
        7 * 96,
        60.0,
        ("t", "f", "i", "e", "c_min", "c_max", "c_avg", "p"),
    ),
    "monthly": HistorySpec(
        "HAN_MONTHLY_HISTORY_MESSAGE",
        "day",
        31,
        900.0,
        ("t", "f", "i", "e", "c_min", "c_max", "c_avg"),
    ),
    "yearly": HistorySpec(
        "HAN_YEARLY_HISTORY_MESSAGE",
        "month",
        12,
        3600.0,
        ("t", "f", "i", "e", "c_min", "c_max", "c_avg"),
    ),
}


def bucket_bounds(size: str, count: int, now: float) -> list[tuple[int, int]]:
    """Return ``count`` (start, end) pairs in UTC, oldest first; the last holds ``now``."""
    if size == "month":
        moment = datetime.fromtimestamp(now, UTC)
        year, month = moment.year, moment.month
        months = []
        for _ in range(count):
            months.append((year, month))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        bounds = []
        for year, month in reversed(months):
            start = calendar.timegm((year, month, 1, 0, 0, 0))
            next_year, next_month = (year, month + 1) if month < 12 else (year + 1, 1)
            bounds.append((start, calendar.timegm((next_year, next_month, 1, 0, 0, 0))))
        return bounds
    width = 86400 if size == "day" else int(size)
    last = int(now // width) * width
    return [
        (last - width * back, last - width * back + width)
        for back in range(count - 1, -1, -1)
    ]


# finished buckets never change for a given power curve, so simulators with the
# same serial share them (tests start many simulators with the default serial)
_FINISHED: dict[tuple[tuple[int, int, bool, str], str, int], Bucket] = {}
_FINISHED_LIMIT = 200_000


class HistoryStore:
    """Builds the history messages from the power model, caching finished buckets."""

    def __init__(self, model: PowerModel) -> None:
        self.model = model

    def bucket(
        self, kind: str, start: int, end: int, now: float
    ) -> tuple[Bucket, bool]:
        """Return a bucket and whether it is final (it ended before ``now``)."""
        spec = HISTORY_SPECS[kind]
        if end <= now:
            key = (self.model.signature, kind, start)
            cached = _FINISHED.get(key)
            if cached is None:
                if len(_FINISHED) >= _FINISHED_LIMIT:
                    _FINISHED.clear()
                cached = _FINISHED[key] = integrate(
                    self.model, start, end, spec.step, spec.digits
                )
            return cached, True
        bucket = integrate(self.model, start, max(now, start), spec.step, spec.digits)
        return bucket, False

    def message(
        self,
        kind: str,
        now: float,
        price: Callable[[int], float] | None = None,
        currency: str | None = None,
        gap: tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        """Return the history message of ``kind`` at time ``now``.

        ``price`` maps a bucket start (epoch s) to a price; only weekly uses it.
        Buckets overlapping ``gap`` = (start, end) are left out (reader was off).
        """
        spec = HISTORY_SPECS[kind]
        bounds = bucket_bounds(spec.size, spec.count, now)
        columns: dict[str, list[Any]] = {name: [] for name in spec.columns}
        for start, end in bounds:
            if gap is not None and start < gap[1] and end > gap[0]:
                continue
            bucket, final = self.bucket(kind, start, end, now)
            values: dict[str, Any] = {
                "t": start,
                "f": 1 if final else 0,
                "i": bucket.imported,
                "e": bucket.exported,
                "c_min": bucket.c_min,
                "c_avg": bucket.c_avg,
                "c_max": bucket.c_max,
            }
            if "p" in columns:
                values["p"] = price(start) if price is not None else 0.0
            for name in spec.columns:
                columns[name].append(values[name])
        message: dict[str, Any] = {"type": spec.message_type, "x": int(now)}
        message.update(columns)
        if "p" in columns:
            message["pc"] = currency or "EUR"
        return message


def imported_energy(model: PowerModel, start: float, end: float, step: float) -> float:
    """Return the energy imported from ``start`` to ``end`` in kWh."""
    if end <= start:
        return 0.0
    return integrate(model, start, end, step).imported


class PriceModel:
    """Day-ahead spot prices per 15-minute slot, deterministic per price area."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int, str], float] = {}

    def spot(self, area: str, slot_start: int, zone: tzinfo) -> float:
        """Return the spot price in EUR cents/kWh for the slot starting at ``slot_start``."""
        key = (area, slot_start, str(zone))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if len(self._cache) > 50000:
            self._cache.clear()
        seed = seed_from(f"spot:{area}")
        moment = datetime.fromtimestamp(slot_start, UTC).astimezone(zone)
        hour = moment.hour + moment.minute / 60
        day = moment.toordinal()
        # some days are windy and cheap, some still and expensive
        level = 0.4 + 1.6 * unit(seed, _CH_PRICE_DAY, day)
        noise = 1.2 * (unit(seed, _CH_PRICE_SLOT, slot_start // 900) * 2 - 1)
        value = round(max(_interpolate(_PRICE_PROFILE, hour) * level + noise, -1.5), 3)
        self._cache[key] = value
        return value

    def price(self, config: dict[str, Any], slot_start: int, zone: tzinfo) -> float:
        """Return the price of a slot in minor units/kWh of the configured currency."""
        if not config.get("s", True):
            return round(float(config.get("p", 0)), 3)
        factor = CURRENCY_FACTORS.get(str(config.get("pc")), 1.0)
        return round(
            self.spot(str(config.get("pa", "FI")), slot_start, zone) * factor, 3
        )


def local_day_start(now: float, zone: tzinfo, days: int = 0) -> int:
    """Return the epoch seconds of local midnight ``days`` after today's."""
    today = datetime.fromtimestamp(now, zone).date() + timedelta(days=days)
    return int(datetime(today.year, today.month, today.day, tzinfo=zone).timestamp())
