"""Typed views of the BUZZN Broker API's JSON answers and live messages.

Units are converted once, here: energy arrives in µWh/10 (10⁻¹⁰ kWh) and
becomes an exact `Decimal` in kWh; power arrives in mW and becomes W. Time
stamps (UTC strings `YYYY-MM-DD HH:MM:SS[.ffffff]`, or epoch seconds, or epoch
milliseconds when ≥ 1e12) become aware UTC datetimes.

Parsing never raises: unknown keys are ignored, a missing or unreadable value is
None (unknown), never a made-up 0. "No data" (`{}`, `null`, empty maps) gives
None or an empty model, never zeros.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation, localcontext
import json
import math
from typing import Any

from ...transport.values import as_float, as_int, as_str, mapping

ENERGY_SCALE = 10**10
"""Wire energy units (µWh/10) per kWh."""
POWER_SCALE = 1000.0
"""Wire power units (mW) per W."""
MS_THRESHOLD = 1e12
"""A numeric time stamp at or above this is in epoch milliseconds."""
IMPLAUSIBLE_PRODUCTION_MW = 1e11
"""Live `group_production` at or above this (mW, i.e. 100 MW) is no group power:
it is the seed's cumulative energy counter (µWh/10) and is dropped."""
INTERVALS_PER_HOUR = 4
"""Disaggregation values are energy per 15-minute interval."""

BASELINE_STATES = ("READY", "WAITING_FOR_DATA", "NO_READINGS_AVAILABLE")
CHALLENGE_STATES = ("running", "failed", "succeeded")

# -- value readers ------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    """Return a finite Decimal from an int, a float or a numeric string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def energy_kwh(value: Any) -> Decimal | None:
    """Convert an energy in µWh/10 (int, float or numeric string) to kWh, exactly.

    The division is exact whatever the size of the number (the working
    precision grows with it), so `energy_kwh(n) * 10**10 == n` for any int.
    """
    number = _decimal(value)
    if number is None:
        return None
    with localcontext() as context:
        context.prec = max(context.prec, len(number.as_tuple().digits) + 11)
        return number / ENERGY_SCALE


def reading_kwh(value: Any) -> Decimal | None:
    """Convert a cumulative meter reading (µWh/10) to kWh; negative is no reading."""
    kwh = energy_kwh(value)
    return kwh if kwh is not None and kwh >= 0 else None


def power_w(value: Any) -> float | None:
    """Convert a power in mW to W."""
    number = as_float(value)
    return None if number is None else number / POWER_SCALE


def parse_time(value: Any) -> datetime | None:
    """Read a time stamp as an aware UTC datetime; None if unreadable.

    Accepts `YYYY-MM-DD HH:MM:SS` with or without fractional seconds (UTC unless
    an offset is given), ISO 8601 with `T`, and epoch seconds or milliseconds
    (≥ 1e12) as numbers or numeric strings (JSON object keys are strings).
    """
    if isinstance(value, str):
        text = value.strip()
        number = as_float(text)
        if number is None:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                return None
            if moment.tzinfo is None:
                return moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)
        value = number
    number = as_float(value)
    if number is None or number < 0:
        return None
    seconds = number / 1000 if number >= MS_THRESHOLD else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except OverflowError, OSError, ValueError:
        return None


def error_text(body: Any) -> str | None:
    """Return the message of an error object, whichever of the three shapes.

    `{"errorName", "errorDescription"}` (seed), `{"name", "description"}`
    (reference backend), `{"msg"}` (its token layer). Name and description are
    joined with ": " when both are given. None when the body carries none.
    """
    body = mapping(body)
    for name_key, text_key in (
        ("errorName", "errorDescription"),
        ("name", "description"),
    ):
        name = _text(body.get(name_key))
        text = _text(body.get(text_key))
        if name and text:
            return f"{name}: {text}"
        if name or text:
            return name or text
    return _text(body.get("msg"))


def _text(value: Any) -> str | None:
    """Return a non-blank string, stripped."""
    return value.strip() or None if isinstance(value, str) else None


