"""Configuration defaults, validation and the definitions list of the HAN reader."""

import copy
import ipaddress
import math
from typing import Any

CURRENCIES = (
    "EUR",
    "SEK",
    "NOK",
    "DKK",
    "GBP",
    "PLN",
    "CZK",
    "HUF",
    "RON",
    "BGN",
    "CHF",
    "ISK",
)
PRICE_AREAS = ("FI", "EE", "SE1", "SE2", "SE3", "SE4")
NETWORK_POLICIES = ("auto", "eth", "sta", "eth_sta")
UPDATE_POLICIES = ("automatic", "download", "manual")
TIMEZONES = (
    "UTC",
    "Europe/Helsinki",
    "Europe/Tallinn",
    "Europe/Riga",
    "Europe/Vilnius",
    "Europe/Stockholm",
    "Europe/Oslo",
    "Europe/Copenhagen",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Paris",
    "Europe/London",
    "Europe/Warsaw",
    "Europe/Prague",
    "Europe/Budapest",
    "Europe/Bucharest",
    "Europe/Sofia",
    "Europe/Zurich",
    "Atlantic/Reykjavik",
)
PASSWORD_MASK = "***"  # noqa: S105 - the read-back mask, not a secret
# changing these needs a restart of the network stack on the device
REBOOT_KEYS = frozenset({"np", "e", "w"})


class ConfigError(ValueError):
    """A configuration or setup request was rejected (HTTP 400)."""


def default_configuration(version: str) -> dict[str, Any]:
    """Return the factory configuration; ``w.p`` holds the real (unmasked) password."""
    return {
        "v": version,
        "t": "Europe/Helsinki",
        "s": True,
        "p": 0,
        "pc": "EUR",
        "pa": "FI",
        "np": "auto",
        "up": "download",
        "bhf": True,
        "m": {"f": 25, "t": "", "c": 0},
        "e": {"e": True, "n": _default_network()},
        # a password stored from an earlier setup, so it reads back as "***"
        # like in the vendor sample
        "w": {
            "e": False,
            "s": "",
            "p": "factory-wifi-key",
            "n": _default_network(),
            "z": 0,
            "b": False,
        },
    }


def _default_network() -> dict[str, Any]:
    return {"m": "dhcp", "ip": "", "gw": "", "sn": "", "dns": ""}


def definitions() -> dict[str, Any]:
    """Return the ``HAN_DEFINITIONS`` message."""
    return {
        "type": "HAN_DEFINITIONS",
        "currencies": list(CURRENCIES),
        "priceAreas": list(PRICE_AREAS),
        "timezones": list(TIMEZONES),
    }


