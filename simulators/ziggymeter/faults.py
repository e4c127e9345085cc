"""Fault switches of the ZiggyMeter simulator."""

from enum import StrEnum
from typing import Any

from ..params import (
    check_keys,
    parse_fault_name,
    shared_fault_params,
)


class ZiggyFault(StrEnum):
    """Faults that can be switched on in a running simulator.

    The value is the name used on the command line and in ``/_sim/fault/{name}``.
    """

    HTTP_ERROR = "http_error"
    """API calls whose path starts with ``path`` (default ``/``) answer ``status`` (503)."""
    SLOW_RESPONSE = "slow_response"
    """API answers are delayed by ``seconds`` (default 2.0)."""
    UNAUTHORIZED_ONCE = "unauthorized_once"
    """One-shot: the next request with a valid token answers 401."""
    MALFORMED_JSON = "malformed_json"
    """Status answers are a 200 ``application/json`` body that is not valid JSON."""
    TRUNCATED_BODY = "truncated_body"
    """Status answers announce the full Content-Length, send half, then hang up."""
    EXTRA_FIELDS = "extra_fields"
    """Status carries unknown keys (as the ``extra_keys`` variant)."""
    NUMBERS_AS_STRINGS = "numbers_as_strings"
    """Every numeric status value is a JSON string (``"231.0"``)."""
    MISSING_FIELD = "missing_field"
    """Status has no ``meter.power_w`` and no ``battery.percent``."""
    GLITCH_COUNTER = "glitch_counter"
    """While on: ``meter.energy_import_kwh`` is 0 or ``amount`` below the last good value."""
    OTA_REFUSE = "ota_refuse"
    """Every OTA upload is refused with 500, whatever its rate."""


def parse_fault(name: str) -> ZiggyFault:
    """Return the fault for a name such as ``http_error``, ``HTTP_ERROR`` or ``http-error``."""
    return parse_fault_name(ZiggyFault, name)


def validate_params(fault: ZiggyFault, params: dict[str, Any]) -> dict[str, Any]:
    """Check the parameters of a fault and return them with defaults filled in.

    Raises ValueError with a readable message for unknown keys or bad values.
    """
    result = shared_fault_params(fault, params, glitch_amount=5.0)
    if result is None:
        check_keys(fault, params, ())
        result = dict(params)
    return result