def _id_text(value: Any) -> str | None:
    """Return an identifier sent as a string or an integer, as a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return _text(value)


def _series[T](value: Any, convert: Callable[[Any], T | None]) -> dict[datetime, T]:
    """Read a `{time stamp: value}` map, sorted by time; unreadable entries skipped."""
    entries: list[tuple[datetime, T]] = []
    for key, raw in mapping(value).items():
        moment = parse_time(key)
        converted = convert(raw)
        if moment is not None and converted is not None:
            entries.append((moment, converted))
    entries.sort(key=lambda entry: entry[0])
    return dict(entries)


def _latest[T](series: Mapping[datetime, T]) -> tuple[datetime, T] | None:
    """Return the newest entry of a sorted series."""
    if not series:
        return None
    at = max(series)
    return at, series[at]


# -- profile ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """`GET /profile`. Personal fields stay out of the repr."""

    id: int
    name: str | None = field(default=None, repr=False)
    first_name: str | None = field(default=None, repr=False)
    nick: str | None = field(default=None, repr=False)
    mail: str | None = field(default=None, repr=False)
    flat_size: float | None = None
    """m²."""
    inhabitants: int | None = None
    group_address: str | None = field(default=None, repr=False)
    """The group's address (its name in the reference backend)."""
    meter_id: str | None = field(default=None, repr=False)
    avatar: str | None = field(default=None, repr=False)
    """Base64 as received."""
    registration_date: datetime | None = None
    baseline_state: str | None = None
    """One of BASELINE_STATES, else None."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


def parse_profile(payload: Any) -> Profile | None:
    """Read a profile; None if it has no readable `id`."""
    data = mapping(payload)
    user_id = as_int(data.get("id"))
    if user_id is None:
        return None
    state = data.get("baseline_state")
    return Profile(
        id=user_id,
        name=as_str(data.get("name")),
        first_name=as_str(data.get("firstName")),
        nick=as_str(data.get("nick")),
        mail=as_str(data.get("mail")),
        flat_size=as_float(data.get("flatSize")),
        inhabitants=as_int(data.get("inhabitants")),
        group_address=as_str(data.get("groupAddress")),
        meter_id=_id_text(data.get("meterId")),
        avatar=as_str(data.get("avatar")),
        registration_date=parse_time(data.get("registration_date")),
        baseline_state=state if state in BASELINE_STATES else None,
        raw=data,
    )


# -- consumption history ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class History:
    """One meter's day: first and latest reading, 15-minute average power."""

    energy: dict[datetime, Decimal] = field(default_factory=dict)
    """Cumulative readings, kWh, sorted by time."""
    power: dict[datetime, float] = field(default_factory=dict)
    """15-minute average power, W, sorted by time."""

    @property
    def empty(self) -> bool:
        """True when neither map holds a value (no data, not zero)."""
        return not self.energy and not self.power


def parse_history(energy: Any, power: Any) -> History:
    """Read the `energy` (µWh/10) and `power` (mW) maps of one meter."""
    return History(_series(energy, reading_kwh), _series(power, power_w))


def parse_individual_history(payload: Any) -> History | None:
    """`GET /individual-consumption-history`; None when it holds no data."""
    data = mapping(payload)
    history = parse_history(data.get("energy"), data.get("power"))
    return None if history.empty else history


@dataclass(frozen=True, slots=True)
class GroupHistory:
    """`GET /group-consumption-history`."""

    consumed: History
    produced_first: History
    produced_second: History
    members: dict[str, History] = field(default_factory=dict)
    """Per user id."""

    @property
    def empty(self) -> bool:
        """True when no part holds a value."""
        return (
            self.consumed.empty
            and self.produced_first.empty
            and self.produced_second.empty
            and all(member.empty for member in self.members.values())
        )


def _member_histories(value: Any) -> dict[str, History]:
    """`group_users`: `{id: {energy, power}}` (seed example) or a list with `id`s."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((mapping(item).get("id"), item) for item in value)
    else:
        return {}
    members: dict[str, History] = {}
    for key, item in items:
        member_id = _id_text(key)
        if member_id is None:
            continue
        data = mapping(item)
        members[member_id] = parse_history(data.get("energy"), data.get("power"))
    return members


def parse_group_history(payload: Any) -> GroupHistory | None:
    """Read the group's history; None when it holds no data."""
    data = mapping(payload)

    def meter(prefix: str) -> History:
        return parse_history(data.get(f"{prefix}_energy"), data.get(f"{prefix}_power"))

    history = GroupHistory(
        consumed=meter("consumed"),
        produced_first=meter("produced_first_meter"),
        produced_second=meter("produced_second_meter"),
        members=_member_histories(data.get("group_users")),
    )
    return None if history.empty else history


# -- disaggregation -----------------------------------------------------------


