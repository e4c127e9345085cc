"""Parsing the Cozify Hub's and the Cozify Cloud's payloads (no I/O)."""

from __future__ import annotations

import base64
import contextlib
import copy
from datetime import UTC, datetime
import json
import math
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.energy_gateways.devices.cozify_hub.models import (
    KNOWN_CAPABILITIES,
    STATE_LIGHT,
    STATE_MULTI_SENSOR,
    CozifyDevice,
    DeviceState,
    HubKey,
    HubMeta,
    PollDelta,
    Scene,
    api_version,
    hub_url,
    parse_devices,
    parse_hub_keys,
    parse_lan_ips,
    parse_poll,
    parse_rooms,
    parse_scenes,
    parse_token,
    token_expiry,
)
from custom_components.energy_gateways.transport.errors import InvalidResponse

MS = 1_767_441_000_000
AT = datetime.fromtimestamp(MS / 1000, UTC)


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def _record(
    device_id: str,
    state: dict[str, Any],
    capabilities: list[str],
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": device_id,
        "type": extra.pop("type", "LIGHT"),
        "name": extra.pop("name", f"Laite {device_id}"),
        "manufacturer": "IKEA of Sweden",
        "model": None,
        "room": ["r1"],
        "groups": [],
        "capabilities": {"type": "SET", "values": capabilities},
        "timestamp": extra.pop("timestamp", MS),
        "state": {"lastSeen": MS, "reachable": True, **state},
        **extra,
    }


CT_LIGHT = _record(
    "ct",
    {
        "type": "STATE_LIGHT",
        "isOn": True,
        "brightness": 0.1529,
        "colorMode": "ct",
        "hue": -1,
        "saturation": -1,
        "temperature": 2202.64,
        "minTemperature": 2202.64,
        "maxTemperature": 4000.0,
        "transitionMsec": None,
    },
    ["ON_OFF", "BRIGHTNESS", "COLOR_TEMP", "DEVICE"],
)
HS_LIGHT = _record(
    "hs",
    {
        "type": "STATE_LIGHT",
        "isOn": False,
        "brightness": 1.0,
        "colorMode": "hs",
        "hue": 3.14,
        "saturation": 0.5,
        "temperature": -1,
        "minTemperature": 2000,
        "maxTemperature": 6500,
    },
    ["ON_OFF", "BRIGHTNESS", "COLOR_HS", "COLOR_TEMP", "DEVICE"],
    manufacturer="Philips",
)
MULTI = _record(
    "multi",
    {
        "type": "STATE_MULTI_SENSOR",
        "temperature": -1,
        "humidity": 45.5,
        "batteryV": 2.9,
        "batteryLow": False,
    },
    ["TEMPERATURE", "HUMIDITY", "BATTERY_U", "DEVICE"],
    type="MULTI_SENSOR",
    name="Olohuoneen lämpö",
)


def test_api_version() -> None:
    """The first two parts of the version; anything else is unusable."""
    assert api_version("1.14.9.124") == "1.14"
    assert api_version(" 1.15 ") == "1.15"
    for bad in ("", "1", "v1.14", "1.x.2", "1.14a", None, 114):
        with pytest.raises(InvalidResponse):
            api_version(bad)  # type: ignore[arg-type]


def test_parse_token() -> None:
    """Quotes and whitespace go; nothing left or a junk text is refused."""
    assert parse_token('"abc.def.ghi"') == "abc.def.ghi"
    assert parse_token(' \n"abc"\n') == "abc"
    assert parse_token("abc") == "abc"
    for bad in ("", '""', '"', "  ", "<html> error", None):
        with pytest.raises(InvalidResponse) as caught:
            parse_token(bad)  # type: ignore[arg-type]
        assert "html" not in str(caught.value)


def test_token_expiry() -> None:
    """The `exp` claim of a JWT, unverified; None for anything else."""
    assert token_expiry(_jwt({"exp": 1_800_000_000, "email": "x"})) == 1_800_000_000
    assert token_expiry(_jwt({"iat": 1})) is None
    assert token_expiry(_jwt({"exp": -5})) is None
    assert token_expiry("opaque") is None
    assert token_expiry("a.!!!.c") is None
    assert token_expiry("a.bm90IGpzb24.c") is None  # "not json"
    assert token_expiry(None) is None  # type: ignore[arg-type]


