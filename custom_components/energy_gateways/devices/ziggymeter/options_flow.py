"""Options of a ZiggyMeter entry: polling per power source, patience, upload rate."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import UnitOfDataRate, UnitOfTime

from ...options import DeviceOptionsFlow, NumberOption

USB_INTERVAL = NumberOption(
    "usb_interval", default=30, minimum=10, maximum=600, unit=UnitOfTime.SECONDS
)
"""Seconds between reads while the reader runs on USB power (always online)."""
BATTERY_INTERVAL = NumberOption(
    "battery_interval", default=300, minimum=60, maximum=3600, unit=UnitOfTime.SECONDS
)
"""Seconds between attempts while it runs on batteries (asleep most of the time)."""
KEEP_HOURS = NumberOption(
    "keep_hours", default=24, minimum=1, maximum=168, unit=UnitOfTime.HOURS
)
"""Hours a sleeping reader's last values are shown before it counts as lost."""
UPLOAD_RATE = NumberOption(
    "upload_rate",
    default=1024,
    minimum=128,
    maximum=65536,
    unit=UnitOfDataRate.BYTES_PER_SECOND,
)
"""Bytes per second a firmware image is sent at (the vendor's limit: 1024)."""


class ZiggyMeterOptionsFlow(DeviceOptionsFlow):
    """Polling intervals, how long to wait for a sleeping reader, upload rate."""

    STEP_ID = "ziggymeter_options"
    OPTIONS = (USB_INTERVAL, BATTERY_INTERVAL, KEEP_HOURS, UPLOAD_RATE)

    async def async_step_ziggymeter_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Store the submitted form."""
        return await self.async_step_form(user_input)
