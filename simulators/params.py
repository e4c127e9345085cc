"""Helpers shared by the simulator command lines."""

from collections.abc import Callable
import json
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