def masked(config: dict[str, Any]) -> dict[str, Any]:
    """Return a copy with the WiFi password replaced by ``***`` when one is set."""
    result = copy.deepcopy(config)
    wifi = result.get("w")
    if isinstance(wifi, dict) and wifi.get("p"):
        wifi["p"] = PASSWORD_MASK
    return result


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``patch`` merged in recursively (neither is modified)."""
    result = copy.deepcopy(base)
    for key, value in patch.items():
        current = result.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            result[key] = deep_merge(current, value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _check_keys(
    section: str, value: object, allowed: tuple[str, ...]
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{section} must be an object")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown key(s) in {section}: {', '.join(unknown)}")
    return value


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be a boolean")
    return value


def _int(key: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key} must be an integer")
    if not low <= value <= high:
        raise ConfigError(f"{key} must be between {low} and {high}")
    return value


def _enum(key: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(allowed)}")
    assert isinstance(value, str)
    return value


def _string(key: str, value: object, max_length: int) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string")
    if len(value.encode()) > max_length:
        raise ConfigError(f"{key} is longer than {max_length} bytes")
    return value


def _network_patch(section: str, value: object) -> dict[str, Any]:
    patch = _check_keys(section, value, ("m", "ip", "gw", "sn", "dns"))
    for key, item in patch.items():
        name = f"{section}.{key}"
        if key == "m":
            _enum(name, item, ("dhcp", "static"))
        else:
            text = _string(name, item, 15)
            if text:
                try:
                    ipaddress.IPv4Address(text)
                except ValueError:
                    raise ConfigError(f"{name} is not an IPv4 address") from None
    return patch


def _check_static(section: str, network: object) -> None:
    # a static setup without address or netmask would make the device unreachable
    if isinstance(network, dict) and network.get("m") == "static":
        for key in ("ip", "sn"):
            if not network.get(key):
                raise ConfigError(f"{section}.{key} is required for a static network")


def validate_update(
    current: dict[str, Any], patch: object
) -> tuple[dict[str, Any], set[str]]:
    """Validate a partial ``POST /configuration`` body.

    Returns the merged configuration and the top-level keys whose value changed.
    A WiFi password of ``***`` (the read-back mask) is ignored, never stored.
    Raises ConfigError on invalid input; nothing is applied then.
    """
    body = _check_keys(
        "configuration",
        patch,
        ("type", "v", "t", "s", "p", "pc", "pa", "np", "up", "bhf", "m", "e", "w"),
    )
    clean: dict[str, Any] = {}
    for key, value in body.items():
        if key == "type":
            # a client echoing the GET body back is tolerated
            continue
        if key == "v":
            if value != current.get("v"):
                raise ConfigError("v (firmware version) is read-only")
            continue
        if key == "t":
            clean[key] = _enum("t", value, TIMEZONES)
        elif key in ("s", "bhf"):
            clean[key] = _bool(key, value)
        elif key == "p":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError("p must be a number")
            if not math.isfinite(value) or value < 0:
                raise ConfigError("p must be a finite number >= 0")
            clean[key] = value
        elif key == "pc":
            clean[key] = _enum("pc", value, CURRENCIES)
        elif key == "pa":
            clean[key] = _enum("pa", value, PRICE_AREAS)
        elif key == "np":
            clean[key] = _enum("np", value, NETWORK_POLICIES)
        elif key == "up":
            clean[key] = _enum("up", value, UPDATE_POLICIES)
        elif key == "m":
            clean[key] = _meter_patch(value)
        elif key == "e":
            clean[key] = _ethernet_patch(value)
        else:
            clean[key] = _wifi_patch(value)
    merged = deep_merge(current, clean)
    _check_static("e.n", merged["e"].get("n"))
    _check_static("w.n", merged["w"].get("n"))
    changed = {key for key in clean if merged.get(key) != current.get(key)}
    return merged, changed


def _meter_patch(value: object) -> dict[str, Any]:
    patch = _check_keys("m", value, ("f", "t", "c"))
    if "f" in patch:
        _int("m.f", patch["f"], 1, 1000)
    if "t" in patch and patch["t"] != "":
        _enum("m.t", patch["t"], TIMEZONES)
    if "c" in patch:
        _int("m.c", patch["c"], -86400, 86400)
    return dict(patch)


def _ethernet_patch(value: object) -> dict[str, Any]:
    patch = dict(_check_keys("e", value, ("e", "n")))
    if "e" in patch:
        _bool("e.e", patch["e"])
    if "n" in patch:
        patch["n"] = _network_patch("e.n", patch["n"])
    return patch


def _wifi_patch(value: object) -> dict[str, Any]:
    patch = dict(_check_keys("w", value, ("e", "s", "p", "n", "z", "b")))
    for key in ("e", "b"):
        if key in patch:
            _bool(f"w.{key}", patch[key])
    if "s" in patch:
        _string("w.s", patch["s"], 32)
    if "p" in patch:
        _string("w.p", patch["p"], 64)
        if patch["p"] == PASSWORD_MASK:
            del patch["p"]
    if "n" in patch:
        patch["n"] = _network_patch("w.n", patch["n"])
    if "z" in patch:
        _int("w.z", patch["z"], 0, 14)
    return patch


def validate_setup(config: dict[str, Any], body: object) -> dict[str, Any]:
    """Validate a ``POST /setup`` body and return the configuration with WiFi set up."""
    setup = _check_keys("setup", body, ("s", "ss", "sp"))
    for key in ("s", "ss", "sp"):
        if key not in setup:
            raise ConfigError(f"{key} is required")
    if setup["s"] is not True:
        raise ConfigError("s must be true")
    ssid = _string("ss", setup["ss"], 32)
    if not ssid:
        raise ConfigError("ss must not be empty")
    password = _string("sp", setup["sp"], 64)
    wifi: dict[str, Any] = {"e": True, "s": ssid}
    if password != PASSWORD_MASK:
        wifi["p"] = password
    return deep_merge(config, {"w": wifi})
