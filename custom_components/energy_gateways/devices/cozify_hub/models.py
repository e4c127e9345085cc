"""Typed views of the Cozify Hub's and the Cozify Cloud's JSON answers.

Units become Home Assistant's once, here: epoch milliseconds become aware UTC
datetimes; hue stays in radians and saturation and brightness in 0..1 (the
entities convert). The hub reports two different things in `state.temperature`:
the colour temperature in Kelvin for a light, °C for anything else. The state
type decides (and the capabilities when the type is missing), never the key.
Colour fields a light does not use are -1: they become None.

Parsing a record never raises: a missing or wrongly typed value is None. Only a
payload that is unusable as a whole raises `InvalidResponse`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
import ipaddress
import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

from ...transport.errors import InvalidResponse
from ...transport.http import base_url
from ...transport.values import (
    as_bool,
    as_float,
    as_str,
    from_epoch_seconds,
    mapping,
)

HUB_PORT = 8893
"""The hub's local API port."""

# -- payload types --------------------------------------------------------------

HUB_META_DATA = "HUB_META_DATA"
POLL_DELTA = "POLL_DELTA"
DEVICE_DELTA = "DEVICE_DELTA"
ROOM_DELTA = "ROOM_DELTA"
SCENE_DELTA = "SCENE_DELTA"

# -- state types ----------------------------------------------------------------

STATE_LIGHT = "STATE_LIGHT"
STATE_SOCKET = "STATE_SOCKET"
STATE_MULTI_SENSOR = "STATE_MULTI_SENSOR"
STATE_THERMOSTAT = "STATE_THERMOSTAT"
STATE_MOTION = "STATE_MOTION"
STATE_CONTACT = "STATE_CONTACT"
STATE_SMOKE_ALARM = "STATE_SMOKE_ALARM"
STATE_MOISTURE = "STATE_MOISTURE"
STATE_CO_SENSOR = "STATE_CO_SENSOR"
STATE_CO2_SENSOR = "STATE_CO2_SENSOR"
STATE_TWILIGHT = "STATE_TWILIGHT"
KNOWN_STATE_TYPES = frozenset(
    {
        STATE_LIGHT,
        STATE_SOCKET,
        STATE_MULTI_SENSOR,
        STATE_THERMOSTAT,
        STATE_MOTION,
        STATE_CONTACT,
        STATE_SMOKE_ALARM,
        STATE_MOISTURE,
        STATE_CO_SENSOR,
        STATE_CO2_SENSOR,
        STATE_TWILIGHT,
    }
)

# -- capabilities ---------------------------------------------------------------

CAP_DEVICE = "DEVICE"
CAP_ON_OFF = "ON_OFF"
CAP_BRIGHTNESS = "BRIGHTNESS"
CAP_COLOR_HS = "COLOR_HS"
CAP_COLOR_TEMP = "COLOR_TEMP"
CAP_TEMPERATURE = "TEMPERATURE"
CAP_HUMIDITY = "HUMIDITY"
CAP_LUX = "LUX"
CAP_CO2 = "CO2"
CAP_MOTION = "MOTION"
CAP_CONTACT = "CONTACT"
CAP_SMOKE = "SMOKE"
CAP_MOISTURE = "MOISTURE"
CAP_CO = "CO"
CAP_TWILIGHT = "TWILIGHT"
CAP_BATTERY_U = "BATTERY_U"
CAP_ACTIVE_POWER = "ACTIVE_POWER"
CAP_MEASURE_POWER = "MEASURE_POWER"
KNOWN_CAPABILITIES = frozenset(
    {
        CAP_DEVICE,
        CAP_ON_OFF,
        CAP_BRIGHTNESS,
        CAP_COLOR_HS,
        CAP_COLOR_TEMP,
        CAP_TEMPERATURE,
        CAP_HUMIDITY,
        CAP_LUX,
        CAP_CO2,
        CAP_MOTION,
        CAP_CONTACT,
        CAP_SMOKE,
        CAP_MOISTURE,
        CAP_CO,
        CAP_TWILIGHT,
        CAP_BATTERY_U,
        CAP_ACTIVE_POWER,
        CAP_MEASURE_POWER,
    }
)
"""Capabilities the integration knows; others are kept but give no entity."""