def interval_power_w(value: Any) -> float | None:
    """Average power (W) of an energy (µWh/10) used in one 15-minute interval."""
    kwh = energy_kwh(value)
    if kwh is None or kwh < 0:
        return None
    return float(kwh * INTERVALS_PER_HOUR * 1000)


@dataclass(frozen=True, slots=True)
class Disaggregation:
    """The latest slot of an appliance disaggregation."""

    at: datetime
    appliances: dict[str, float]
    """Appliance name (e.g. `Grundlast-1`) → average power over the slot, W."""


def _appliance_powers(value: Any) -> dict[str, float] | None:
    powers = {
        name: power
        for name, raw in mapping(value).items()
        if (power := interval_power_w(raw)) is not None
    }
    return powers or None


def parse_disaggregation(payload: Any) -> Disaggregation | None:
    """Read `{time stamp: {appliance: µWh/10 per 15 min}}`; keep the newest slot.

    None when no slot has a readable time stamp and appliance values.
    """
    slots = _series(
        payload,
        lambda raw: (
            {
                name: power
                for name, value in mapping(raw).items()
                if (power := interval_power_w(value)) is not None
            }
            or None
        ),
    )
    latest = _latest(slots)
    return None if latest is None else Disaggregation(*latest)


# -- global challenge, per-capita ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Saving:
    """`GET /individual-global-challenge`: today's saving prognosis, the baseline."""

    at: datetime | None
    prognosis: Decimal | None
    """kWh."""
    baseline: Decimal | None
    """kWh."""


def parse_saving(payload: Any) -> Saving | None:
    """Read the individual saving; None when it holds no value."""
    data = mapping(payload)
    latest = _latest(_series(data.get("saving"), energy_kwh))
    baseline = energy_kwh(data.get("baseline"))
    if latest is None and baseline is None:
        return None
    at, prognosis = latest if latest is not None else (None, None)
    return Saving(at, prognosis, baseline)


@dataclass(frozen=True, slots=True)
class CommunitySaving:
    """`GET /community-global-challenge`: the community's saving prognosis."""

    at: datetime
    prognosis: Decimal
    """kWh."""


def parse_community_saving(payload: Any) -> CommunitySaving | None:
    """Read `{time stamp: µWh/10}`; the newest entry, None if there is none."""
    latest = _latest(_series(payload, energy_kwh))
    return None if latest is None else CommunitySaving(*latest)


@dataclass(frozen=True, slots=True)
class PerCapita:
    """`GET /per-capita-consumption`: annualised per-capita consumption."""

    at: datetime
    value: float
    """As delivered (the seed says kWh; its example's scale disagrees)."""


def parse_per_capita(payload: Any) -> PerCapita | None:
    """Read `{time stamp: value}`; the newest entry, None if there is none."""
    latest = _latest(_series(payload, as_float))
    return None if latest is None else PerCapita(*latest)


# -- hints and challenges -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hint:
    """A saving hint; `id` only when the server sends one (needed to mark it read)."""

    id: int | None
    headline: str | None
    description: str | None
    icon: str | None = field(default=None, repr=False)


def parse_hints(payload: Any) -> list[Hint]:
    """Read the hint list; entries without text are skipped."""
    hints: list[Hint] = []
    for item in payload if isinstance(payload, list) else ():
        data = mapping(item)
        hint = Hint(
            as_int(data.get("id")),
            as_str(data.get("headline")),
            as_str(data.get("description")),
            as_str(data.get("icon")),
        )
        if hint.headline or hint.description:
            hints.append(hint)
    return hints


@dataclass(frozen=True, slots=True)
class Challenge:
    """A challenge the user can start."""

    id: int
    name: str | None
    description: str | None
    total: int | None
    """How often the user ran it."""
    succeeded: int | None
    """How often the user completed it."""


def parse_challenges(payload: Any) -> list[Challenge]:
    """Read the challenge list; entries without an `id` are skipped."""
    challenges: list[Challenge] = []
    for item in payload if isinstance(payload, list) else ():
        data = mapping(item)
        challenge_id = as_int(data.get("id"))
        if challenge_id is None:
            continue
        challenges.append(
            Challenge(
                challenge_id,
                as_str(data.get("name")),
                as_str(data.get("description")),
                as_int(data.get("total")),
                as_int(data.get("succeeded")),
            )
        )
    return challenges


@dataclass(frozen=True, slots=True)
class ChallengeStatus:
    """The running (or just ended) challenge."""

    id: int | None
    progress: float | None
    """Distance to the target, usually kWh."""
    ends_at: datetime | None
    status: str | None
    """One of CHALLENGE_STATES, else None."""


