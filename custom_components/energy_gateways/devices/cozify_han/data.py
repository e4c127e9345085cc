"""The live picture of one HAN reader that its entities read from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .models import (
    CompactData,
    Configuration,
    Definitions,
    Firmware,
    HanInfo,
    Health,
    MeterIdentity,
    MeterReading,
    OtaState,
    Prices,
)


@dataclass(slots=True, kw_only=True)
class HanData:
    """The newest message of each kind; None until one arrived.

    `meter` is cleared when the stream drops, so meter entities turn unavailable
    instead of showing a reading of unknown age.
    """

    info: HanInfo
    meter: MeterReading | None = None
    identity: MeterIdentity | None = None
    health: Health | None = None
    boot_time: datetime | None = None
    firmware: Firmware | None = None
    configuration: Configuration | None = None
    ota: OtaState | None = None
    prices: Prices | None = None
    compact: CompactData | None = None
    definitions: Definitions | None = None
    """What the reader accepts as currency, price area and time zone."""
    uploading_firmware: bool = False
    """A firmware image is being sent to the reader right now."""
    installing_firmware: bool = False
    """An install started here runs until the reader reboots or fails."""