_LIGHT_CAPABILITIES = frozenset({CAP_COLOR_TEMP, CAP_COLOR_HS})
_VERSION = re.compile(r"([0-9]+)\.([0-9]+)(?:\.|$)")
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")
_ABSOLUTE_ZERO = -273.15

# -- versions and tokens --------------------------------------------------------


def api_version(version: str) -> str:
    """Return the API version of a hub version: `"1.14.9.124"` → `"1.14"`.

    InvalidResponse unless the version starts with two numeric parts.
    """
    match = _VERSION.match(version.strip()) if isinstance(version, str) else None
    if match is None:
        raise InvalidResponse("the hub's version is not readable")
    return f"{match[1]}.{match[2]}"


def parse_token(text: str) -> str:
    """Return a token sent as text, without whitespace and one pair of quotes.

    InvalidResponse if nothing is left (the message never shows the text).
    """
    token = text.strip() if isinstance(text, str) else ""
    if len(token) >= 2 and token[0] == token[-1] == '"':
        token = token[1:-1].strip()
    if not token or any(char.isspace() or char == '"' for char in token):
        raise InvalidResponse("no token in the answer")
    return token


def _claims(token: str) -> Mapping[str, Any]:
    """Return the claims of a JWT, read without verification; {} if not a JWT."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        return {}
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        return mapping(json.loads(raw))
    except binascii.Error, ValueError, RecursionError:
        return {}


def token_expiry(token: str) -> float | None:
    """Return a JWT's `exp` claim (epoch s), read without verification.

    None when the token is no JWT or carries no readable `exp`.
    """
    expiry = _number(_claims(token).get("exp"))
    return expiry if expiry is not None and expiry > 0 else None


# -- hub metadata and keys ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HubMeta:
    """`GET /hub`: who the hub is and which API version it speaks."""

    hub_id: str
    name: str
    version: str
    api_version: str
    connected: bool | None = None
    """The hub's own connection to the Cozify Cloud."""
    state: str | None = None
    """`claimed` or `factory_new`."""

    @classmethod
    def from_json(cls, payload: object) -> HubMeta:
        """Read `GET /hub`; InvalidResponse unless it is a hub's metadata.

        A HAN reader answers the same path with another `type`: no hub.
        """
        data = mapping(payload)
        if data.get("type") != HUB_META_DATA:
            raise InvalidResponse("/hub: not a Cozify Hub")
        hub_id = as_str(data.get("hubId"))
        version = as_str(data.get("version"))
        if hub_id is None or version is None:
            raise InvalidResponse("/hub: no hub id or version")
        return cls(
            hub_id=hub_id,
            name=as_str(data.get("name")) or hub_id,
            version=version,
            api_version=api_version(version),
            connected=as_bool(data.get("connected")),
            state=as_str(data.get("state")),
        )


@dataclass(frozen=True, slots=True)
class HubKey:
    """One hub key from `user/hubkeys`, with what its claims tell (unverified)."""

    hub_id: str
    token: str = field(repr=False)
    name: str | None = None
    """The hub's name (`hub_name` claim)."""
    role: int | None = None
    """32 admin, 8 user, 2 guest, 1 anonymous."""
    expires_at: float | None = None
    """Epoch s (`exp` claim)."""


