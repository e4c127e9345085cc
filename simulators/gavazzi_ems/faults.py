"""Fault switches of the Carlo Gavazzi EMS simulator."""

from enum import StrEnum
from typing import Any

from ..params import (
    check_keys,
    integer_param,
    parse_fault_name,
    shared_fault_params,
)


class EmsFault(StrEnum):
    """Faults that can be switched on in a running simulator.

    The value is the name used on the command line and in ``/_sim/fault/{name}``.
    """

    EXPIRE_TOKENS = "expire_tokens"
    """Every token, old or new, is rejected as expired (401) while on."""
    HTTP_ERROR = "http_error"
    """API calls whose path starts with ``path`` (default ``/``) answer ``status`` (503)."""
    SLOW_RESPONSE = "slow_response"
    """API answers are delayed by ``seconds`` (default 2.0)."""
    DEVICE_APPEARS = "device_appears"
    """A new EM24 (Modbus TCP) with its load and signals appears; gone when cleared."""
    DEVICE_DISAPPEARS = "device_disappears"
    """Device ``uid`` (default 30) with its loads and signals vanishes until cleared."""
    MALFORMED_VALUES = "malformed_values"
    """Realtime ``v`` values are garbage strings, null or NaN-like strings."""
    UNAUTHORIZED_ONCE = "unauthorized_once"
    """One-shot: the next request with a valid token answers 401 ``token expired``."""
    MALFORMED_JSON = "malformed_json"
    """Realtime answers are a 200 ``application/json`` body that is not valid JSON."""
    TRUNCATED_BODY = "truncated_body"
    """Realtime answers announce the full Content-Length, send half, then hang up."""
    EXTRA_FIELDS = "extra_fields"
    """Answers carry unknown keys (top level and records), realtime an unknown uid."""
    NUMBERS_AS_STRINGS = "numbers_as_strings"
    """Realtime ``v`` and ``t`` are sent as JSON strings (``"1234.5"``)."""
    MISSING_FIELD = "missing_field"
    """Realtime records of counters and of one power signal have no ``v`` key."""
    GLITCH_COUNTER = "glitch_counter"
    """One-shot: the next realtime answer with counters has them 0 or lower."""


def parse_fault(name: str) -> EmsFault:
    """Return the fault for a name such as ``http_error``, ``HTTP_ERROR`` or ``http-error``."""
    return parse_fault_name(EmsFault, name)


def validate_params(fault: EmsFault, params: dict[str, Any]) -> dict[str, Any]:
    """Check the parameters of a fault and return them with defaults filled in.

    Raises ValueError with a readable message for unknown keys or bad values.
    """
    result = shared_fault_params(fault, params, glitch_amount=5.0)
    if result is not None:
        return result
    allowed: dict[EmsFault, tuple[str, ...]] = {
        EmsFault.DEVICE_APPEARS: ("label",),
        EmsFault.DEVICE_DISAPPEARS: ("uid",),
    }
    check_keys(fault, params, allowed.get(fault, ()))
    result = dict(params)
    if fault is EmsFault.DEVICE_APPEARS:
        label = result.setdefault("label", "EM3")
        if not isinstance(label, str) or not label:
            raise ValueError("label must be a non-empty string")
    elif fault is EmsFault.DEVICE_DISAPPEARS:
        integer_param(result.setdefault("uid", 30), "uid")
    return result
