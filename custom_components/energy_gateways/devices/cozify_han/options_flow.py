"""Options of a HAN reader entry: what the integration does, and WiFi set-up."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.helpers import selector
import probatio as vol

from ...const import CONF_IMPORT_HISTORY


class CozifyHanOptionsFlow(OptionsFlowWithReload):
    """A menu: integration settings, or set up the reader's WiFi."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer the option groups."""
        return self.async_show_menu(step_id="init", menu_options=["settings"])

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose whether the reader's history is imported into statistics."""
        if user_input is not None:
            return self.async_create_entry(
                data={**self.config_entry.options, **user_input}
            )
        current = self.config_entry.options.get(CONF_IMPORT_HISTORY, True)
        return self.async_show_form(
            step_id="settings",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_IMPORT_HISTORY, default=current
                    ): selector.BooleanSelector()
                }
            ),
        )
