"""The simulated homes behind the hubs, and how their devices behave.

Hub 0 "Koti" is a full Finnish flat: one device of every kind the integration
maps, one with an unknown capability and one that is unreachable. Hub 1
"Mökki" (the summer cottage) has a multisensor, a light and a socket. Ids are
fixed: device ``n`` of hub ``h`` is ``c0{h:02x}{n:04x}-9857-4f57-ad53-bc9cbe667c35``.
"""

from dataclasses import dataclass
import math
import random
from typing import Any

type Record = dict[str, Any]

HOUR_MS = 3_600_000
READ_ONLY = frozenset(
    {"type", "lastSeen", "reachable", "minTemperature", "maxTemperature"}
)
"""State keys a CMD_DEVICE never changes (``transitionMsec`` is write-only, too)."""
TARGET_RANGE = (5.0, 30.0)
"""Target temperatures (°C) a thermostat accepts; others are clamped."""
TARGET_KEYS = ("targetTemp", "targetTemperature")
"""A thermostat's target in a CMD_DEVICE state (both accepted)."""
NUMBERS = frozenset(
    {"brightness", "hue", "saturation", "temperature", "transitionMsec", *TARGET_KEYS}
)
"""Command keys whose value must be a number."""
LIGHT_COLOURS = {
    "hue": "COLOR_HS",
    "saturation": "COLOR_HS",
    "temperature": "COLOR_TEMP",
}
"""Light keys a command may change only with the device's capability."""


@dataclass(slots=True)
class Home:
    """What a hub knows at boot."""

    hub_id: str
    name: str
    rooms: dict[str, Record]
    scenes: dict[str, Record]
    devices: dict[str, Record]
    scene_states: dict[str, dict[str, Record]]
    """Scene id -> device id -> the (partial) state the scene sets."""


def hub_id(hub: int) -> str:
    """Return the fixed id of hub ``hub``."""
    return f"c0f1{hub:04x}-4b3a-4c1e-9e8f-2d5b7a1c6e90"


def device_id(hub: int, number: int) -> str:
    """Return the fixed id of device ``number`` of hub ``hub``."""
    return f"c0{hub:02x}{number:04x}-9857-4f57-ad53-bc9cbe667c35"


def _room_id(hub: int, number: int) -> str:
    return f"a0{hub:02x}{number:04x}-1e6c-4b1f-8d1a-7f0c5e2b9d40"


def _light(mode: str | None, kelvin: tuple[float, float] | None = None) -> Record:
    """Return a STATE_LIGHT: ``mode`` ct, hs, dim (brightness only) or None (on/off)."""
    state: Record = {"type": "STATE_LIGHT", "isOn": True}
    if mode is None:
        return state
    state["brightness"] = 0.62
    if mode == "dim":
        return state
    low, high = kelvin or (2202.64, 4000.0)
    state.update(
        colorMode=mode,
        hue=1.05 if mode == "hs" else -1,
        saturation=0.8 if mode == "hs" else -1,
        temperature=2702.7 if mode == "ct" else -1,
        minTemperature=low,
        maxTemperature=high,
        transitionMsec=None,
    )
    return state


def _battery(volts: float) -> Record:
    return {"batteryV": volts, "batteryLow": volts < 2.5}


type Row = tuple[str, str, int, list[str], Record, str, str]
"""(name, type, room number, capabilities, state, manufacturer, model)."""

_KOTI_ROOMS: tuple[str, ...] = (
    "Olohuone",
    "Keittiö",
    "Makuuhuone",
    "Eteinen",
    "Kylpyhuone",
)


