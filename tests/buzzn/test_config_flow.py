"""Adding, reauthenticating and reconfiguring a BUZZN account through the UI flow."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from aiohttp import web
from homeassistant.const import CONF_EMAIL, CONF_PASSWORD, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE
from custom_components.energy_gateways.devices.buzzn.client import BuzznClient
from custom_components.energy_gateways.devices.buzzn.config_flow import DEFAULT_URL
from simulators.buzzn import BuzznFault, BuzznSimulator
from simulators.cozify_han import HanSimulator

from ..conftest import start_device_flow
from .conftest import EMAIL, PASSWORD, TITLE, buzzn_entry_for, start_simulator


def _form(url: str, *, password: str = PASSWORD) -> dict[str, Any]:
    return {CONF_URL: url, CONF_EMAIL: EMAIL, CONF_PASSWORD: password}


async def test_add_an_account(
    hass: HomeAssistant, buzzn_simulator: BuzznSimulator
) -> None:
    """The public backend is offered; the profile id names the account."""
    flow_id = await start_device_flow(hass, "buzzn")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(buzzn_simulator.url)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == TITLE
    assert result["data"] == {
        CONF_DEVICE_TYPE: "buzzn",
        CONF_URL: buzzn_simulator.url,
        CONF_EMAIL: EMAIL,
        CONF_PASSWORD: PASSWORD,
    }
    assert result["result"].unique_id == "1"


async def test_the_form_offers_the_public_backend(hass: HomeAssistant) -> None:
    """The server field starts with the backend the myBUZZN app used."""
    result = await hass.config_entries.flow.async_init(
        "energy_gateways", context={"source": "user"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "buzzn"}
    )
    schema = result["data_schema"]
    assert schema is not None
    url = next(key for key in schema.schema if str(key) == CONF_URL)
    assert url.default() == DEFAULT_URL


@pytest.mark.parametrize("buzzn_simulator", ["document"], indirect=True)
async def test_errors_can_be_corrected(
    hass: HomeAssistant, buzzn_simulator: BuzznSimulator
) -> None:
    """Wrong password, inactive account, an unexpected failure: the form again."""
    flow_id = await start_device_flow(hass, "buzzn")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(buzzn_simulator.url, password="wrong-password")
    )
    assert result["errors"] == {"base": "invalid_auth"}
    buzzn_simulator.set_fault(BuzznFault.ACCOUNT_INACTIVE)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(buzzn_simulator.url)
    )
    assert result["errors"] == {"base": "account_inactive"}
    buzzn_simulator.clear_fault(BuzznFault.ACCOUNT_INACTIVE)
    with patch.object(
        BuzznClient, "get_profile", side_effect=RuntimeError("boom")
    ) as get_profile:
        result = await hass.config_entries.flow.async_configure(
            flow_id, _form(buzzn_simulator.url)
        )
    get_profile.assert_awaited_once()
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(buzzn_simulator.url)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unusable_addresses(hass: HomeAssistant, socket_enabled: None) -> None:
    """Not a URL; nobody listening; a server that is not BUZZN."""
    flow_id = await start_device_flow(hass, "buzzn")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form("ftp://example.com")
    )
    assert result["errors"] == {CONF_URL: "invalid_url"}
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = runner.addresses[0][1]
    await runner.cleanup()
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(f"http://127.0.0.1:{port}")
    )
    assert result["errors"] == {"base": "cannot_connect"}
    other = HanSimulator(push_interval=None)
    await other.start(host="127.0.0.1", port=0)
    try:
        result = await hass.config_entries.flow.async_configure(
            flow_id, _form(f"http://127.0.0.1:{other.port}")
        )
    finally:
        await other.stop()
    assert result["errors"] == {"base": "not_a_buzzn_server"}


@pytest.mark.parametrize("buzzn_simulator", ["document"], indirect=True)
async def test_an_account_is_added_once(
    hass: HomeAssistant, buzzn_simulator: BuzznSimulator
) -> None:
    """The same profile id again: already configured."""
    buzzn_entry_for(buzzn_simulator).add_to_hass(hass)
    flow_id = await start_device_flow(hass, "buzzn")
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form(buzzn_simulator.url)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize("buzzn_simulator", ["reference"], indirect=True)
async def test_reauth_with_a_new_password(
    hass: HomeAssistant, buzzn_simulator: BuzznSimulator
) -> None:
    """The stored password stopped working: ask for it again."""
    buzzn_simulator.change_password("a-new-password")
    entry = buzzn_entry_for(buzzn_simulator)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm_buzzn"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_EMAIL: EMAIL, CONF_PASSWORD: "still-wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_EMAIL: EMAIL, CONF_PASSWORD: "a-new-password"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_PASSWORD] == "a-new-password"


async def test_reconfigure_moves_the_account_to_another_server(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Same account elsewhere: moved; another account there: refused."""
    old = await start_simulator(variant="document")
    new = await start_simulator(variant="reference")
    other = await start_simulator(variant="document", profile_id=2)
    try:
        entry = buzzn_entry_for(old)
        entry.add_to_hass(hass)
        result = await entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "reconfigure_buzzn"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_URL: "ftp://example.com"}
        )
        assert result["errors"] == {CONF_URL: "invalid_url"}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_URL: other.url}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "wrong_account"
        assert entry.data[CONF_URL] == old.url
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_URL: new.url}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert entry.data[CONF_URL] == new.url
    finally:
        for simulator in (old, new, other):
            await simulator.stop()
