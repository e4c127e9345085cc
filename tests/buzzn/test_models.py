"""Property-based and example tests of the BUZZN payload parsers and units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
import json
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.energy_gateways.devices.buzzn.models import (
    ChallengeStatus,
    LiveMessage,
    Member,
    decode_live,
    energy_kwh,
    error_text,
    interval_power_w,
    parse_challenge_status,
    parse_challenges,
    parse_community_saving,
    parse_disaggregation,
    parse_group_history,
    parse_hints,
    parse_individual_history,
    parse_per_capita,
    parse_profile,
    parse_saving,
    parse_time,
    power_w,
    reading_kwh,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
moments = st.datetimes(
    min_value=datetime(2002, 1, 1),  # noqa: DTZ001 - ms ≥ 1e12 from 2001-09-09
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


# -- units ---------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**40))
def test_energy_is_exact(units: int) -> None:
    """Any reading in µWh/10 becomes kWh without losing a digit."""
    kwh = energy_kwh(units)
    assert isinstance(kwh, Decimal)
    with localcontext(prec=100):
        assert kwh * 10**10 == units
    assert reading_kwh(units) == kwh


def test_energy_examples() -> None:
    """The seed's examples, and what is not an energy."""
    assert energy_kwh(2180256872214000) == Decimal("218025.6872214")
    assert energy_kwh(3148577026610.7812) == Decimal("314.85770266107812")
    assert energy_kwh("53011346257574") == Decimal("5301.1346257574")
    assert energy_kwh(0) == 0
    garbage: tuple[Any, ...] = (None, True, "x", float("nan"), float("inf"), [], {})
    for value in garbage:
        assert energy_kwh(value) is None
    assert reading_kwh(-1) is None
    assert energy_kwh(-(10**10)) == -1


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_float_energy_is_its_decimal_text(value: float) -> None:
    """Floats convert through their shortest text, not their binary expansion."""
    kwh = energy_kwh(value)
    assert kwh is not None
    assert kwh.scaleb(10) == Decimal(str(value))


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_power_milliwatts_to_watts(milliwatts: int) -> None:
    """mW → W: a thousandth, as a float; numeric strings too."""
    watts = power_w(milliwatts)
    assert watts == pytest.approx(milliwatts / 1000)
    assert power_w(str(milliwatts)) == watts
    assert power_w(None) is None
    assert power_w(False) is None


@given(st.integers(min_value=0, max_value=10**15))
def test_disaggregation_interval_to_power(units: int) -> None:
    """Energy per 15 minutes (µWh/10) is average power: kWh x 4 x 1000 W."""
    assert interval_power_w(units) == pytest.approx(units / 10**10 * 4 * 1000)


# -- time stamps ---------------------------------------------------------------


@given(moments, st.booleans())
def test_time_keys_are_utc(moment: datetime, fraction: bool) -> None:
    """`YYYY-MM-DD HH:MM:SS[.ffffff]` is read as UTC, with or without fraction."""
    if not fraction:
        moment = moment.replace(microsecond=0)
    text = moment.strftime("%Y-%m-%d %H:%M:%S.%f" if fraction else "%Y-%m-%d %H:%M:%S")
    parsed = parse_time(text)
    assert parsed == moment
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


@given(moments)
def test_epoch_seconds_and_milliseconds(moment: datetime) -> None:
    """Numbers (and numeric keys) are epoch s, or ms from 1e12 on."""
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    seconds = moment.timestamp()
    milliseconds = round(seconds * 1000)
    assert parse_time(milliseconds) == moment
    assert parse_time(str(milliseconds)) == moment
    parsed = parse_time(int(seconds))
    assert parsed == datetime.fromtimestamp(int(seconds), UTC)


@given(json_values)
def test_time_never_raises(value: Any) -> None:
    """Garbage is None; anything parsed is aware."""
    parsed = parse_time(value)
    assert parsed is None or parsed.tzinfo is not None


def test_time_offsets() -> None:
    """An explicit offset is honoured and normalised to UTC."""
    assert parse_time("2020-01-15T11:00:00+01:00") == datetime(
        2020, 1, 15, 10, tzinfo=UTC
    )
    assert parse_time("yesterday") is None
    assert parse_time(-5) is None


