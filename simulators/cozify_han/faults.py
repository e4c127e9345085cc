"""Fault switches of the Cozify HAN simulator."""

from enum import StrEnum
import math
from typing import Any

from ..params import GLITCH_MODES


class HanFault(StrEnum):
    """Faults that can be switched on in a running simulator.

    The value is the name used on the command line and in ``/_sim/fault/{name}``.
    """

    REFUSE_WEBSOCKET = "refuse_websocket"
    """``/ws`` answers 404 instead of upgrading."""
    REFUSE_SSE = "refuse_sse"
    """``/sse`` and ``/events`` answer 404."""
    SSE_EVENTS_ONLY = "sse_events_only"
    """``/sse`` answers 404 but ``/events`` works (exercises the fallback)."""
    STALL_STREAM = "stall_stream"
    """Streams stay open but nothing at all is sent until cleared."""
    HTTP_ERROR = "http_error"
    """Every REST call and stream upgrade answers ``status`` (default 503)."""
    GLITCH_COUNTER = "glitch_counter"
    """One-shot: the next meter reading has a bad counter (``mode`` zero/backwards)."""
    SLOW_RESPONSE = "slow_response"
    """REST answers are delayed by ``seconds`` (default 2.0)."""
    HISTORY_GAP = "history_gap"
    """History has no buckets overlapping [``start``, ``end``) (epoch s): the reader was off."""
    EXPIRED_TOKEN = "expired_token"  # noqa: S105 - a fault name
    """One-shot: the next ``/auth/token`` hands out a token that has already expired."""
    TOKEN_SCOPE = "token_scope"  # noqa: S105 - a fault name
    """``/auth/token`` hands out tokens with scope ``ota:read`` (uploads get 403)."""
    OTA_FAIL = "ota_fail"
    """One-shot: the next download or upload fails validation (``invalid_firmware``)."""
    NO_OTA_ENDPOINT = "no_ota_endpoint"
    """``POST /ota`` answers 404, as on readers with only the legacy ``/update``."""
    EXTRA_FIELDS = "extra_fields"
    """Every REST JSON object and pushed message carries unknown extra keys (newer firmware)."""


GLITCH_FIELDS = ("ic", "ec", "ric", "rec")


def parse_fault(name: str) -> HanFault:
    """Return the fault for a name such as ``http_error``, ``HTTP_ERROR`` or ``http-error``."""
    try:
        return HanFault(name.strip().lower().replace("-", "_"))
    except ValueError:
        known = ", ".join(fault.value for fault in HanFault)
        raise ValueError(f"unknown fault {name!r} (known: {known})") from None


def _number(value: object, key: str) -> float:
    # bool is an int subclass; a JSON true is never a valid number here
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number")
    if not math.isfinite(value):
        raise ValueError(f"{key} must be finite")
    return float(value)


def validate_params(fault: HanFault, params: dict[str, Any]) -> dict[str, Any]:
    """Check the parameters of a fault and return them with defaults filled in.

    Raises ValueError with a readable message for unknown keys or bad values.
    """
    allowed: dict[HanFault, tuple[str, ...]] = {
        HanFault.HTTP_ERROR: ("status", "path"),
        HanFault.GLITCH_COUNTER: ("mode", "field", "amount"),
        HanFault.SLOW_RESPONSE: ("seconds",),
        HanFault.HISTORY_GAP: ("start", "end"),
    }
    unknown = set(params) - set(allowed.get(fault, ()))
    if unknown:
        raise ValueError(f"{fault.value} takes no parameter(s) {sorted(unknown)}")
    result = dict(params)
    if fault is HanFault.HTTP_ERROR:
        status = result.setdefault("status", 503)
        if isinstance(status, bool) or not isinstance(status, int):
            raise ValueError("status must be an integer")
        if not 400 <= status <= 599:
            raise ValueError("status must be between 400 and 599")
        path = result.setdefault("path", "/")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError("path must be a string starting with /")
    elif fault is HanFault.GLITCH_COUNTER:
        mode = result.setdefault("mode", "zero")
        if mode not in GLITCH_MODES:
            raise ValueError(f"mode must be one of {GLITCH_MODES}")
        field = result.setdefault("field", "ic")
        if field not in GLITCH_FIELDS:
            raise ValueError(f"field must be one of {GLITCH_FIELDS}")
        amount = _number(result.setdefault("amount", 1.0), "amount")
        if amount <= 0:
            raise ValueError("amount must be positive")
        result["amount"] = amount
    elif fault is HanFault.SLOW_RESPONSE:
        seconds = _number(result.setdefault("seconds", 2.0), "seconds")
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        result["seconds"] = seconds
    elif fault is HanFault.HISTORY_GAP:
        if "start" not in result or "end" not in result:
            raise ValueError("history_gap needs start and end (epoch seconds)")
        start = _number(result["start"], "start")
        end = _number(result["end"], "end")
        if end <= start:
            raise ValueError("end must be after start")
        result.update(start=start, end=end)
    return result
