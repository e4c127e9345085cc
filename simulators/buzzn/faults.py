"""Fault switches of the BUZZN broker simulator."""

from enum import StrEnum
from typing import Any

from ..params import (
    check_keys,
    parse_fault_name,
    shared_fault_params,
)


class BuzznFault(StrEnum):
    """Faults that can be switched on in a running simulator.

    The value is the name used on the command line and in ``/_sim/fault/{name}``.
    """

    HTTP_ERROR = "http_error"
    """Calls whose path starts with ``path`` (default ``/``) answer ``status`` (503)."""
    SLOW_RESPONSE = "slow_response"
    """Answers (and live handshakes) are delayed by ``seconds`` (default 2.0)."""
    UNAUTHORIZED_ONCE = "unauthorized_once"
    """One-shot: the next protected call with a valid token answers 401."""
    MALFORMED_JSON = "malformed_json"
    """History, global challenge, per-capita and challenge answers are not valid JSON."""
    TRUNCATED_BODY = "truncated_body"
    """Those answers announce the full Content-Length, send half, then hang up."""
    EXTRA_FIELDS = "extra_fields"
    """Profile, live messages and histories carry unknown keys."""
    NUMBERS_AS_STRINGS = "numbers_as_strings"
    """Every number of live messages, histories and the profile is a JSON string."""
    MISSING_FIELD = "missing_field"
    """Live messages lack the own member's ``power``."""
    GLITCH_COUNTER = "glitch_counter"
    """Live own ``consumption`` is 0 (``mode=zero``) or ``amount`` below the last good one."""
    STALL_STREAM = "stall_stream"
    """Live connections stay open but get nothing (Socket.IO: no pongs either)."""
    DROP_STREAMS = "drop_streams"
    """One-shot: every live connection is closed now."""
    ACCOUNT_INACTIVE = "account_inactive"
    """A login with the right credentials answers 403 (account not active)."""
    MEMBER_WITHOUT_READINGS = "member_without_readings"
    """The second member's live ``consumption`` and ``power`` are null."""
    NO_HISTORY = "no_history"
    """Histories, disaggregations, global challenges and per-capita answer 206 ``{}``."""
    NO_CHALLENGES = "no_challenges"
    """``/challenges`` answers 204 (no challenge available)."""
    NEW_APPLIANCE = "new_appliance"
    """The newest disaggregation entries also list ``Trockner-1``."""
    EMPTY_LIVE = "empty_live"
    """Live messages are ``{"data": "{}"}`` (no data could be built)."""


ONE_SHOT = frozenset({BuzznFault.DROP_STREAMS})
"""Faults that act once when switched on and are not kept."""


def parse_fault(name: str) -> BuzznFault:
    """Return the fault for a name such as ``http_error``, ``HTTP_ERROR`` or ``http-error``."""
    return parse_fault_name(BuzznFault, name)


def validate_params(fault: BuzznFault, params: dict[str, Any]) -> dict[str, Any]:
    """Check the parameters of a fault and return them with defaults filled in.

    Raises ValueError with a readable message for unknown keys or bad values.
    """
    result = shared_fault_params(
        fault, params, glitch_amount=10_000_000_000, whole_amount=True
    )
    if result is None:
        check_keys(fault, params, ())
        result = dict(params)
    return result