# -- error objects -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"errorName": "ValidationError", "errorDescription": "bad flat size"},
            "ValidationError: bad flat size",
        ),
        ({"name": "No meter id"}, "No meter id"),
        ({"name": "E", "description": "d"}, "E: d"),
        ({"description": "only text"}, "only text"),
        ({"msg": "Token has expired"}, "Token has expired"),
        ({"errorName": "  ", "msg": "fallback"}, "fallback"),
        ({}, None),
        (None, None),
        ("<html>", None),
        ([{"msg": "x"}], None),
        ({"msg": 5}, None),
    ],
)
def test_error_text(body: Any, expected: str | None) -> None:
    """The three error-object shapes give one text; others give None."""
    assert error_text(body) == expected


@given(json_values)
def test_error_text_never_raises(body: Any) -> None:
    """Whatever the body, a string or None."""
    assert error_text(body) is None or isinstance(error_text(body), str)


# -- REST payloads -------------------------------------------------------------

PROFILE = {
    "id": 1,
    "name": "Mustermann",
    "firstName": "Erika",
    "nick": "erika",
    "mail": "erika@example.com",
    "flatSize": 60.0,
    "inhabitants": 2,
    "groupAddress": "Musterstraße 1",
    "meterId": "b4234cd4bed143a6b9bd09e347e17d34",
    "avatar": "aGVsbG8=",
    "registration_date": "2020-01-15 10:01:10.123456",
    "baseline_state": "READY",
}


def test_profile() -> None:
    """Every field typed; personal data stays out of the repr."""
    profile = parse_profile(PROFILE)
    assert profile is not None
    assert (profile.id, profile.nick, profile.flat_size, profile.inhabitants) == (
        1,
        "erika",
        60.0,
        2,
    )
    assert profile.meter_id == "b4234cd4bed143a6b9bd09e347e17d34"
    assert profile.registration_date == datetime(
        2020, 1, 15, 10, 1, 10, 123456, tzinfo=UTC
    )
    assert profile.baseline_state == "READY"
    assert profile.avatar == "aGVsbG8="
    for secret in ("erika@example.com", "Mustermann", "b4234cd4", "aGVsbG8="):
        assert secret not in repr(profile)


def test_profile_odd_values() -> None:
    """Numbers as strings are read; unknown states and garbage are None."""
    profile = parse_profile(
        {
            **PROFILE,
            "id": "7",
            "flatSize": "72.5",
            "inhabitants": "x",
            "baseline_state": "BROKEN",
            "meterId": 42,
            "registration_date": None,
            "extra": {"x": 1},
        }
    )
    assert profile is not None
    assert (profile.id, profile.flat_size, profile.inhabitants) == (7, 72.5, None)
    assert (profile.baseline_state, profile.meter_id) == (None, "42")
    assert profile.registration_date is None
    assert parse_profile({"nick": "no id"}) is None
    assert parse_profile(None) is None


@given(st.dictionaries(st.sampled_from(sorted(PROFILE)), json_values))
def test_profile_never_raises(fields: dict[str, Any]) -> None:
    """Any field values: a profile or None, never an exception."""
    parse_profile({**PROFILE, **fields})


HISTORY = {
    "energy": {
        "2020-01-15 00:47:10": 2180256872214000,
        "2020-01-15 00:00:04": 2180256872000000,
    },
    "power": {
        "2020-01-15 00:30:00": 232000.0,
        "2020-01-15 00:15:00": 224550.0,
        "2020-01-15 00:45:00": "227630.0",
        "garbage": 5,
        "2020-01-15 01:00:00": None,
    },
}


def test_individual_history() -> None:
    """Readings in kWh, power in W, both sorted; unreadable entries skipped."""
    history = parse_individual_history(HISTORY)
    assert history is not None
    assert list(history.energy.items()) == [
        (datetime(2020, 1, 15, 0, 0, 4, tzinfo=UTC), Decimal("218025.6872")),
        (datetime(2020, 1, 15, 0, 47, 10, tzinfo=UTC), Decimal("218025.6872214")),
    ]
    assert list(history.power.values()) == [224.55, 232.0, 227.63]
    assert list(history.power) == sorted(history.power)


@pytest.mark.parametrize(
    "payload", [{}, None, {"energy": {}, "power": {}}, [], "x", {"energy": None}]
)
def test_no_history(payload: Any) -> None:
    """Empty maps, `{}` and `null` are no data: None, not zeros."""
    assert parse_individual_history(payload) is None
    assert parse_group_history(payload) is None


