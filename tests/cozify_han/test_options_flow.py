"""The HAN reader's options flow."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import CONF_IMPORT_HISTORY


async def test_history_import_can_be_turned_off(
    hass: HomeAssistant, setup_han: MockConfigEntry
) -> None:
    """The settings step stores the choice and the entry reloads with it."""
    result = await hass.config_entries.options.async_init(setup_han.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert "settings" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "settings"}
    )
    assert result["type"] is FlowResultType.FORM
    schema = result["data_schema"]
    assert schema is not None
    assert schema({})[CONF_IMPORT_HISTORY] is True  # on unless turned off
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_IMPORT_HISTORY: False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert setup_han.options == {CONF_IMPORT_HISTORY: False}
    assert setup_han.state is ConfigEntryState.LOADED
