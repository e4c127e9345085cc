"""Lenient readers for values in device payloads.

Devices send numbers as numbers or numeric strings, omit fields, or send garbage.
Each reader returns a clean value or None (unknown), never a made-up 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
import math
from typing import Any

# Timestamps before this are treated as nonsense (a device clock that never synced).
_EARLIEST_PLAUSIBLE = datetime(2020, 1, 1, tzinfo=UTC)
_MAX_CLOCK_AHEAD = timedelta(days=1)


def as_float(value: Any) -> float | None:
    """Return a finite float from a number or numeric string, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        try:
            number = float(value)
        except OverflowError:  # JSON integers have no size limit
            return None
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_int(value: Any) -> int | None:
    """Return an int from an integral number or numeric string, else None."""
    number = as_float(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def as_bool(value: Any) -> bool | None:
    """Return a bool only for real booleans (0/1 and "true" are not guessed at)."""
    return value if isinstance(value, bool) else None


def as_str(value: Any) -> str | None:
    """Return a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def float_list(value: Any, length: int) -> tuple[float | None, ...]:
    """Read a fixed-length numeric array; short arrays are padded with None.

    Single-phase meters send fewer entries: the missing ones are unknown, not 0.
    """
    items: list[Any] = list(value)[:length] if isinstance(value, list) else []
    items.extend([None] * (length - len(items)))
    return tuple(as_float(item) for item in items)


def mapping(value: Any) -> Mapping[str, Any]:
    """Return `value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def from_epoch_seconds(value: Any) -> datetime | None:
    """Read an epoch-seconds timestamp (history buckets, price slots)."""
    number = as_float(value)
    if number is None or number < 0:
        return None
    try:
        return datetime.fromtimestamp(number, UTC)
    except OverflowError, OSError, ValueError:
        return None


def epoch_to_datetime(value: Any, now: datetime) -> datetime | None:
    """Read an epoch timestamp in ms (>= 1e12) or s; None if implausible.

    The same API documents ms, but vendor code and one sample use seconds, so the
    magnitude decides. A clock before 2020 or more than a day ahead is ignored.
    """
    number = as_float(value)
    if number is None or number <= 0:
        return None
    seconds = number / 1000 if number >= 1e12 else number
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except OverflowError, OSError, ValueError:
        return None
    if moment < _EARLIEST_PLAUSIBLE or moment > now + _MAX_CLOCK_AHEAD:
        return None
    return moment