def test_hub_meta() -> None:
    """The hub's metadata; a HAN reader or junk is no hub."""
    meta = HubMeta.from_json(
        {
            "type": "HUB_META_DATA",
            "hubId": "hub-1",
            "name": "Koti",
            "version": "1.14.9.124",
            "connected": True,
            "features": [1, 2],
            "state": "claimed",
        }
    )
    assert meta == HubMeta("hub-1", "Koti", "1.14.9.124", "1.14", True, "claimed")
    bare = HubMeta.from_json(
        {"type": "HUB_META_DATA", "hubId": "h", "version": "1.15.0", "name": 5}
    )
    assert (bare.name, bare.connected, bare.state) == ("h", None, None)
    bad: Any
    for bad in (
        {"type": "HAN_META_DATA", "hubId": "h", "version": "1.14.0"},
        {"type": "HUB_META_DATA", "version": "1.14.0"},
        {"type": "HUB_META_DATA", "hubId": "h"},
        {"type": "HUB_META_DATA", "hubId": "h", "version": "new"},
        [],
        None,
    ):
        with pytest.raises(InvalidResponse):
            HubMeta.from_json(bad)


def test_hub_keys() -> None:
    """Keys with what their claims say; the token stays out of the repr."""
    token = _jwt({"hub_id": "h1", "hub_name": "Koti", "role": 32, "exp": 1.9e9})
    keys = parse_hub_keys({"h1": token, "h2": "opaque", "h3": "", "h4": 5})
    assert set(keys) == {"h1", "h2"}
    assert keys["h1"] == HubKey("h1", token, "Koti", 32, 1.9e9)
    assert keys["h2"] == HubKey("h2", "opaque")
    assert token not in repr(keys)
    assert parse_hub_keys({}) == {}
    with pytest.raises(InvalidResponse):
        parse_hub_keys(["h1"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("192.168.1.20", "http://192.168.1.20:8893"),
        ("http://192.168.70.160:8893", "http://192.168.70.160:8893"),
        ("http://127.0.0.1:40123/", "http://127.0.0.1:40123"),
        ("https://hub.local", "https://hub.local:8893"),
        ("hub.local:9000/path", "http://hub.local:9000"),
        ("fe80::1", "http://[fe80::1]:8893"),
        ("[::1]:8894", "http://[::1]:8894"),
        ("", None),
        ("ftp://host", None),
        ("not a host", None),
        ("http://", None),
        ("host:99999", None),
    ],
)
def test_hub_url(raw: str, expected: str | None) -> None:
    """What lan_ip lists or a user types becomes a hub base URL."""
    assert hub_url(raw) == expected


def test_lan_ips() -> None:
    """Both forms, junk skipped, duplicates dropped; null is no hub."""
    assert parse_lan_ips(
        ["192.168.1.20", "http://192.168.1.21:8893", 7, "", "x y", "192.168.1.20"]
    ) == ["http://192.168.1.20:8893", "http://192.168.1.21:8893"]
    assert parse_lan_ips(None) == []
    with pytest.raises(InvalidResponse):
        parse_lan_ips({"ip": "192.168.1.20"})


def test_ct_light() -> None:
    """A CT light: temperature is Kelvin, -1 colour fields are None."""
    device = CozifyDevice.from_json(CT_LIGHT)
    assert device.is_light
    assert (device.id, device.type, device.name, device.room) == (
        "ct",
        "LIGHT",
        "Laite ct",
        "r1",
    )
    assert (device.manufacturer, device.model) == ("IKEA of Sweden", None)
    assert device.capabilities == {"ON_OFF", "BRIGHTNESS", "COLOR_TEMP", "DEVICE"}
    assert device.capabilities <= KNOWN_CAPABILITIES
    assert device.state_type == STATE_LIGHT
    state = device.state
    assert (state.is_on, state.brightness, state.color_mode) == (True, 0.1529, "ct")
    assert (state.hue, state.saturation) == (None, None)
    assert (state.color_temp, state.min_color_temp, state.max_color_temp) == (
        2202.64,
        2202.64,
        4000.0,
    )
    assert state.temperature is None
    assert (state.last_seen, state.reachable) == (AT, True)


