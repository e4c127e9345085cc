"""Fault switches of the Cozify Hub simulator (cloud, relay and hubs share one board)."""

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from ..params import (
    check_keys,
    integer_param,
    number_param,
    parse_fault_name,
    shared_fault_params,
)


class CozifyFault(StrEnum):
    """Faults that can be switched on in a running simulator.

    The value is the name used on the command line and in ``/_sim/fault/{name}``
    (on the cloud, any hub or the decoy: they share the faults).
    """

    HTTP_ERROR = "http_error"
    """Calls whose path starts with ``path`` (default ``/``) answer ``status`` (503).

    Matched against the cloud path (with or without the base path) and the hub path
    (``/cc/1.14/...``, locally or through the relay)."""
    SLOW_RESPONSE = "slow_response"
    """Cloud and hub answers are delayed by ``seconds`` (default 2.0), relayed ones once."""
    UNAUTHORIZED_ONCE = "unauthorized_once"
    """One-shot: the next call with valid credentials (cloud token or hub key) answers 401."""
    MALFORMED_JSON = "malformed_json"
    """Hub data answers (devices, poll, rooms, scenes) are not valid JSON."""
    TRUNCATED_BODY = "truncated_body"
    """Hub data answers announce the full Content-Length, send half, then hang up."""
    EXTRA_FIELDS = "extra_fields"
    """Device records carry unknown keys, their state too."""
    GLITCH_COUNTER = "glitch_counter"
    """While on: the poll ``timestamp`` is 0 or ``amount`` ms below the last good one."""
    LAN_UNREACHABLE = "lan_unreachable"
    """Hub 0's LAN listener is off (connections refused); the relay still works."""
    RELAY_REFUSED = "relay_refused"
    """Every ``/hub/remote/...`` answers 403 (remote access needs a subscription)."""
    CLOUD_DOWN = "cloud_down"
    """The cloud listener is off (clear it through a hub's or the decoy's URL)."""
    COMMAND_REFUSED = "command_refused"
    """Device and scene commands answer ``status`` (400) ``{"message": reason}``.

    ``reason`` defaults to ``device busy``; nothing is applied (relayed: the same)."""
    SLOW_COMMAND = "slow_command"
    """Device and scene command answers are delayed by ``seconds`` (default 3.0).

    The command acts ``command_delay`` s after its (late) answer."""


LISTENER_FAULTS = frozenset({CozifyFault.LAN_UNREACHABLE, CozifyFault.CLOUD_DOWN})
"""Faults that switch a listener off while on."""


def parse_fault(name: str) -> CozifyFault:
    """Return the fault for a name such as ``http_error``, ``HTTP_ERROR`` or ``http-error``."""
    return parse_fault_name(CozifyFault, name)


def validate_params(fault: CozifyFault, params: dict[str, Any]) -> dict[str, Any]:
    """Check the parameters of a fault and return them with defaults filled in.

    Raises ValueError with a readable message for unknown keys or bad values.
    """
    result = shared_fault_params(fault, params, glitch_amount=60_000, whole_amount=True)
    if result is not None:
        return result
    result = dict(params)
    if fault is CozifyFault.COMMAND_REFUSED:
        check_keys(fault, params, ("status", "reason"))
        status = integer_param(result.setdefault("status", 400), "status")
        if not 400 <= status <= 499:
            raise ValueError("status must be between 400 and 499")
        reason = result.setdefault("reason", "device busy")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("reason must be a non-empty string")
    elif fault is CozifyFault.SLOW_COMMAND:
        check_keys(fault, params, ("seconds",))
        result["seconds"] = number_param(result.setdefault("seconds", 3.0), "seconds")
    else:
        check_keys(fault, params, ())
    return result


class FaultBoard:
    """The active faults of one simulator; ``switched(fault, on)`` hears changes."""

    def __init__(self, switched: Callable[[CozifyFault, bool], None]) -> None:
        self._active: dict[CozifyFault, dict[str, Any]] = {}
        self._switched = switched

    def set(self, fault: CozifyFault | str, **params: Any) -> None:
        """Switch a fault on (replacing its parameters if already on)."""
        fault = parse_fault(fault) if not isinstance(fault, CozifyFault) else fault
        checked = validate_params(fault, params)
        was_on = fault in self._active
        self._active[fault] = checked
        if not was_on:
            self._switched(fault, True)

    def clear(self, fault: CozifyFault | str) -> None:
        """Switch one fault off (no error when it was off)."""
        fault = parse_fault(fault) if not isinstance(fault, CozifyFault) else fault
        if self._active.pop(fault, None) is not None:
            self._switched(fault, False)

    def clear_all(self) -> None:
        """Switch every fault off."""
        for fault in list(self._active):
            self.clear(fault)

    def get(self, fault: CozifyFault) -> dict[str, Any] | None:
        """Return the parameters of an active fault, None when it is off."""
        return self._active.get(fault)

    def take(self, fault: CozifyFault) -> bool:
        """Switch a one-shot fault off; whether it was on."""
        return self._active.pop(fault, None) is not None

    @property
    def active(self) -> dict[str, dict[str, Any]]:
        """Active faults with their parameters (a copy)."""
        return {fault.value: dict(params) for fault, params in self._active.items()}
