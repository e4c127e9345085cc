"""Options of a Cozify Hub entry: how often the hub is asked for changes."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import UnitOfTime

from ...options import DeviceOptionsFlow, NumberOption
from .const import CONF_LOCAL_INTERVAL, CONF_REMOTE_INTERVAL

LOCAL_INTERVAL = NumberOption(
    CONF_LOCAL_INTERVAL, default=2, minimum=1, maximum=60, unit=UnitOfTime.SECONDS
)
"""Seconds between change polls while the hub answers on the LAN."""
REMOTE_INTERVAL = NumberOption(
    CONF_REMOTE_INTERVAL, default=15, minimum=5, maximum=300, unit=UnitOfTime.SECONDS
)
"""Seconds between change polls through the Cozify cloud relay."""


class CozifyHubOptionsFlow(DeviceOptionsFlow):
    """Polling intervals on the LAN and through the cloud relay."""

    STEP_ID = "cozify_hub_options"
    OPTIONS = (LOCAL_INTERVAL, REMOTE_INTERVAL)

    async def async_step_cozify_hub_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Store the submitted form."""
        return await self.async_step_form(user_input)