def parse_hub_keys(payload: object) -> dict[str, HubKey]:
    """Read `user/hubkeys` (`{hub_id: hub_key}`); entries without a key are skipped.

    InvalidResponse if the answer is not a JSON object.
    """
    if not isinstance(payload, dict):
        raise InvalidResponse("user/hubkeys: not a JSON object")
    keys: dict[str, HubKey] = {}
    for hub_id, raw in payload.items():
        token = raw.strip() if isinstance(raw, str) else ""
        if not isinstance(hub_id, str) or not hub_id or not token:
            continue
        claims = _claims(token)
        keys[hub_id] = HubKey(
            hub_id=hub_id,
            token=token,
            name=as_str(claims.get("hub_name")),
            role=_integer(claims.get("role")),
            expires_at=token_expiry(token),
        )
    return keys


def hub_url(raw: str) -> str | None:
    """Turn an address, `host:port` or URL into a hub base URL `http://host:8893`.

    The port defaults to 8893 (the hub never listens on 80); https is kept if
    given; a path is dropped. None when no host name or address can be read.
    """
    url = base_url(raw, default_scheme="http") if isinstance(raw, str) else None
    if url is None:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _HOST_NAME.fullmatch(host):
            return None
    else:
        host = f"[{address}]" if address.version == 6 else str(address)
    return f"{parts.scheme}://{host}:{parts.port or HUB_PORT}"


def parse_lan_ips(payload: object) -> list[str]:
    """Read `hub/lan_ip`: bare addresses or URLs → hub base URLs, in order.

    `null` is no hub; junk entries are skipped; InvalidResponse if the answer is
    neither a list nor null.
    """
    if payload is None:
        return []
    if not isinstance(payload, list):
        raise InvalidResponse("hub/lan_ip: not a list")
    urls: list[str] = []
    for entry in payload:
        url = hub_url(entry) if isinstance(entry, str) else None
        if url is not None and url not in urls:
            urls.append(url)
    return urls


# -- devices --------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """Return a finite number; never a bool, a string or a too large integer."""
    return as_float(value) if isinstance(value, int | float) else None


def _integer(value: Any) -> int | None:
    """Return an integral number as an int."""
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def _unit(value: Any) -> float | None:
    """Return a fraction 0..1 (brightness, saturation, demand); else None."""
    number = _number(value)
    return number if number is not None and 0.0 <= number <= 1.0 else None


def _positive(value: Any) -> float | None:
    """Return a number above 0 (Kelvin); the -1 sentinel gives None."""
    number = _number(value)
    return number if number is not None and number > 0 else None