def parse_challenge_status(payload: Any, now: datetime) -> ChallengeStatus | None:
    """Read the status; None when the payload is no challenge (`{}`).

    `expiresAt` is seconds left (seed), turned into `now + expiresAt`;
    `expire_at` is an absolute epoch (the app's dummy data).
    """
    data = mapping(payload)
    ends_at: datetime | None = None
    seconds_left = as_float(data.get("expiresAt"))
    if seconds_left is not None:
        try:
            ends_at = now.astimezone(UTC) + timedelta(seconds=max(0.0, seconds_left))
        except OverflowError:
            ends_at = None
    elif "expire_at" in data:
        ends_at = parse_time(data.get("expire_at"))
    state = data.get("status")
    status = ChallengeStatus(
        as_int(data.get("id")),
        as_float(data.get("progress")),
        ends_at,
        state if state in CHALLENGE_STATES else None,
    )
    if status == ChallengeStatus(None, None, None, None):
        return None
    return status


# -- live ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """One group member's values in a live message."""

    id: str
    meter_id: str | None = field(repr=False)
    energy: Decimal | None
    """Cumulative consumption, kWh."""
    power: float | None
    """W."""


@dataclass(frozen=True, slots=True)
class LiveMessage:
    """One decoded live message (either transport)."""

    date: datetime | None
    group_production: float | None
    """The group's production power, W; None when missing or implausible."""
    members: tuple[Member, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The decoded object as received (for diagnostics and log lines)."""

    @property
    def production_implausible(self) -> bool:
        """True when `group_production` was dropped as no plausible power."""
        number = as_float(self.raw.get("group_production"))
        return number is not None and abs(number) >= IMPLAUSIBLE_PRODUCTION_MW

    def member_by_meter(self, meter_id: str) -> Member | None:
        """Return the member reading `meter_id`, if the message has it."""
        for member in self.members:
            if member.meter_id == meter_id:
                return member
        return None


def _production_w(value: Any) -> float | None:
    number = as_float(value)
    if number is None or abs(number) >= IMPLAUSIBLE_PRODUCTION_MW:
        return None
    return number / POWER_SCALE


def _members(value: Any) -> tuple[Member, ...]:
    members: list[Member] = []
    for item in value if isinstance(value, list) else ():
        data = mapping(item)
        member_id = _id_text(data.get("id"))
        if member_id is None:
            continue
        members.append(
            Member(
                member_id,
                _id_text(data.get("meter_id")),
                reading_kwh(data.get("consumption")),
                power_w(data.get("power")),
            )
        )
    return tuple(members)


def decode_live(payload: Any) -> LiveMessage | None:
    """Decode one live message; None for a greeting or a message without data.

    `payload` is the object itself, or `{"data": "<the object as JSON>"}` (or a
    JSON text of either). A `data` string that is not JSON (the "Connected with
    sid …" greeting), `{}` and `{"data": "{}"}` carry no data: None, never zeros.
    """
    if isinstance(payload, str | bytes):
        try:
            payload = json.loads(payload)
        except ValueError:
            return None
    data = mapping(payload)
    if "data" in data:
        inner = data["data"]
        if isinstance(inner, str | bytes):
            try:
                inner = json.loads(inner)
            except ValueError:
                return None
        data = mapping(inner)
    if not any(key in data for key in ("date", "group_production", "group_users")):
        return None
    message = LiveMessage(
        date=parse_time(data.get("date")),
        group_production=_production_w(data.get("group_production")),
        members=_members(data.get("group_users")),
        raw=data,
    )
    if (
        message.date is None
        and message.group_production is None
        and not message.members
    ):
        return None
    return message


__all__ = [
    "BASELINE_STATES",
    "CHALLENGE_STATES",
    "Challenge",
    "ChallengeStatus",
    "CommunitySaving",
    "Disaggregation",
    "GroupHistory",
    "Hint",
    "History",
    "LiveMessage",
    "Member",
    "PerCapita",
    "Profile",
    "Saving",
    "decode_live",
    "energy_kwh",
    "error_text",
    "interval_power_w",
    "parse_challenge_status",
    "parse_challenges",
    "parse_community_saving",
    "parse_disaggregation",
    "parse_group_history",
    "parse_hints",
    "parse_individual_history",
    "parse_per_capita",
    "parse_profile",
    "parse_saving",
    "parse_time",
    "power_w",
    "reading_kwh",
]