def test_hs_light() -> None:
    """An HS light in hs mode: radians and 0..1 kept, temperature -1 is None."""
    state = CozifyDevice.from_json(HS_LIGHT).state
    assert (state.is_on, state.hue, state.saturation) == (False, 3.14, 0.5)
    assert (state.color_temp, state.temperature) == (None, None)
    assert (state.min_color_temp, state.max_color_temp) == (2000, 6500)


def test_light_by_capability() -> None:
    """Without a state type, colour capabilities make a light."""
    record = copy.deepcopy(CT_LIGHT)
    del record["state"]["type"]
    device = CozifyDevice.from_json(record)
    assert device.state_type is None
    assert device.is_light
    assert device.state.color_temp == 2202.64
    record["capabilities"] = ["ON_OFF", "TEMPERATURE"]  # a bare list is read too
    device = CozifyDevice.from_json(record)
    assert not device.is_light
    assert device.capabilities == {"ON_OFF", "TEMPERATURE"}
    assert (device.state.temperature, device.state.color_temp) == (2202.64, None)


def test_multi_sensor() -> None:
    """°C for a sensor (-1 °C is a temperature there), UTF-8 names kept."""
    device = CozifyDevice.from_json(MULTI)
    assert not device.is_light
    assert device.name == "Olohuoneen lämpö"
    assert device.state_type == STATE_MULTI_SENSOR
    state = device.state
    assert (state.temperature, state.color_temp, state.humidity) == (-1, None, 45.5)
    assert (state.battery_voltage, state.battery_low) == (2.9, False)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            {"type": "STATE_THERMOSTAT", "temperature": 21.5, "targetTemp": 22},
            {"temperature": 21.5, "target_temperature": 22},
        ),
        (
            {"type": "STATE_THERMOSTAT", "targetTemperature": 19, "heatingDemand": 0.4},
            {"target_temperature": 19, "heating_demand": 0.4},
        ),
        (
            {"type": "STATE_THERMOSTAT", "targetTemp": None, "targetTemperature": 18},
            {"target_temperature": 18},
        ),
        (
            {"type": "STATE_SOCKET", "isOn": True, "activePower": 12.5, "power": 3},
            {"is_on": True, "power": 12.5},
        ),
        ({"type": "STATE_SOCKET", "power": 3}, {"power": 3}),
        (
            {"type": "STATE_SOCKET", "lastChange": MS, "brightness": 1},
            {"last_change": AT, "brightness": 1.0},
        ),
        (
            {"type": "STATE_MOTION", "motion": True, "lastMotion": MS, "lux": 120},
            {"motion": True, "last_motion": AT, "lux": 120},
        ),
        ({"type": "STATE_CONTACT", "open": False}, {"open": False}),
        ({"type": "STATE_SMOKE_ALARM", "alert": True}, {"smoke": True}),
        ({"type": "STATE_MOISTURE", "moisture": False}, {"moisture": False}),
        ({"type": "STATE_CO_SENSOR", "coDetected": True}, {"co": True}),
        (
            {"type": "STATE_CO2_SENSOR", "co2Ppm": 650, "temperature": 22.0},
            {"co2": 650, "temperature": 22.0},
        ),
        ({"type": "STATE_TWILIGHT", "twilight": True}, {"twilight": True}),
        ({"type": "STATE_LUX", "lux": 0}, {"lux": 0}),
    ],
)
def test_state_types(state: dict[str, Any], expected: dict[str, Any]) -> None:
    """Each state type's keys land in their fields; the rest stays None."""
    parsed = CozifyDevice.from_json({"id": "d", "state": state}).state
    defaults = DeviceState()
    for name in DeviceState.__slots__:
        assert getattr(parsed, name) == expected.get(name, getattr(defaults, name)), (
            name
        )