def test_group_history() -> None:
    """Consumed, both producers and every member; members as a map or a list."""
    payload = {
        "consumed_energy": HISTORY["energy"],
        "consumed_power": HISTORY["power"],
        "produced_first_meter_energy": {"2020-01-15 00:00:04": 10**10},
        "produced_first_meter_power": {},
        "produced_second_meter_energy": {},
        "produced_second_meter_power": {"2020-01-15 00:15:00": 5000},
        "group_users": {"1": HISTORY, "2": {"energy": {}, "power": {}}, "x": None},
    }
    history = parse_group_history(payload)
    assert history is not None
    assert len(history.consumed.energy) == 2
    assert list(history.produced_first.energy.values()) == [Decimal(1)]
    assert list(history.produced_second.power.values()) == [5.0]
    assert set(history.members) == {"1", "2", "x"}
    assert history.members["2"].empty
    listed = parse_group_history({"group_users": [{"id": 3, **HISTORY}, {"no": "id"}]})
    assert listed is not None
    assert set(listed.members) == {"3"}


def test_disaggregation_keeps_the_latest_slot() -> None:
    """The newest slot only; 232500000 µWh/10 in 15 min is 93 W."""
    payload = {
        "2020-01-15 10:00:00": {"Grundlast-1": 1},
        "2020-01-15 10:15:00": {
            "Waschmaschine-1": 0,
            "Grundlast-1": 232500000,
            "Spülmaschine-1": "2500000",
            "Kaputt-1": None,
        },
        "2020-01-15 09:45:00": {"Grundlast-1": 2},
    }
    result = parse_disaggregation(payload)
    assert result is not None
    assert result.at == datetime(2020, 1, 15, 10, 15, tzinfo=UTC)
    assert result.appliances == {
        "Waschmaschine-1": 0.0,
        "Grundlast-1": 93.0,
        "Spülmaschine-1": 1.0,
    }
    assert parse_disaggregation({}) is None
    assert parse_disaggregation({"2020-01-15 10:15:00": {}}) is None


@given(st.dictionaries(st.text(max_size=20), json_values, max_size=5))
def test_disaggregation_never_raises(payload: dict[str, Any]) -> None:
    """Any map: a result with float appliance powers, or None."""
    result = parse_disaggregation(payload)
    if result is not None:
        assert all(isinstance(value, float) for value in result.appliances.values())


def test_savings_and_per_capita() -> None:
    """The seed's examples, in kWh; per-capita as delivered."""
    saving = parse_saving(
        {
            "saving": {"2020-01-15 10:01:10": 3148577026610.7812},
            "baseline": 53011346257574,
        }
    )
    assert saving is not None
    assert saving.at == datetime(2020, 1, 15, 10, 1, 10, tzinfo=UTC)
    assert saving.prognosis == Decimal("314.85770266107812")
    assert saving.baseline == Decimal("5301.1346257574")
    only_baseline = parse_saving({"baseline": 10**10})
    assert only_baseline is not None
    assert only_baseline.prognosis is None
    assert parse_saving({}) is None

    community = parse_community_saving({"2020-02-13 16:20:21": 85184267259376.5})
    assert community is not None
    assert community.prognosis == Decimal("8518.42672593765")
    assert parse_community_saving(None) is None

    per_capita = parse_per_capita({"2020-03-10 17:08:24": 396932})
    assert per_capita is not None
    assert per_capita.value == 396932.0
    assert parse_per_capita({}) is None


def test_hints_and_challenges() -> None:
    """Hints keep an id when given; challenges need one."""
    hints = parse_hints(
        [
            {"id": 1, "headline": "Standby", "description": "Off.", "icon": "<svg/>"},
            {"headline": "Licht", "description": "Aus."},
            {"icon": "only an icon"},
            "garbage",
        ]
    )
    assert [(hint.id, hint.headline) for hint in hints] == [
        (1, "Standby"),
        (None, "Licht"),
    ]
    assert parse_hints({}) == []
    challenges = parse_challenges(
        [
            {"id": 1, "name": "Nachts", "description": "…", "total": 3, "succeeded": 1},
            {"name": "no id"},
        ]
    )
    assert [(c.id, c.total, c.succeeded) for c in challenges] == [(1, 3, 1)]
    assert parse_challenges(None) == []


def test_challenge_status_expiry() -> None:
    """`expiresAt` is seconds left; `expire_at` an absolute epoch (s or ms)."""
    status = parse_challenge_status(
        {"id": 1, "progress": 0.8, "expiresAt": 72032, "status": "running"}, NOW
    )
    assert status == ChallengeStatus(1, 0.8, NOW + timedelta(seconds=72032), "running")
    absolute = parse_challenge_status(
        {"id": 2, "expire_at": 1584534049, "status": "weird"}, NOW
    )
    assert absolute is not None
    assert absolute.ends_at == datetime.fromtimestamp(1584534049, UTC)
    assert absolute.status is None
    in_ms = parse_challenge_status({"id": 2, "expire_at": 1584534049000}, NOW)
    assert in_ms is not None
    assert in_ms.ends_at == absolute.ends_at
    assert parse_challenge_status({}, NOW) is None
    assert parse_challenge_status(None, NOW) is None


