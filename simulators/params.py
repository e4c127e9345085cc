"""Helpers shared by the simulator command lines and fault checks."""

import argparse
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
import json
import math
from typing import Any


def parse_value(text: str) -> Any:
    """Return ``text`` as JSON (number, bool, null, ...) or as the plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["status=500", "mode=backwards"]`` into ``{"status": 500, ...}``."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"expected KEY=VALUE, got {pair!r}")
        params[key.strip()] = parse_value(value.strip())
    return params


def parse_fault_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``name:key=value,key=value`` into the name and its parameters."""
    name, _, rest = spec.partition(":")
    pairs = [pair for pair in rest.split(",") if pair.strip()]
    return name.strip(), parse_params(pairs)


def parse_start_faults[F](
    specs: list[str],
    parse_fault: Callable[[str], F],
    validate_params: Callable[[F, dict[str, Any]], dict[str, Any]],
) -> list[tuple[F, dict[str, Any]]]:
    """Turn ``--fault name:key=value`` options into checked (fault, params) pairs."""
    faults = []
    for spec in specs:
        name, params = parse_fault_spec(spec)
        fault = parse_fault(name)
        faults.append((fault, validate_params(fault, params)))
    return faults


def parse_fault_name[F: StrEnum](kind: type[F], name: str) -> F:
    """Return the ``kind`` member for ``http_error``, ``HTTP_ERROR`` or ``http-error``."""
    try:
        return kind(name.strip().lower().replace("-", "_"))
    except ValueError:
        known = ", ".join(fault.value for fault in kind)
        raise ValueError(f"unknown fault {name!r} (known: {known})") from None


def check_keys(
    fault: StrEnum, params: dict[str, Any], allowed: tuple[str, ...]
) -> None:
    """Raise ValueError when ``params`` has a key ``fault`` does not take."""
    unknown = set(params) - set(allowed)
    if unknown:
        raise ValueError(f"{fault.value} takes no parameter(s) {sorted(unknown)}")


def integer_param(value: object, key: str) -> int:
    """Return ``value`` when it is an integer (not a bool); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer")
    return value


def number_param(value: object, key: str, *, positive: bool = False) -> float:
    """Return a finite, not negative (``positive``: above 0) number as float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number")
    if positive and (not math.isfinite(value) or value <= 0):
        raise ValueError(f"{key} must be finite and positive")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{key} must be finite and not negative")
    return float(value)


def http_error_params(params: dict[str, Any]) -> None:
    """Fill in and check ``status`` (503, 400-599) and ``path`` (``/``) in place."""
    status = integer_param(params.setdefault("status", 503), "status")
    if not 400 <= status <= 599:
        raise ValueError("status must be between 400 and 599")
    path = params.setdefault("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError("path must be a string starting with /")


def choice_param(params: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    """Fill in ``key`` with the first choice when missing; ValueError for others."""
    value = params.setdefault(key, choices[0])
    if value not in choices:
        raise ValueError(f"{key} must be one of {', '.join(choices)}")
    return str(value)


def add_server_arguments(
    parser: argparse.ArgumentParser, *, port: int | None, faults: Iterable[StrEnum]
) -> None:
    """Add the options every simulator has: where to listen, faults at start.

    ``port`` None leaves ``--port`` out (a device with several listeners adds
    its own port options).
    """
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    if port is not None:
        parser.add_argument("--port", type=int, default=port, help="TCP port (0: any)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[:KEY=VALUE,...]",
        help="fault to switch on at start, repeatable; one of: "
        + ", ".join(fault.value for fault in faults),
    )


def check_durations(
    positive: Mapping[str, float], not_negative: Mapping[str, float] | None = None
) -> None:
    """Raise ValueError unless each number is finite and > 0 (or >= 0)."""
    for name, number in positive.items():
        if not math.isfinite(number) or number <= 0:
            raise ValueError(f"{name} must be finite and positive")
    for name, number in (not_negative or {}).items():
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{name} must be finite and not negative")


SHARED_FAULT_KEYS: Mapping[str, tuple[str, ...]] = {
    "http_error": ("status", "path"),
    "slow_response": ("seconds",),
    "glitch_counter": ("mode", "amount"),
}
"""Parameters of the faults every simulator with a REST API has."""
GLITCH_MODES = ("zero", "backwards")
"""Modes of `glitch_counter`: the counter reads 0, or `amount` below the last value."""


def shared_fault_params(
    fault: StrEnum,
    params: dict[str, Any],
    *,
    glitch_amount: float,
    whole_amount: bool = False,
) -> dict[str, Any] | None:
    """Check a shared fault's parameters; None when `fault` is not a shared one.

    Returns them with defaults filled in (`glitch_amount` for a glitch, as a
    whole number with `whole_amount`); ValueError for unknown keys or bad values.
    """
    keys = SHARED_FAULT_KEYS.get(fault.value)
    if keys is None:
        return None
    check_keys(fault, params, keys)
    result = dict(params)
    if fault.value == "http_error":
        http_error_params(result)
    elif fault.value == "slow_response":
        result["seconds"] = number_param(result.setdefault("seconds", 2.0), "seconds")
    else:
        choice_param(result, "mode", GLITCH_MODES)
        amount = number_param(
            result.setdefault("amount", glitch_amount), "amount", positive=True
        )
        result["amount"] = int(amount) if whole_amount else amount
    return result