_STATE_KEYS = [
    *("isOn", "brightness", "colorMode", "hue", "saturation", "temperature"),
    *("minTemperature", "maxTemperature", "targetTemp", "targetTemperature"),
    *("heatingDemand", "humidity", "lux", "co2Ppm", "batteryV", "batteryLow"),
    *("activePower", "power", "motion", "open", "alert", "moisture"),
    *("coDetected", "twilight", "lastSeen", "lastChange", "lastMotion"),
    "reachable",
]


@pytest.mark.parametrize(
    "bad", [None, [1], {"v": 1}, math.nan, math.inf, -math.inf, 10**400]
)
@pytest.mark.parametrize("state_type", ["STATE_LIGHT", "STATE_MULTI_SENSOR", 5])
def test_wrong_types_are_none(bad: Any, state_type: Any) -> None:
    """Junk in any field is None; NaN/inf and huge numbers too."""
    record = {
        "id": "d",
        "name": bad,
        "type": bad,
        "manufacturer": bad,
        "room": bad,
        "capabilities": bad,
        "state": {"type": state_type, **dict.fromkeys(_STATE_KEYS, bad)},
    }
    device = CozifyDevice.from_json(record)
    assert device.name == "d"
    assert (device.type, device.manufacturer, device.room) == (None, None, None)
    assert device.capabilities == frozenset()
    assert device.state == DeviceState()


@pytest.mark.parametrize("state_type", ["STATE_LIGHT", "STATE_THERMOSTAT"])
def test_bools_and_strings_are_not_numbers(state_type: str) -> None:
    """A bool is never a number, a numeric string never a number or a bool."""
    for value in (True, "12", "true"):
        state = {"type": state_type, **dict.fromkeys(_STATE_KEYS, value)}
        parsed = CozifyDevice.from_json({"id": "d", "state": state}).state
        numbers = [
            parsed.brightness,
            parsed.hue,
            parsed.saturation,
            parsed.color_temp,
            parsed.temperature,
            parsed.target_temperature,
            parsed.humidity,
            parsed.co2,
            parsed.power,
            parsed.last_seen,
        ]
        assert numbers == [None] * len(numbers)
        assert parsed.color_mode == (value if isinstance(value, str) else None)
        flags = [parsed.is_on, parsed.motion, parsed.twilight, parsed.reachable]
        assert flags == [True if value is True else None] * len(flags)


def test_out_of_range() -> None:
    """Fractions outside 0..1, negative Kelvin, below absolute zero: None."""
    state = CozifyDevice.from_json(
        {
            "id": "d",
            "state": {
                "type": "STATE_LIGHT",
                "brightness": 1.5,
                "saturation": -0.1,
                "hue": -1,
                "temperature": 0,
                "lastSeen": -5,
            },
        }
    ).state
    assert state == DeviceState()
    sensor = CozifyDevice.from_json(
        {"id": "d", "state": {"type": "X", "temperature": -300, "lastSeen": 1e300}}
    ).state
    assert (sensor.temperature, sensor.last_seen) == (None, None)


def test_malformed_records() -> None:
    """A record that is no object or has no id cannot be read."""
    bad: Any
    for bad in (None, [], "d", {"name": "no id"}, {"id": 5}):
        with pytest.raises(InvalidResponse):
            CozifyDevice.from_json(bad)
    assert CozifyDevice.from_json({}, default_id="key").id == "key"
    assert CozifyDevice.from_json({"id": "own"}, default_id="key").id == "own"


def test_parse_devices() -> None:
    """A map id → record (or a list); malformed records skipped."""
    devices = parse_devices(
        {"ct": CT_LIGHT, "multi": MULTI, "junk": 5, "bare": {"name": "Vain nimi"}}
    )
    assert set(devices) == {"ct", "multi", "bare"}
    assert devices["bare"].id == "bare"
    assert devices["bare"].state == DeviceState()
    assert set(parse_devices([CT_LIGHT, MULTI, {"name": "x"}, 3])) == {"ct", "multi"}
    for bad in (None, "devices", 5):
        with pytest.raises(InvalidResponse):
            parse_devices(bad)