@given(
    st.dictionaries(
        st.sampled_from(["id", "progress", "expiresAt", "expire_at", "status"]),
        json_values,
    )
)
def test_challenge_status_never_raises(payload: dict[str, Any]) -> None:
    """Any values: a status or None."""
    parse_challenge_status(payload, NOW)


# -- live ----------------------------------------------------------------------

LIVE = {
    "date": 1584534049261,
    "group_production": 43040,
    "group_users": [
        {
            "id": 1,
            "meter_id": "b4234cd4bed143a6b9bd09e347e17d34",
            "consumption": 3603609657330000,
            "power": 20032100,
        },
        {
            "id": 2,
            "meter_id": "52d7c87f8c26433dbd095048ad30c8cf",
            "consumption": None,
            "power": None,
        },
    ],
}
EXPECTED = LiveMessage(
    date=datetime(2020, 3, 18, 12, 20, 49, 261000, tzinfo=UTC),
    group_production=43.04,
    members=(
        Member(
            "1", "b4234cd4bed143a6b9bd09e347e17d34", Decimal("360360.965733"), 20032.1
        ),
        Member("2", "52d7c87f8c26433dbd095048ad30c8cf", None, None),
    ),
)


@pytest.mark.parametrize(
    "payload",
    [
        LIVE,
        {"data": json.dumps(LIVE)},
        {"data": LIVE},
        json.dumps(LIVE),
        json.dumps({"data": json.dumps(LIVE)}).encode(),
    ],
    ids=["object", "wrapped", "wrapped-object", "text", "wrapped-bytes"],
)
def test_decode_live_forms(payload: Any) -> None:
    """The object itself or `{"data": "<JSON>"}`; null members are unknown."""
    message = decode_live(payload)
    assert message == EXPECTED
    assert message is not None
    assert (
        message.member_by_meter("52d7c87f8c26433dbd095048ad30c8cf")
        == (EXPECTED.members[1])
    )
    assert not message.production_implausible


@pytest.mark.parametrize(
    "payload",
    [
        {"data": "Connected with sid 0123456789abcdef"},
        {},
        {"data": "{}"},
        {"data": "null"},
        {"data": None},
        None,
        "not json",
        [],
        {"group_users": None},
        {"date": None, "group_users": []},
        {"data": '{"unrelated": 1}'},
    ],
)
def test_decode_live_without_data(payload: Any) -> None:
    """Greetings and empty messages carry no data: None, never zeros."""
    assert decode_live(payload) is None


def test_decode_live_odd_values() -> None:
    """Numbers as strings; a cumulative energy as production is dropped."""
    message = decode_live(
        {
            "date": "1584534049",
            "group_production": 2180256872214000,
            "group_users": [
                {"id": "7", "consumption": "10000000000", "power": "1000"},
                {"meter_id": "no id"},
                "garbage",
                {"id": 8, "consumption": -5, "power": "x"},
            ],
            "unknown": {"key": 1},
        }
    )
    assert message is not None
    assert message.date == datetime.fromtimestamp(1584534049, UTC)
    assert message.group_production is None
    assert message.production_implausible
    assert message.members == (
        Member("7", None, Decimal(1), 1.0),
        Member("8", None, None, None),
    )
    zero = decode_live({"group_production": 0, "group_users": []})
    assert zero is not None
    assert zero.group_production == 0.0


@given(
    st.dictionaries(
        st.sampled_from(["date", "group_production", "group_users", "data"]),
        json_values,
    )
)
def test_decode_live_never_raises(payload: dict[str, Any]) -> None:
    """Any payload: a message with typed values, or None."""
    message = decode_live(payload)
    if message is not None:
        for member in message.members:
            assert member.energy is None or isinstance(member.energy, Decimal)
            assert member.power is None or isinstance(member.power, float)


@given(st.integers(min_value=0, max_value=10**17), st.integers(0, 10**10))
def test_live_units_round_trip(consumption: int, power: int) -> None:
    """Member readings: exact kWh; power: W."""
    message = decode_live(
        {
            "data": json.dumps(
                {
                    "date": 1584534049261,
                    "group_users": [
                        {"id": 1, "consumption": consumption, "power": power}
                    ],
                }
            )
        }
    )
    assert message is not None
    member = message.members[0]
    assert member.energy is not None
    assert member.energy.scaleb(10) == consumption
    assert member.power == pytest.approx(power / 1000)
