"""DHCP: a known EMS gateway (matched by its registered MAC) follows its address."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_DHCP, ConfigEntryState
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.gavazzi_ems.config_flow import (
    moved_url,
)
from simulators.gavazzi_ems import EmsSimulator

from .conftest import SERIAL, ems_entry_for


def _dhcp(simulator: EmsSimulator, ip: str = "127.0.0.1") -> DhcpServiceInfo:
    return DhcpServiceInfo(
        ip=ip, hostname="ems", macaddress=simulator.mac.replace(":", "").lower()
    )


@pytest.mark.parametrize(
    ("url", "ip", "expected"),
    [
        ("https://192.168.1.20", "192.168.1.21", "https://192.168.1.21"),
        ("http://192.168.1.20:8080", "192.168.1.21", "http://192.168.1.21:8080"),
        ("https://[fe80::1]:8443", "fe80::2", "https://[fe80::2]:8443"),
        ("https://192.168.1.20", "192.168.1.20", None),
        ("https://ems.local", "192.168.1.21", None),
    ],
)
def test_moved_url(url: str, ip: str, expected: str | None) -> None:
    """Only an address given as an IP follows the gateway; ports and scheme stay."""
    assert moved_url(url, ip) == expected


async def test_known_gateway_follows_its_new_address(
    hass: HomeAssistant, ems_simulator: EmsSimulator
) -> None:
    """The entry's address changes to the one DHCP saw, then the entry loads there."""
    entry = ems_entry_for(
        ems_simulator, **{CONF_HOST: f"http://127.0.0.9:{ems_simulator.port}"}
    )
    entry.add_to_hass(hass)
    # The gateway registered its MAC when it was last set up.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, SERIAL)},
        connections={(dr.CONNECTION_NETWORK_MAC, dr.format_mac(ems_simulator.mac))},
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp(ems_simulator)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_HOST] == ems_simulator.url
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_unchanged_address_changes_nothing(
    hass: HomeAssistant, setup_ems: MockConfigEntry, ems_simulator: EmsSimulator
) -> None:
    """A renewed lease with the same address neither updates nor reloads."""
    runtime = setup_ems.runtime_data
    data = dict(setup_ems.data)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_DHCP}, data=_dhcp(ems_simulator)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert dict(setup_ems.data) == data
    assert setup_ems.runtime_data is runtime
    # Nothing was asked of the HAN reader probe.
    assert ems_simulator.requests["/han"] == 0