def _poll(*deltas: Any, full: bool = False, timestamp: int = MS + 10) -> dict[str, Any]:
    return {
        "type": "POLL_DELTA",
        "full": full,
        "timestamp": timestamp,
        "polls": list(deltas),
    }


def _devices(devices: dict[str, Any]) -> dict[str, Any]:
    return {"type": "DEVICE_DELTA", "devices": devices}


def test_poll_delta() -> None:
    """Deltas merged in order, removals kept, unknown types recorded."""
    dimmer = copy.deepcopy(CT_LIGHT)
    dimmer["state"]["brightness"] = 0.9
    payload = _poll(
        _devices({"ct": CT_LIGHT, "multi": MULTI}),
        {"type": "ALARM_DELTA", "alarms": {}},
        _devices({"ct": dimmer, "gone": None}),
        {
            "type": "SCENE_DELTA",
            "scenes": {
                "s1": {"id": "s1", "name": "Ilta", "isOn": True},
                "s2": None,
                "s3": "junk",
                "": {"name": "no id"},
            },
        },
        {"no": "type"},
        "junk",
    )
    delta = parse_poll(payload, since=MS)
    assert (delta.full, delta.timestamp) == (False, MS + 10)
    assert set(delta.devices) == {"ct", "multi", "gone"}
    ct = delta.devices["ct"]
    assert ct is not None
    assert ct.state.brightness == 0.9
    assert delta.devices["gone"] is None
    assert delta.rooms is None
    assert delta.unknown_types == {"ALARM_DELTA"}
    assert delta.scenes == {"s1": Scene(id="s1", name="Ilta", is_on=True), "s2": None}
    known = {"gone": CozifyDevice.from_json(MULTI, default_id="gone")}
    assert set(delta.apply(known)) == {"ct", "multi"}


def test_poll_full_replaces() -> None:
    """A full answer replaces what is known; a null in it is just absent."""
    delta = parse_poll(
        _poll(_devices({"ct": CT_LIGHT, "x": None}), full=True), since=MS
    )
    assert delta.full
    assert set(delta.devices) == {"ct"}
    old = {"multi": CozifyDevice.from_json(MULTI)}
    assert set(delta.apply(old)) == {"ct"}


def test_poll_rooms() -> None:
    """A ROOM_DELTA gives names and removals."""
    delta = parse_poll(
        _poll(
            {
                "type": "ROOM_DELTA",
                "rooms": {
                    "r1": {"id": "r1", "name": "Keittiö", "order": 1},
                    "r2": None,
                    "r3": {"id": "r3"},
                },
            }
        ),
        since=1,
    )
    assert delta.rooms == {"r1": "Keittiö", "r2": None}


def test_poll_forms() -> None:
    """The bare list form; missing fields taken from `since` and the records."""
    as_list = parse_poll([_devices({"ct": CT_LIGHT})], since=5)
    assert (as_list.full, as_list.timestamp) == (False, MS)
    assert parse_poll([], since=0) == PollDelta(True, 0, {})
    assert parse_poll([], since=MS).timestamp == MS
    assert parse_poll({"type": "POLL_DELTA"}, since=7).timestamp == 7
    assert parse_poll({"polls": [], "timestamp": "x"}, since=7).timestamp == 7
    for bad in (None, 5, "poll", {"polls": "x"}, {"type": "OTHER"}, {}):
        with pytest.raises(InvalidResponse):
            parse_poll(bad)


