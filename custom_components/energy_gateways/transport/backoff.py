"""Exponential reconnect backoff with full jitter."""

from __future__ import annotations

import random


class Backoff:
    """Delays of 1 s, 2 s, 4 s … capped at `maximum`, each randomised.

    Jitter spreads the reconnects of many clients after a shared outage (a router
    reboot) so they do not hit the devices in lock-step.
    """

    def __init__(self, initial: float = 1.0, maximum: float = 60.0) -> None:
        self._initial = initial
        self._maximum = maximum
        self._attempt = 0

    def next_delay(self) -> float:
        """Return the next delay in seconds, within [initial/2, ceiling]."""
        ceiling = min(self._maximum, self._initial * 2.0**self._attempt)
        self._attempt += 1
        # Half fixed, half random: never a zero delay, never above the ceiling.
        jitter: float = random.uniform(0, ceiling / 2)  # noqa: S311
        return ceiling / 2 + jitter

    def reset(self) -> None:
        """Start again from the initial delay after a healthy connection."""
        self._attempt = 0
