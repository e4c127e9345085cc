"""The options of a Cozify Hub entry: the polling intervals on the LAN and relayed."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from custom_components.energy_gateways.devices.cozify_hub.options_flow import (
    LOCAL_INTERVAL,
    REMOTE_INTERVAL,
)

LOCAL = "local_interval"
REMOTE = "remote_interval"


def _entry(hass: HomeAssistant, **options: object) -> MockConfigEntry:
    """An entry that is never set up: the options flow needs its data only."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="c0f10000-0000-0000-0000-000000000000",
        data={CONF_DEVICE_TYPE: "cozify_hub"},
        options=options,
    )
    entry.add_to_hass(hass)
    return entry


async def test_the_defaults_are_offered_and_changes_stored(
    hass: HomeAssistant,
) -> None:
    """2 s on the LAN, 15 s through the cloud; other options are kept."""
    entry = _entry(hass, other=1)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "cozify_hub_options"
    schema = result["data_schema"]
    assert schema is not None
    assert schema({}) == {LOCAL: 2, REMOTE: 15}
    with patch.object(hass.config_entries, "async_schedule_reload") as reload:
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {LOCAL: 1, REMOTE: 300}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {LOCAL: 1, REMOTE: 300, "other": 1}
    reload.assert_called_once_with(entry.entry_id)
    assert LOCAL_INTERVAL.value(entry.options) == 1
    assert REMOTE_INTERVAL.value(entry.options) == 300
    assert LOCAL_INTERVAL.value({}) == 2
    assert REMOTE_INTERVAL.value({}) == 15


async def test_the_form_starts_from_the_stored_options(hass: HomeAssistant) -> None:
    """Values changed before are shown again."""
    entry = _entry(hass, **{LOCAL: 10, REMOTE: 60})
    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"]
    assert schema is not None
    assert schema({}) == {LOCAL: 10, REMOTE: 60}


@pytest.mark.parametrize(
    ("key", "value"),
    [(LOCAL, 0), (LOCAL, 61), (REMOTE, 4), (REMOTE, 301)],
)
async def test_out_of_range_intervals_are_refused(
    hass: HomeAssistant, key: str, value: int
) -> None:
    """1 to 60 s on the LAN, 5 s to 5 min through the cloud."""
    entry = _entry(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.options.async_configure(
            result["flow_id"], {LOCAL: 2, REMOTE: 15, key: value}
        )
    assert key in err.value.schema_errors
    assert entry.options == {}
