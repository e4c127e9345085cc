"""What the integration knows about one ZiggyMeter, and how it is kept on disk.

The reader sleeps on batteries, so its last values must survive a Home Assistant
restart: they are stored (status and version as the reader sent them, when it
was last seen) and the entry starts from them while the reader is away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ...const import DOMAIN
from .models import Status, Version, parse_status, parse_version

STORAGE_VERSION = 1
SAVE_DELAY = 300.0
"""Seconds a change waits before it is written (Home Assistant writes it on stop)."""
SOURCE_HISTORY = 20
"""Power-source changes kept for diagnostics."""


@dataclass(slots=True)
class Upload:
    """A firmware upload under way."""

    size: int
    sent: int = 0
    rebooting: bool = False
    """All bytes sent; waiting for the reader to restart into the image."""

    @property
    def percentage(self) -> int:
        """Bytes sent as a whole percentage of the image."""
        return self.sent * 100 // self.size if self.size else 100


@dataclass(slots=True)
class ZiggyData:
    """The reader's latest answers and what was made of them."""

    status: Status
    version: Version | None
    last_seen: datetime
    """When the reader last answered."""
    energy: dict[str, float | None]
    """Energy totals (kWh) by status field, never 0 and never lower than before."""
    booted: datetime | None
    """When the reader last started (from its uptime; steady between polls)."""
    sources: list[tuple[datetime, str | None]] = field(default_factory=list)
    """Power-source changes, newest last."""
    upload: Upload | None = None

    @property
    def on_battery(self) -> bool:
        """Whether the reader ran on batteries when it last answered."""
        return self.status.power_source == "battery"


class ZiggyStore:
    """The last values of one reader on disk."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.ziggymeter.{entry_id}"
        )

    async def async_load(self) -> ZiggyData | None:
        """Return the stored values, or None (none yet, or unreadable)."""
        stored = await self._store.async_load()
        if not stored:
            return None
        last_seen = _time(stored.get("last_seen"))
        if last_seen is None:
            return None
        energy = stored.get("energy")
        return ZiggyData(
            status=parse_status(stored.get("status")),
            version=parse_version(stored["version"]) if stored.get("version") else None,
            last_seen=last_seen,
            energy={
                key: float(value)
                for key, value in (energy if isinstance(energy, dict) else {}).items()
                if isinstance(value, int | float)
            },
            booted=_time(stored.get("booted")),
            sources=[
                (at, source if isinstance(source, str) else None)
                for item in stored.get("sources") or []
                if isinstance(item, list | tuple)
                and len(item) == 2
                and (at := _time(item[0])) is not None
                for source in (item[1],)
            ],
        )

    def async_save(self, data: ZiggyData) -> None:
        """Write the values a little later (once per SAVE_DELAY at most)."""
        self._store.async_delay_save(lambda: _stored(data), SAVE_DELAY)

    async def async_save_now(self, data: ZiggyData) -> None:
        """Write the values now (the entry unloads)."""
        await self._store.async_save(_stored(data))

    async def async_remove(self) -> None:
        """Delete the file (the entry is gone)."""
        await self._store.async_remove()


def _stored(data: ZiggyData) -> dict[str, Any]:
    return {
        "status": dict(data.status.raw),
        "version": dict(data.version.raw) if data.version else None,
        "last_seen": data.last_seen.isoformat(),
        "energy": {k: v for k, v in data.energy.items() if v is not None},
        "booted": data.booted.isoformat() if data.booted else None,
        "sources": [
            [at.isoformat(), source] for at, source in data.sources[-SOURCE_HISTORY:]
        ],
    }


def _time(value: Any) -> datetime | None:
    return dt_util.parse_datetime(value) if isinstance(value, str) else None
