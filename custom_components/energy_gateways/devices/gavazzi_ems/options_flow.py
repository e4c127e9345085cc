"""Options of an EMS gateway entry: how often to poll, whether to import history."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.const import CONF_SCAN_INTERVAL, UnitOfTime
from homeassistant.helpers import selector
import probatio as vol

from ...const import CONF_IMPORT_HISTORY
from .coordinator import DEFAULT_SCAN_INTERVAL, MAX_SCAN_INTERVAL, MIN_SCAN_INTERVAL


class GavazziEmsOptionsFlow(OptionsFlowWithReload):
    """One form; the entry reloads with the new settings."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Go to the gateway's form (its own step id: texts differ per device type)."""
        return await self.async_step_gavazzi_ems_options()

    async def async_step_gavazzi_ems_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the polling interval and the history import."""
        if user_input is not None:
            return self.async_create_entry(
                data={**self.config_entry.options, **user_input}
            )
        options = self.config_entry.options
        return self.async_show_form(
            step_id="gavazzi_ems_options",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_SCAN_INTERVAL,
                        default=options.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
                    ): vol.All(
                        selector.NumberSelector(
                            selector.NumberSelectorConfig(
                                min=MIN_SCAN_INTERVAL,
                                max=MAX_SCAN_INTERVAL,
                                step=1,
                                mode=selector.NumberSelectorMode.BOX,
                                unit_of_measurement=UnitOfTime.SECONDS,
                            )
                        ),
                        vol.Coerce(int),
                        vol.Range(min=MIN_SCAN_INTERVAL, max=MAX_SCAN_INTERVAL),
                    ),
                    vol.Required(
                        CONF_IMPORT_HISTORY,
                        default=options.get(CONF_IMPORT_HISTORY, True),
                    ): selector.BooleanSelector(),
                }
            ),
        )