def _non_negative(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and number >= 0 else None


def _celsius(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and number >= _ABSOLUTE_ZERO else None


def _from_ms(value: Any) -> datetime | None:
    """Return an epoch-milliseconds time stamp as an aware UTC datetime."""
    number = _number(value)
    if number is None or number <= 0:
        return None
    return from_epoch_seconds(number / 1000)


def _first(*values: Any) -> Any:
    """Return the first value that is not None."""
    return next((value for value in values if value is not None), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceState:
    """A device's `state`, typed; every field None when not reported."""

    is_on: bool | None = None
    brightness: float | None = None
    """0..1."""
    color_mode: str | None = None
    """`hs` or `ct`."""
    hue: float | None = None
    """Radians."""
    saturation: float | None = None
    """0..1."""
    color_temp: float | None = None
    """Kelvin (lights only)."""
    min_color_temp: float | None = None
    max_color_temp: float | None = None
    temperature: float | None = None
    """°C (never for lights)."""
    target_temperature: float | None = None
    """°C."""
    heating_demand: float | None = None
    """0..1."""
    humidity: float | None = None
    """%."""
    lux: float | None = None
    co2: float | None = None
    """ppm."""
    battery_voltage: float | None = None
    battery_low: bool | None = None
    power: float | None = None
    """W."""
    motion: bool | None = None
    open: bool | None = None
    smoke: bool | None = None
    moisture: bool | None = None
    co: bool | None = None
    twilight: bool | None = None
    """True = dark."""
    last_seen: datetime | None = None
    last_change: datetime | None = None
    last_motion: datetime | None = None
    reachable: bool | None = None

    @classmethod
    def from_json(cls, payload: object, *, light: bool) -> DeviceState:
        """Read a `state` object; `light` decides what `temperature` means."""
        data = mapping(payload)
        temperature = data.get("temperature")
        return cls(
            is_on=as_bool(data.get("isOn")),
            brightness=_unit(data.get("brightness")),
            color_mode=as_str(data.get("colorMode")),
            hue=_non_negative(data.get("hue")),
            saturation=_unit(data.get("saturation")),
            color_temp=_positive(temperature) if light else None,
            min_color_temp=_positive(data.get("minTemperature")) if light else None,
            max_color_temp=_positive(data.get("maxTemperature")) if light else None,
            temperature=None if light else _celsius(temperature),
            target_temperature=_celsius(
                _first(_number(data.get("targetTemp")), data.get("targetTemperature"))
            ),
            heating_demand=_unit(data.get("heatingDemand")),
            humidity=_non_negative(data.get("humidity")),
            lux=_non_negative(data.get("lux")),
            co2=_non_negative(data.get("co2Ppm")),
            battery_voltage=_non_negative(data.get("batteryV")),
            battery_low=as_bool(data.get("batteryLow")),
            power=_first(_number(data.get("activePower")), _number(data.get("power"))),
            motion=as_bool(data.get("motion")),
            open=as_bool(data.get("open")),
            smoke=as_bool(data.get("alert")),
            moisture=as_bool(data.get("moisture")),
            co=as_bool(data.get("coDetected")),
            twilight=as_bool(data.get("twilight")),
            last_seen=_from_ms(data.get("lastSeen")),
            last_change=_from_ms(data.get("lastChange")),
            last_motion=_from_ms(data.get("lastMotion")),
            reachable=as_bool(data.get("reachable")),
        )


def _capabilities(value: Any) -> frozenset[str]:
    """`{"type": "SET", "values": [...]}` (or a bare list) → names."""
    values = value.get("values") if isinstance(value, dict) else value
    if not isinstance(values, list):
        return frozenset()
    return frozenset(item for item in values if isinstance(item, str) and item)


def _first_str(value: Any) -> str | None:
    """Return the first entry of a list of strings (`room`), or a string."""
    if isinstance(value, list):
        value = value[0] if value else None
    return as_str(value)


@dataclass(frozen=True, slots=True)
class CozifyDevice:
    """One device record of `GET /devices` or of a poll delta."""

    id: str
    type: str | None
    name: str
    manufacturer: str | None
    model: str | None
    room: str | None
    """The first room id."""
    capabilities: frozenset[str]
    state_type: str | None
    state: DeviceState

    @property
    def is_light(self) -> bool:
        """A light: its `temperature` is a colour temperature in Kelvin."""
        return _is_light(self.state_type, self.capabilities)

    @classmethod
    def from_json(
        cls, payload: object, *, default_id: str | None = None
    ) -> CozifyDevice:
        """Read a device record; InvalidResponse if it is no object with an id.

        `default_id` (the map key) is used when the record has no id itself.
        """
        if not isinstance(payload, dict):
            raise InvalidResponse("a device record is not a JSON object")
        device_id = as_str(payload.get("id")) or as_str(default_id)
        if device_id is None:
            raise InvalidResponse("a device record has no id")
        capabilities = _capabilities(payload.get("capabilities"))
        state = mapping(payload.get("state"))
        state_type = as_str(state.get("type"))
        return cls(
            id=device_id,
            type=as_str(payload.get("type")),
            name=as_str(payload.get("name")) or device_id,
            manufacturer=as_str(payload.get("manufacturer")),
            model=as_str(payload.get("model")),
            room=_first_str(payload.get("room")),
            capabilities=capabilities,
            state_type=state_type,
            state=DeviceState.from_json(
                state, light=_is_light(state_type, capabilities)
            ),
        )


def _is_light(state_type: str | None, capabilities: frozenset[str]) -> bool:
    if state_type is not None:
        return state_type == STATE_LIGHT
    return bool(capabilities & _LIGHT_CAPABILITIES)


def _device_or_none(key: Any, record: Any) -> CozifyDevice | None:
    try:
        return CozifyDevice.from_json(record, default_id=key)
    except InvalidResponse:
        return None


def parse_devices(payload: object) -> dict[str, CozifyDevice]:
    """Read `GET /devices` (a map id → record, or a list); bad records skipped.

    InvalidResponse if the answer is neither an object nor a list.
    """
    records: list[tuple[str | None, Any]]
    if isinstance(payload, dict):
        records = [
            (key, record) for key, record in payload.items() if isinstance(key, str)
        ]
    elif isinstance(payload, list):
        records = [(None, record) for record in payload]
    else:
        raise InvalidResponse("devices: not a JSON object")
    devices: dict[str, CozifyDevice] = {}
    for key, record in records:
        device = _device_or_none(key, record)
        if device is not None:
            devices[device.id] = device
    return devices


# -- poll -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PollDelta:
    """One `hub/poll` answer, its device deltas merged in order."""

    full: bool
    """True: `devices` is everything (replace what you know)."""
    timestamp: int
    """Hub ms: pass it as `ts` next time."""
    devices: Mapping[str, CozifyDevice | None]
    """Changed devices; None = removed (never when `full`)."""
    rooms: Mapping[str, str | None] | None = None
    """Room id → name (None = removed), if a ROOM_DELTA came."""
    scenes: Mapping[str, Scene | None] | None = None
    """Scene id → scene (None = removed), if a SCENE_DELTA came."""
    unknown_types: frozenset[str] = frozenset()
    """Delta types that were ignored."""

    def apply(self, known: Mapping[str, CozifyDevice]) -> dict[str, CozifyDevice]:
        """Return `known` with this delta applied (a full delta replaces it)."""
        return merged(known, self.devices, replace=self.full)


def merged[T](
    known: Mapping[str, T], changes: Mapping[str, T | None], *, replace: bool
) -> dict[str, T]:
    """Return `known` with a delta's changes (None = deleted) applied.

    The changes of a full poll (`replace`) are everything there is.
    """
    result = {} if replace else {k: v for k, v in known.items() if k not in changes}
    result.update({key: value for key, value in changes.items() if value is not None})
    return result


def _poll_list(payload: object) -> tuple[list[Any], dict[str, Any]]:
    """Return the deltas of a poll answer and its envelope (empty for a list)."""
    if isinstance(payload, list):
        return payload, {}
    if isinstance(payload, dict):
        polls = payload.get("polls")
        if isinstance(polls, list):
            return polls, payload
        if polls is None and payload.get("type") == POLL_DELTA:
            return [], payload
    raise InvalidResponse("hub/poll: not a poll answer")


def parse_poll(payload: object, *, since: int = 0) -> PollDelta:
    """Read `hub/poll` (the POLL_DELTA object or the bare list of its deltas).

    `since` is the `ts` the poll was sent with: without a usable `timestamp`
    (missing, 0) the newest record time stamp (or `since`) takes its place, and
    without `full` an answer to `ts=0` counts as full. Device deltas are merged
    in order; unknown delta types are recorded and ignored. InvalidResponse if
    the answer is neither.
    """
    polls, envelope = _poll_list(payload)
    full = as_bool(envelope.get("full"))
    if full is None:
        full = since <= 0
    devices: dict[str, CozifyDevice | None] = {}
    rooms: dict[str, str | None] | None = None
    scenes: dict[str, Scene | None] | None = None
    unknown: set[str] = set()
    newest = max(since, 0)
    for delta in polls:
        if not isinstance(delta, dict):
            continue
        kind = delta.get("type")
        if kind == DEVICE_DELTA:
            for key, record in mapping(delta.get("devices")).items():
                if not isinstance(key, str) or not key:
                    continue
                if record is None:
                    devices[key] = None
                    continue
                device = _device_or_none(key, record)
                if device is not None:
                    devices[device.id] = device
                    stamp = _integer(record.get("timestamp"))
                    if stamp is not None and stamp > newest:
                        newest = stamp
        elif kind == ROOM_DELTA:
            rooms = {} if rooms is None else rooms
            for key, record in mapping(delta.get("rooms")).items():
                name = _room_name(record)
                if isinstance(key, str) and (record is None or name is not None):
                    rooms[key] = name
        elif kind == SCENE_DELTA:
            scenes = {} if scenes is None else scenes
            for key, record in mapping(delta.get("scenes")).items():
                if not isinstance(key, str) or not key:
                    continue
                if record is None:
                    scenes[key] = None  # deleted
                elif (scene := _scene(key, record)) is not None:
                    scenes[key] = scene
        elif isinstance(kind, str):
            unknown.add(kind)
    timestamp = _integer(envelope.get("timestamp"))
    if full:
        devices = {key: device for key, device in devices.items() if device is not None}
    return PollDelta(
        full=full,
        timestamp=newest if timestamp is None or timestamp <= 0 else timestamp,
        devices=devices,
        rooms=rooms,
        scenes={k: v for k, v in scenes.items() if v is not None or not full}
        if scenes is not None
        else None,
        unknown_types=frozenset(unknown),
    )


# -- rooms and scenes -------------------------------------------------------------


def _room_name(record: Any) -> str | None:
    return as_str(record.get("name")) if isinstance(record, dict) else None


def _records(payload: object, what: str) -> list[tuple[str, dict[str, Any]]]:
    """(id, record) of a map id → record or of a list of records with ids."""
    if isinstance(payload, dict):
        entries = list(payload.items())
    elif isinstance(payload, list):
        entries = [(None, record) for record in payload]
    else:
        raise InvalidResponse(f"{what}: not a JSON object")
    records: list[tuple[str, dict[str, Any]]] = []
    for key, record in entries:
        if not isinstance(record, dict):
            continue
        record_id = as_str(record.get("id")) or as_str(key)
        if record_id is not None:
            records.append((record_id, record))
    return records


def parse_rooms(payload: object) -> dict[str, str]:
    """Read `GET /rooms`: room id → name; rooms without a name are skipped."""
    rooms: dict[str, str] = {}
    for room_id, record in _records(payload, "rooms"):
        name = _room_name(record)
        if name is not None:
            rooms[room_id] = name
    return rooms


@dataclass(frozen=True, slots=True)
class Scene:
    """One scene of `GET /scenes`."""

    id: str
    name: str
    is_on: bool | None = None


def _scene(scene_id: str, record: object) -> Scene | None:
    """Read one scene record; a nameless scene is named by its id."""
    if not isinstance(record, dict):
        return None
    return Scene(
        id=as_str(record.get("id")) or scene_id,
        name=as_str(record.get("name")) or scene_id,
        is_on=as_bool(record.get("isOn")),
    )


def parse_scenes(payload: object) -> dict[str, Scene]:
    """Read `GET /scenes`: scene id → scene."""
    return {
        scene_id: scene
        for scene_id, record in _records(payload, "scenes")
        if (scene := _scene(scene_id, record)) is not None
    }


# -- light units ------------------------------------------------------------------
# The hub's light units ↔ Home Assistant's, once: the light entities convert only
# through these. The hub writes brightness and saturation as 0..1 (brightness 0.0
# is the dimmest level of a light that is on), hue in radians 0..2π, colour
# temperature in Kelvin and transitions in ms; Home Assistant uses brightness
# 1..255 while on, hue in degrees 0..360, saturation 0..100 %, integral Kelvin and
# seconds. Values sent to the hub are rounded to `LIGHT_PLACES` decimals, far
# below one step of Home Assistant's scales, so round trips land on the same step.

COLOR_MODE_HS = "hs"
COLOR_MODE_CT = "ct"
LIGHT_PLACES = 4
"""Decimals of the fractions and radians sent to the hub."""
HA_BRIGHTNESS_MAX = 255
BRIGHTNESS_STEP = 1 / (HA_BRIGHTNESS_MAX - 1)
"""One step of HA's brightness (1..255) on the hub's 0..1 scale."""
SATURATION_STEP = 1 / 254
"""One level of a Zigbee light's saturation (0..254) on the hub's 0..1 scale."""
HUE_STEP = 2 * math.pi / 254
"""One level of a Zigbee light's hue (0..254 for the circle), in radians."""
MIRED_STEP = 1.0
"""One level of a light's colour temperature (the hub keeps mireds: 1e6 / K)."""
_MAX_HUE: float = math.floor(math.tau * 10.0**LIGHT_PLACES) / 10.0**LIGHT_PLACES


def _fraction(value: float) -> float:
    return min(1.0, max(0.0, value))


def brightness_to_ha(value: float) -> int:
    """Hub brightness 0..1 → HA 1..255 (a light that is on never shows 0)."""
    return 1 + round(_fraction(value) * (HA_BRIGHTNESS_MAX - 1))


def brightness_from_ha(value: float) -> float:
    """HA brightness 1..255 → hub 0..1 (255 is 1.0, 1 the dimmest level 0.0)."""
    return round(_fraction((value - 1) / (HA_BRIGHTNESS_MAX - 1)), LIGHT_PLACES)


def hue_to_ha(radians: float) -> float:
    """Hub hue in radians → HA degrees 0..360 (2π and 0 are the same red)."""
    return math.degrees(radians) % 360.0


def hue_from_ha(degrees: float) -> float:
    """HA hue in degrees → hub radians 0..2π (rounding never goes past 2π)."""
    return min(round(math.radians(degrees % 360.0), LIGHT_PLACES), _MAX_HUE)


def saturation_to_ha(value: float) -> float:
    """Hub saturation 0..1 → HA 0..100 %."""
    return _fraction(value) * 100.0


def saturation_from_ha(percent: float) -> float:
    """HA saturation 0..100 % → hub 0..1."""
    return round(_fraction(percent / 100.0), LIGHT_PLACES)


def kelvin_to_ha(kelvin: float) -> int:
    """Hub colour temperature (K, maybe fractional: the hub keeps mireds) → HA's K."""
    return round(kelvin)


def kelvin_range(low: float | None, high: float | None) -> tuple[int, int] | None:
    """Return a light's range (`minTemperature`, `maxTemperature`) in integral K.

    Rounded inwards, so any value HA picks in it is one the light has. None
    unless both ends are known and in order.
    """
    if low is None or high is None or low > high:
        return None
    lowest = math.ceil(low)
    return lowest, max(lowest, math.floor(high))


def clamp_kelvin(kelvin: float, low: int, high: int) -> int:
    """Return the colour temperature (K) nearest to `kelvin` that the light has."""
    return min(high, max(low, round(kelvin)))


def mired(kelvin: float) -> float:
    """Kelvin → mireds (the unit a light's colour temperature steps in)."""
    return 1_000_000 / kelvin


def transition_to_ms(seconds: float) -> int:
    """HA transition in seconds → the hub's `transitionMsec` (never negative)."""
    return max(0, round(seconds * 1000))


def transition_from_ms(ms: float) -> float:
    """Return the hub's `transitionMsec` in seconds."""
    return max(0.0, ms / 1000)


__all__ = [
    "HUB_PORT",
    "KNOWN_CAPABILITIES",
    "KNOWN_STATE_TYPES",
    "CozifyDevice",
    "DeviceState",
    "HubKey",
    "HubMeta",
    "PollDelta",
    "Scene",
    "api_version",
    "hub_url",
    "merged",
    "parse_devices",
    "parse_hub_keys",
    "parse_lan_ips",
    "parse_poll",
    "parse_rooms",
    "parse_scenes",
    "parse_token",
    "token_expiry",
]