def _koti(now: int) -> list[Row]:
    """Return the devices of Koti."""
    light = ["ON_OFF", "BRIGHTNESS"]
    sensor = ["TEMPERATURE", "HUMIDITY", "BATTERY_U"]
    return [
        ("Olohuoneen kattovalo", "LIGHT", 1, [*light, "COLOR_TEMP"], _light("ct"),
         "IKEA of Sweden", "TRADFRI bulb E27 WS opal 980lm"),
        ("Olohuoneen värivalo", "LIGHT", 1, [*light, "COLOR_HS", "COLOR_TEMP"],
         _light("hs", (2000.0, 6535.0)), "Philips", "LCT015"),
        ("Keittiön työtasovalo", "LIGHT", 2, light, _light("dim"), "innr", "RS 225"),
        ("Eteisen valo", "LIGHT", 4, ["ON_OFF"], _light(None), "Sunricher", "ZG9101SAC"),
        ("Kahvinkeitin", "POWER_SOCKET", 2, ["ON_OFF", "ACTIVE_POWER", "MEASURE_POWER"],
         {"type": "STATE_SOCKET", "isOn": True, "activePower": 1180.0,
          "lastChange": now - HOUR_MS // 6}, "Develco", "SPLZB-131"),
        ("Joulukuusi", "POWER_SOCKET", 1, ["ON_OFF"],
         {"type": "STATE_SOCKET", "isOn": False, "lastChange": now - 9 * HOUR_MS},
         "IKEA of Sweden", "TRADFRI control outlet"),
        ("Olohuoneen lämpötila", "MULTI_SENSOR", 1, sensor,
         {"type": "STATE_MULTI_SENSOR", "temperature": 21.4, "humidity": 38.0,
          **_battery(2.95)}, "Develco", "HMSZB-110"),
        ("Kylpyhuoneen kosteus", "MULTI_SENSOR", 5, sensor,
         {"type": "STATE_MULTI_SENSOR", "temperature": 23.9, "humidity": 61.5,
          **_battery(2.41)}, "Xiaomi", "lumi.weather"),
        ("Eteisen liiketunnistin", "MOTION", 4, ["MOTION", "TEMPERATURE", "LUX", "BATTERY_U"],
         {"type": "STATE_MOTION", "motion": False, "lastMotion": now - 420_000,
          "temperature": 20.1, "lux": 85.0, **_battery(2.88)}, "Philips", "SML001"),
        ("Ulko-ovi", "CONTACT", 4, ["CONTACT", "BATTERY_U"],
         {"type": "STATE_CONTACT", "open": False, "lastChange": now - 2 * HOUR_MS,
          **_battery(3.01)}, "Develco", "WISZB-120"),
        ("Palovaroitin", "SMOKE_DETECTOR", 1, ["SMOKE", "BATTERY_U"],
         {"type": "STATE_SMOKE_ALARM", "alert": False, "alertStartAt": None,
          "alertAt": None, **_battery(2.98)}, "Develco", "SMSZB-120"),
        ("Tiskikoneen vuotovahti", "MOISTURE", 2, ["MOISTURE"],
         {"type": "STATE_MOISTURE", "moisture": False, "moistureAt": None},
         "Develco", "FLSZB-110"),
        ("Häkävaroitin", "CO_DETECTOR", 2, ["CO"],
         {"type": "STATE_CO_SENSOR", "coDetected": False, "coStartAt": None,
          "coAt": None}, "Heiman", "COSensor-EM"),
        ("Makuuhuoneen ilmanlaatu", "CO2_SENSOR", 3, ["CO2", "TEMPERATURE", "HUMIDITY"],
         {"type": "STATE_CO2_SENSOR", "co2Ppm": 720.0, "temperature": 20.6,
          "humidity": 41.0}, "Develco", "AQSZB-110"),
        ("Valoisuusanturi", "LUX_SENSOR", 1, ["LUX"],
         {"type": "STATE_MULTI_SENSOR", "lux": 140.0}, "Xiaomi", "lumi.sen_ill"),
        ("Hämäräkytkin", "TWILIGHT", 4, ["TWILIGHT"],
         {"type": "STATE_TWILIGHT", "twilight": False, "twilightStart": now - 10 * HOUR_MS,
          "twilightStop": now - 2 * HOUR_MS}, "Cozify", "Twilight"),
        ("Makuuhuoneen termostaatti", "THERMOSTAT", 3, ["TEMPERATURE", "BATTERY_U"],
         {"type": "STATE_THERMOSTAT", "temperature": 19.8, "targetTemp": 21.0,
          "heatingDemand": 0.6, **_battery(2.9)}, "Danfoss", "eTRV0100"),
        ("Lattialämmitys", "POWER_SOCKET", 5, ["ON_OFF", "ENERGY_SAVING_MODE"],
         {"type": "STATE_SOCKET", "isOn": True, "energySavingMode": False,
          "lastChange": now - 30 * HOUR_MS}, "Ensto", "ECO16BT"),
        ("Yöpöydän valo", "LIGHT", 3, [*light, "COLOR_TEMP"],
         {**_light("ct"), "isOn": False}, "IKEA of Sweden", "TRADFRI bulb E14 WS 470lm"),
    ]  # fmt: skip


def _mokki(now: int) -> list[Row]:
    """Return the devices of Mökki."""
    return [
        ("Mökin lämpötila", "MULTI_SENSOR", 1, ["TEMPERATURE", "HUMIDITY", "BATTERY_U"],
         {"type": "STATE_MULTI_SENSOR", "temperature": 12.3, "humidity": 55.0,
          **_battery(2.8)}, "Develco", "HMSZB-110"),
        ("Terassin valo", "LIGHT", 2, ["ON_OFF", "BRIGHTNESS"], _light("dim"),
         "innr", "OPL 130 C"),
        ("Lämpöpatteri", "POWER_SOCKET", 1, ["ON_OFF", "ACTIVE_POWER", "MEASURE_POWER"],
         {"type": "STATE_SOCKET", "isOn": True, "activePower": 790.0,
          "lastChange": now - 5 * HOUR_MS}, "Develco", "SPLZB-131"),
    ]  # fmt: skip


_KOTI_LIGHTS = (
    "Olohuoneen kattovalo",
    "Olohuoneen värivalo",
    "Keittiön työtasovalo",
    "Eteisen valo",
    "Yöpöydän valo",
)
_EVENING = {"isOn": True, "brightness": 0.3, "temperature": 2700.0}
_BLUE = {"isOn": True, "brightness": 0.4, "hue": round(math.radians(240), 4),
         "saturation": 1.0}  # fmt: skip
SCENES: dict[str, dict[str, dict[str, Record]]] = {
    "Koti": {
        "Ilta": {"Olohuoneen kattovalo": _EVENING, "Olohuoneen värivalo": _EVENING},
        "Poissa": {
            **{name: {"isOn": False} for name in _KOTI_LIGHTS},
            "Joulukuusi": {"isOn": False},
        },
        "Elokuvailta": {
            **{name: {"isOn": False} for name in _KOTI_LIGHTS},
            "Olohuoneen värivalo": _BLUE,
        },
    },
    "Mökki": {
        "Saapuminen": {
            "Terassin valo": {"isOn": True, "brightness": 1.0},
            "Lämpöpatteri": {"isOn": True},
        }
    },
}
"""Home name -> scene name -> device name -> the state the scene sets when on.

Ilta dims the living-room lights to 30 % warm white (2700 K); Poissa turns
every light and the Christmas tree off; Elokuvailta leaves the HS light blue
and the other lights off; Mökki's Saapuminen lights the terrace and heats.
"""

ON_POWER = {"Kahvinkeitin": 1180.0, "Lämpöpatteri": 790.0}
"""Watts a metered socket draws while on."""
UNREACHABLE = frozenset({"Yöpöydän valo"})
"""Devices that are unreachable at boot (last seen three hours earlier)."""


def build(hub: int, now: int) -> Home:
    """Build the home of hub ``hub`` (0 Koti, others Mökki) at hub time ``now`` (ms)."""
    if hub == 0:
        name, room_names, rows = "Koti", _KOTI_ROOMS, _koti(now)
        scene_names: tuple[str, ...] = ("Ilta", "Poissa", "Elokuvailta")
    else:
        name, room_names, rows = "Mökki", ("Tupa", "Terassi"), _mokki(now)
        scene_names = ("Saapuminen",)
    rooms = {
        _room_id(hub, n): {"id": _room_id(hub, n), "name": room, "order": n}
        for n, room in enumerate(room_names, start=1)
    }
    ids = {row[0]: device_id(hub, n) for n, row in enumerate(rows, 1)}
    scenes: dict[str, Record] = {}
    scene_states: dict[str, dict[str, Record]] = {}
    for n, scene in enumerate(scene_names, start=1):
        ident = f"5c{hub:02x}{n:04x}-77a2-4d0e-b5f1-3e9a0c8d2f61"
        scenes[ident] = {"id": ident, "name": scene, "isOn": False, "room": []}
        scene_states[ident] = {
            ids[device]: dict(state) for device, state in SCENES[name][scene].items()
        }
    devices = {}
    for n, (dev_name, kind, room, caps, state, maker, model) in enumerate(rows, 1):
        ident = device_id(hub, n)
        reachable = dev_name not in UNREACHABLE
        devices[ident] = {
            "id": ident,
            "type": kind,
            "name": dev_name,
            "manufacturer": maker,
            "model": model,
            "room": [_room_id(hub, room)],
            "groups": [],
            "capabilities": {"type": "SET", "values": [*caps, "DEVICE"]},
            "timestamp": 0,
            "state": {
                **state,
                "lastSeen": now - (n * 7_000 if reachable else 3 * HOUR_MS),
                "reachable": reachable,
            },
        }
    return Home(hub_id(hub), name, rooms, scenes, devices, scene_states)


def target_key(state: Record) -> str:
    """Return the key a thermostat's state keeps its target in."""
    return (
        "targetTemperature"
        if "targetTemp" not in state and ("targetTemperature" in state)
        else "targetTemp"
    )


def heating_demand(temperature: float, target: float) -> float:
    """Return a thermostat's heating demand (0-1): above 0 while below target."""
    if temperature >= target:
        return 0.0
    return round(min(1.0, max(0.01, (target - temperature) / 2)), 2)


WRITABLE: dict[str, frozenset[str]] = {
    "STATE_LIGHT": frozenset(
        {"isOn", "brightness", "colorMode", "hue", "saturation", "temperature"}
    ),
    "STATE_SOCKET": frozenset({"isOn", "energySavingMode"}),
    "STATE_THERMOSTAT": frozenset({"isOn", *TARGET_KEYS}),
    **dict.fromkeys(
        ("STATE_MULTI_SENSOR", "STATE_MOTION", "STATE_CONTACT", "STATE_SMOKE_ALARM",
         "STATE_MOISTURE", "STATE_CO_SENSOR", "STATE_CO2_SENSOR", "STATE_TWILIGHT"),
        frozenset[str](),
    ),
}  # fmt: skip
"""Keys a CMD_DEVICE may change, by state type (other types: any key they have)."""


def _writable(record: Record, key: str) -> bool:
    """Whether a CMD_DEVICE may change ``key`` of the device."""
    state = record["state"]
    kind = state.get("type")
    if key in READ_ONLY:
        return False
    if kind == "STATE_LIGHT" and key == "transitionMsec":
        return True  # write-only: asked for, never stored
    keys = WRITABLE.get(kind) if isinstance(kind, str) else None
    if keys is None:
        return key in state
    if key not in keys:
        return False
    if kind == "STATE_LIGHT" and key in LIGHT_COLOURS:
        capabilities = record.get("capabilities")
        values = capabilities.get("values") if isinstance(capabilities, dict) else None
        if isinstance(values, list):
            return LIGHT_COLOURS[key] in values
        return key in state  # a record without capabilities: what its state has
    if kind == "STATE_THERMOSTAT" and key in TARGET_KEYS:
        return True
    return key == "isOn" or key in state


def command_problem(record: Record, wanted: Record, *, strict: bool) -> str | None:
    """Return why a hub refuses (400) a CMD_DEVICE ``wanted`` state, or None.

    Always refused: a ``type`` other than the device's state type, a value of
    the wrong kind. With ``strict``: read-only keys (``lastSeen``, ...) and
    keys the device does not have; otherwise those are ignored.
    """
    kind = wanted.get("type")
    own = record["state"].get("type")
    if kind is not None and kind != own:
        return f"state type {kind} does not match the device ({own})"
    for key, value in wanted.items():
        if value is None:
            continue
        if key in NUMBERS and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return f"{key} must be a number"
        if key == "isOn" and not isinstance(value, bool):
            return "isOn must be true or false"
        if strict and key != "type" and key in READ_ONLY:
            return f"read-only key: {key}"
        if strict and key != "type" and not _writable(record, key):
            return f"unsupported key: {key}"
    transition = wanted.get("transitionMsec")
    if (
        strict
        and transition is not None
        and (not isinstance(transition, int) or transition < 0)
    ):
        return "transitionMsec must be a whole number of milliseconds, not negative"
    return None


def command_effect(record: Record, wanted: Record, now: int) -> Record:
    """Return the state change a command's ``wanted`` state makes on the device.

    ``null`` values, read-only keys and keys the device has not got are left
    out; ``transitionMsec`` is write-only. Light colours switch the colour mode
    (the other mode's fields read -1) and are clamped; a socket's
    ``lastChange`` and power follow ``isOn``; a thermostat's target
    (``targetTemp`` or ``targetTemperature``) is clamped to 5-30 °C, kept
    under the key its state uses, and its heating demand follows.
    """
    state = record["state"]
    change = {
        k: v
        for k, v in wanted.items()
        if v is not None and _writable(record, k) and k != "colorMode"
    }
    change.pop("transitionMsec", None)
    kind = state.get("type")
    if kind == "STATE_LIGHT":
        if "brightness" in change:
            change["brightness"] = min(1.0, max(0.0, float(change["brightness"])))
        if "hue" in change or "saturation" in change:
            change.update(colorMode="hs", temperature=-1)
            change.setdefault("hue", max(0.0, state.get("hue", 0.0)))
            change.setdefault("saturation", max(0.0, state.get("saturation", 0.0)))
            change["hue"] = float(change["hue"]) % (2 * math.pi)
            change["saturation"] = min(1.0, max(0.0, float(change["saturation"])))
        elif "temperature" in change and "minTemperature" in state:
            low, high = state["minTemperature"], state["maxTemperature"]
            kelvin = min(high, max(low, float(change["temperature"])))
            change.update(colorMode="ct", temperature=kelvin, hue=-1, saturation=-1)
    elif kind == "STATE_THERMOSTAT":
        asked = [change.pop(key) for key in TARGET_KEYS if key in change]
        if asked:
            low, high = TARGET_RANGE
            target = round(min(high, max(low, float(asked[0]))), 1)
            change[target_key(state)] = target
            if isinstance(state.get("temperature"), int | float):
                demand = heating_demand(state["temperature"], target)
                change["heatingDemand"] = demand
    elif kind == "STATE_SOCKET" and change.get("isOn", state["isOn"]) != state["isOn"]:
        change["lastChange"] = now
        if "activePower" in state:
            change["activePower"] = ON_POWER.get(record["name"], 100.0) * change["isOn"]
    return change


def drift(record: Record, rng: random.Random, now: int) -> Record:
    """Return a plausible change of a reachable device (maybe none)."""
    state = record["state"]
    if not state.get("reachable", False):
        return {}
    change: Record = {}

    def walk(key: str, step: float, low: float, high: float, digits: int = 1) -> None:
        if key in state and isinstance(state[key], float) and rng.random() < 0.5:
            value = min(high, max(low, state[key] + rng.uniform(-step, step)))
            if round(value, digits) != state[key]:
                change[key] = round(value, digits)

    kind = state["type"]
    if kind == "STATE_THERMOSTAT":
        target = state[target_key(state)]
        temperature = state["temperature"] + (target - state["temperature"]) * 0.25
        change["temperature"] = round(temperature + rng.uniform(-0.05, 0.05), 1)
        change["heatingDemand"] = heating_demand(change["temperature"], target)
    elif kind != "STATE_LIGHT":
        walk("temperature", 0.15, 5.0, 30.0)
        walk("humidity", 0.8, 15.0, 95.0)
        walk("co2Ppm", 40.0, 400.0, 1600.0, 0)
    if "lux" in state:
        hour = (now / HOUR_MS + 2) % 24  # Helsinki, winter time
        daylight = (
            max(0.0, math.sin(math.pi * (hour - 6) / 14)) if 6 <= hour <= 20 else 0.0
        )
        change["lux"] = float(round(3 + 400 * daylight * rng.uniform(0.8, 1.2)))
    if kind == "STATE_TWILIGHT":
        hour = (now / HOUR_MS + 2) % 24
        dark = not 8 <= hour < 16
        if dark != state["twilight"]:
            change.update(
                twilight=dark, **{"twilightStart" if dark else "twilightStop": now}
            )
    elif kind == "STATE_MOTION" and rng.random() < 0.25:
        change["motion"] = not state["motion"]
        if change["motion"]:
            change["lastMotion"] = now
    elif kind == "STATE_CONTACT" and rng.random() < 0.1:
        change.update(open=not state["open"], lastChange=now)
    elif kind == "STATE_SOCKET" and state.get("isOn") and "activePower" in state:
        nominal = ON_POWER.get(record["name"], 100.0)
        change["activePower"] = round(nominal * rng.uniform(0.97, 1.03), 1)
    if "batteryV" in state and rng.random() < 0.02:
        volts = round(state["batteryV"] - 0.01, 2)
        change.update(batteryV=volts, batteryLow=volts < 2.5)
    return {key: value for key, value in change.items() if state.get(key) != value}