def test_rooms_and_scenes() -> None:
    """Rooms id → name, scenes typed; nameless rooms skipped."""
    assert parse_rooms(
        {
            "r1": {"id": "r1", "name": "Olohuone", "order": 0},
            "r2": {"id": "r2"},
            "r3": "junk",
            "r4": {"name": "Eteinen"},
        }
    ) == {"r1": "Olohuone", "r4": "Eteinen"}
    assert parse_rooms([{"id": "r1", "name": "Sauna"}, {"name": "no id"}]) == {
        "r1": "Sauna"
    }
    assert parse_scenes(
        {"s1": {"id": "s1", "name": "Ilta", "isOn": True}, "s2": {"isOn": "yes"}}
    ) == {"s1": Scene("s1", "Ilta", True), "s2": Scene("s2", "s2", None)}
    for parse in (parse_rooms, parse_scenes):
        with pytest.raises(InvalidResponse):
            parse(None)


# -- properties ------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["STATE_LIGHT", "DEVICE_DELTA", "POLL_DELTA", "ROOM_DELTA"])
)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["id", "type", "state", "devices", "polls", "full", "timestamp", "x"]
            )
            | st.text(max_size=4),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)
_state = st.fixed_dictionaries(
    {"type": st.sampled_from(["STATE_LIGHT", "STATE_MULTI_SENSOR", "X"])},
    optional=dict.fromkeys(
        ("isOn", "brightness", "temperature", "hue", "lastSeen", "motion"), _scalars
    ),
)
_record_strategy = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "c"])},
    optional={
        "name": _scalars,
        "timestamp": st.integers(min_value=0, max_value=2 * MS),
        "capabilities": st.lists(st.sampled_from(sorted(KNOWN_CAPABILITIES))),
        "state": _state,
    },
)
_device_delta = st.builds(
    _devices,
    st.dictionaries(
        st.sampled_from(["a", "b", "c", "d"]), st.none() | _record_strategy, max_size=4
    ),
)
_deltas = st.lists(
    _device_delta | st.just({"type": "ALARM_DELTA", "alarms": {}}), max_size=5
)


@given(_json)
def test_parsers_only_raise_invalid_response(payload: Any) -> None:
    """Arbitrary JSON-like input: a result or InvalidResponse, nothing else."""
    for parse in (parse_poll, parse_devices, parse_rooms, parse_scenes):
        with contextlib.suppress(InvalidResponse):
            parse(payload)
    for wrapped in ({"polls": payload}, [payload], {"polls": [_devices(payload)]}):
        with contextlib.suppress(InvalidResponse):
            parse_poll(wrapped, since=3)


@given(st.dictionaries(st.text(max_size=3), _json, max_size=4))
def test_devices_never_raise_on_a_map(payload: dict[str, Any]) -> None:
    """A JSON object of anything parses; each entry becomes a device or nothing."""
    devices = parse_devices(payload)
    for key, device in devices.items():
        assert isinstance(device, CozifyDevice)
        assert device.id == key


@given(_deltas)
def test_deltas_merge_in_order(deltas: list[dict[str, Any]]) -> None:
    """Merging all deltas == applying them one by one; null removes."""
    merged = parse_poll(deltas, since=1)
    stepwise: dict[str, CozifyDevice | None] = {}
    for delta in deltas:
        stepwise.update(parse_poll([delta], since=1).devices)
    assert dict(merged.devices) == stepwise
    known = {"a": CozifyDevice.from_json({"id": "a"}), "z": None}
    applied = merged.apply({k: v for k, v in known.items() if v is not None})
    for key, device in stepwise.items():
        if device is None:
            assert key not in applied
        else:
            assert applied[key] == device


@given(_deltas)
def test_full_replaces(deltas: list[dict[str, Any]]) -> None:
    """A full answer never carries removals and replaces everything."""
    merged = parse_poll(deltas, since=0)
    assert merged.full
    assert None not in merged.devices.values()
    assert merged.apply({"z": CozifyDevice.from_json({"id": "z"})}) == dict(
        merged.devices
    )


@given(_deltas, st.integers(min_value=0, max_value=2 * MS))
def test_list_form_is_object_form(deltas: list[dict[str, Any]], since: int) -> None:
    """A bare list parses like the POLL_DELTA object without its extra fields."""
    assert parse_poll(deltas, since=since) == parse_poll(
        {"type": "POLL_DELTA", "polls": deltas}, since=since
    )
