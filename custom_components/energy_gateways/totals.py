"""Guards that keep energy totals monotonic."""

from __future__ import annotations

from .const import LOGGER


class MonotonicTotals:
    """Holds the last good value of each cumulative counter.

    Home Assistant records a TOTAL_INCREASING value below 90 % of the previous one
    as a meter reset, which puts a huge spike into the Energy dashboard. Meters and
    readers do send transient zeros and stale lower values, so a reading of 0 or one
    below the last accepted value is dropped and the last good value is kept.
    """

    def __init__(self, name: str, *, zero_after: int | None = None) -> None:
        """Guard the totals of one device, named in debug logs.

        `zero_after`: accept a first total of 0 once it was read this many times
        in a row (a counter that really is 0); None: never show 0.
        """
        self._name = name
        self._zero_after = zero_after
        self._last: dict[str, float] = {}
        self._zeros: dict[str, int] = {}

    def accept(self, key: str, value: float | None) -> float | None:
        """Return `value` if it is plausible, else the last good value (or None)."""
        last = self._last.get(key)
        if value is None or value == last:
            return last  # counters may be sent less often than power values
        if value == 0 and last is None and self._zero_after is not None:
            zeros = self._zeros[key] = self._zeros.get(key, 0) + 1
            if zeros >= self._zero_after:
                self._last[key] = 0.0
                return 0.0
            return None
        if value <= 0 or (last is not None and value < last):
            LOGGER.debug(
                "%s: ignored %s reading %s (last good %s)", self._name, key, value, last
            )
            return last
        self._last[key] = value
        return value
