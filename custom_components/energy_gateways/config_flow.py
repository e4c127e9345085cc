"""The integration's config flow: a menu of device types, each bringing its steps."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult

from .const import CONF_DEVICE_TYPE, DOMAIN
from .devices import DEVICE_TYPES
from .devices.cozify_han import CozifyHanConfigFlow


class EnergyGatewaysConfigFlow(CozifyHanConfigFlow, domain=DOMAIN):
    """Start by choosing the kind of device; its own steps take it from there."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer the supported device types."""
        return self.async_show_menu(step_id="user", menu_options=list(DEVICE_TYPES))

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hand over to the reconfigure step of the entry's device type."""
        device_type = self._get_reconfigure_entry().data[CONF_DEVICE_TYPE]
        step = getattr(self, f"async_step_reconfigure_{device_type}")
        result: ConfigFlowResult = await step(user_input)
        return result
