"""Options of an EMS gateway entry: how often to poll, whether to import history."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_SCAN_INTERVAL, UnitOfTime

from ...const import CONF_IMPORT_HISTORY
from ...options import BooleanOption, DeviceOptionsFlow, NumberOption

SCAN_INTERVAL = NumberOption(
    CONF_SCAN_INTERVAL, default=10, minimum=5, maximum=300, unit=UnitOfTime.SECONDS
)
IMPORT_HISTORY = BooleanOption(CONF_IMPORT_HISTORY, default=True)


class GavazziEmsOptionsFlow(DeviceOptionsFlow):
    """The polling interval and the history import."""

    STEP_ID = "gavazzi_ems_options"
    OPTIONS = (SCAN_INTERVAL, IMPORT_HISTORY)

    async def async_step_gavazzi_ems_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Store the submitted form."""
        return await self.async_step_form(user_input)
