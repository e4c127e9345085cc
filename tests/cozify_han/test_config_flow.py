"""Every path of the HAN reader's config flow, against the simulator."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from unittest.mock import patch

from aiohttp import web
from homeassistant.config_entries import SOURCE_DHCP
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import CONF_DEVICE_TYPE, DOMAIN
from simulators.cozify_han import HanSimulator

from ..conftest import start_device_flow
from .conftest import MAC, NAME, SERIAL, han_entry_for

FLOW = "custom_components.energy_gateways.devices.cozify_han.config_flow"


async def _start_han_form(hass: HomeAssistant) -> str:
    return await start_device_flow(hass, "cozify_han")


@pytest.fixture
async def closed_port(socket_enabled: None) -> int:
    """A loopback port nobody listens on."""
    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await runner.cleanup()
    return port


@pytest.fixture
async def other_server(socket_enabled: None) -> AsyncGenerator[web.AppRunner]:
    """A web server that is not a HAN reader."""

    async def not_a_reader(_: web.Request) -> web.Response:
        return web.json_response({"hello": "world"})

    app = web.Application()
    app.router.add_get("/han", not_a_reader)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield runner
    await runner.cleanup()


def _port(runner: web.AppRunner) -> int:
    return runner.addresses[0][1]  # type: ignore[no-any-return]


async def test_user_flow_creates_entry(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """A reader found at the given address becomes an entry named after it."""
    flow_id = await _start_han_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: " http://127.0.0.1/ ", CONF_PORT: han_simulator.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == NAME
    assert result["data"] == {
        CONF_DEVICE_TYPE: "cozify_han",
        CONF_HOST: "127.0.0.1",
        CONF_PORT: han_simulator.port,
    }
    assert result["result"].unique_id == SERIAL
    await hass.async_block_till_done()


async def test_user_flow_errors_then_recovers(
    hass: HomeAssistant,
    han_simulator: HanSimulator,
    closed_port: int,
    other_server: web.AppRunner,
) -> None:
    """Each error shows on the form, and the form still works afterwards."""
    flow_id = await _start_han_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: closed_port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: _port(other_server)}
    )
    assert result["errors"] == {"base": "not_a_han_reader"}

    with patch(f"{FLOW}.HanClient.get_info", side_effect=RuntimeError("boom")):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: han_simulator.port}
        )
    assert result["errors"] == {"base": "unknown"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: han_simulator.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_reader_without_identity_is_rejected(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """A state message with neither serial nor MAC cannot become an entry."""
    han_simulator.set_state(serial=None, mac=None)
    flow_id = await _start_han_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: han_simulator.port}
    )
    assert result["errors"] == {"base": "not_a_han_reader"}


async def test_user_flow_duplicate_aborts(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """The same reader twice is refused."""
    entry = han_entry_for(han_simulator)
    entry.add_to_hass(hass)
    flow_id = await _start_han_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: han_simulator.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


def _dhcp(ip: str = "127.0.0.1") -> DhcpServiceInfo:
    return DhcpServiceInfo(
        ip=ip, hostname="cozify-han-123-456", macaddress=MAC.replace(":", "").lower()
    )


async def test_dhcp_discovers_new_reader(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """A new reader on the network is offered, then added after confirmation."""
    with patch(f"{FLOW}.DEFAULT_PORT", han_simulator.port):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp()
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "discovery_confirm"
        assert result["description_placeholders"] == {"name": NAME, "host": "127.0.0.1"}
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == SERIAL
    assert result["data"][CONF_PORT] == han_simulator.port
    await hass.async_block_till_done()


async def test_dhcp_updates_address_of_known_reader(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """A known reader seen at a new address gets its entry's host updated."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SERIAL,
        data={
            CONF_DEVICE_TYPE: "cozify_han",
            CONF_HOST: "192.0.2.7",
            CONF_PORT: han_simulator.port,
        },
    )
    entry.add_to_hass(hass)
    with patch(f"{FLOW}.DEFAULT_PORT", han_simulator.port):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp()
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == "127.0.0.1"
    await hass.async_block_till_done()


async def test_dhcp_aborts_when_nothing_answers(
    hass: HomeAssistant, closed_port: int
) -> None:
    """A discovered address that does not answer is dropped quietly."""
    with patch(f"{FLOW}.DEFAULT_PORT", closed_port):
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp()
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


async def test_reconfigure_moves_to_new_address(
    hass: HomeAssistant, han_simulator: HanSimulator, closed_port: int
) -> None:
    """Reconfigure accepts the same reader at another address."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SERIAL,
        data={
            CONF_DEVICE_TYPE: "cozify_han",
            CONF_HOST: "127.0.0.1",
            CONF_PORT: closed_port,
        },
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_cozify_han"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: closed_port}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: han_simulator.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == han_simulator.port
    await hass.async_block_till_done()


async def test_reconfigure_refuses_another_reader(
    hass: HomeAssistant, han_simulator: HanSimulator
) -> None:
    """Another reader at the new address is not silently adopted."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="HAN00000001",
        data={CONF_DEVICE_TYPE: "cozify_han", CONF_HOST: "127.0.0.1", CONF_PORT: 1},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: han_simulator.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_device"
    assert entry.data[CONF_PORT] == 1
