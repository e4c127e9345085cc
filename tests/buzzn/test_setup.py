"""A BUZZN account in Home Assistant: devices, live values, polled values, settings."""

from __future__ import annotations

import json

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_gateways.const import DOMAIN
from simulators.buzzn import BuzznFault, BuzznSimulator

from ..conftest import until
from .conftest import ACCOUNT, EMAIL, GROUP, PASSWORD, push


def _number(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


async def test_devices_and_live_values(
    hass: HomeAssistant,
    setup_buzzn: MockConfigEntry,
    buzzn_simulator: BuzznSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    """An account and a group device; live values over either transport."""
    account = device_registry.async_get_device_by_identifier(
        (DOMAIN, "1_account"), setup_buzzn.entry_id
    )
    group = device_registry.async_get_device_by_identifier(
        (DOMAIN, "1_group"), setup_buzzn.entry_id
    )
    assert account is not None
    assert group is not None
    assert group.via_device_id == account.id
    devices = dr.async_entries_for_config_entry(device_registry, setup_buzzn.entry_id)
    assert len(devices) == 2
    assert (account.name, account.entry_type) == (
        "BUZZN erika",
        dr.DeviceEntryType.SERVICE,
    )
    assert group.name == "Musterstraße 1"
    stats = setup_buzzn.runtime_data.coordinator.stats
    expected = "websocket" if buzzn_simulator.variant == "document" else "socketio"
    await push(buzzn_simulator, setup_buzzn)
    assert stats.transport == expected
    energy = _number(hass, f"{ACCOUNT}_energy_consumption")
    assert 1e4 < energy < 1e6  # ~2e15 µWh/10 is ~2e5 kWh
    state = hass.states.get(f"{ACCOUNT}_energy_consumption")
    assert state is not None
    assert state.attributes["state_class"] == "total_increasing"
    assert 100 < _number(hass, f"{ACCOUNT}_power") < 5000
    assert _number(hass, f"{GROUP}_group_power") >= _number(hass, f"{ACCOUNT}_power")
    assert _number(hass, f"{GROUP}_group_production") >= 0
    await push(buzzn_simulator, setup_buzzn)
    assert _number(hass, f"{ACCOUNT}_energy_consumption") >= energy


async def test_polled_values(hass: HomeAssistant, setup_buzzn: MockConfigEntry) -> None:
    """Savings, baseline, community saving and per-capita consumption in kWh."""
    # As delivered: the seed's example magnitudes (10^-10 kWh on the wire).
    saving = _number(hass, f"{ACCOUNT}_saving_prognosis_today")
    baseline = _number(hass, f"{ACCOUNT}_baseline")
    assert 0 < saving < baseline < 1e5
    assert _number(hass, f"{GROUP}_community_saving_prognosis") > 0
    assert _number(hass, f"{ACCOUNT}_per_capita_consumption") > 0
    state = hass.states.get(f"{ACCOUNT}_baseline_state")
    assert state is not None
    assert state.state == "ready"


async def test_members_are_disabled_by_default(
    hass: HomeAssistant,
    setup_buzzn: MockConfigEntry,
    buzzn_simulator: BuzznSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """Other members' values are personal: their sensors start disabled."""
    await push(buzzn_simulator, setup_buzzn)
    await hass.async_block_till_done()
    members = [
        entry
        for entry in er.async_entries_for_config_entry(
            entity_registry, setup_buzzn.entry_id
        )
        if "_member_" in entry.unique_id
    ]
    assert len(members) == 6  # power and energy of 3 members
    assert all(
        entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION for entry in members
    )


async def test_session_expiry_shows_no_gap(
    hass: HomeAssistant,
    setup_buzzn: MockConfigEntry,
    buzzn_simulator: BuzznSimulator,
) -> None:
    """An expired session is renewed silently; entities stay available."""
    coordinator = setup_buzzn.runtime_data.coordinator
    logins = coordinator.client.logins
    buzzn_simulator.expire_sessions_now()
    await coordinator.async_refresh()
    await push(buzzn_simulator, setup_buzzn)
    assert coordinator.client.logins == logins + 1
    state = hass.states.get(f"{ACCOUNT}_power")
    assert state is not None
    assert state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


async def test_flat_size_and_inhabitants_are_written(
    hass: HomeAssistant,
    setup_buzzn: MockConfigEntry,
    buzzn_simulator: BuzznSimulator,
) -> None:
    """A valid value is stored on the server; an invalid one is refused, kept."""
    await push(buzzn_simulator, setup_buzzn)
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.buzzn_erika_flat_size", "value": 72.5},
        blocking=True,
    )
    assert buzzn_simulator.profile["flatSize"] == 72.5
    assert _number(hass, "number.buzzn_erika_flat_size") == 72.5
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.buzzn_erika_inhabitants", "value": 3},
        blocking=True,
    )
    assert buzzn_simulator.profile["inhabitants"] == 3
    buzzn_simulator.set_fault(BuzznFault.HTTP_ERROR, status=400, path="/profile")
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": "number.buzzn_erika_inhabitants", "value": 4},
            blocking=True,
        )
    assert _number(hass, "number.buzzn_erika_inhabitants") == 3


@pytest.mark.parametrize("buzzn_simulator", ["reference"], indirect=True)
async def test_absent_features_are_not_asked_again(
    hass: HomeAssistant,
    setup_buzzn: MockConfigEntry,
    buzzn_simulator: BuzznSimulator,
) -> None:
    """The reference backend has no hints or challenges: asked once, no errors."""
    coordinator = setup_buzzn.runtime_data.coordinator
    assert {"hints", "challenges"} <= coordinator.client.absent
    before = buzzn_simulator.requests["/hints"]
    await coordinator.async_refresh_challenges()
    assert buzzn_simulator.requests["/hints"] == before
    assert buzzn_simulator.requests["/challenges"] == 1


async def test_diagnostics_hide_personal_data(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_buzzn: MockConfigEntry,
    buzzn_simulator: BuzznSimulator,
) -> None:
    """No e-mail, password, names, meter ids or tokens; absent features listed."""
    await push(buzzn_simulator, setup_buzzn)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, setup_buzzn)
    text = json.dumps(diagnostics)
    for secret in (
        EMAIL,
        PASSWORD,
        "Mustermann",
        "Erika",
        "b4234cd4bed143a6b9bd09e347e17d34",
    ):
        assert secret not in text, secret
    device = diagnostics["device"]
    assert device["last_live_message"]["members"]
    if buzzn_simulator.variant == "reference":
        assert "hints" in device["absent_features"]


async def test_unload_ends_the_stream(
    hass: HomeAssistant,
    setup_buzzn: MockConfigEntry,
    buzzn_simulator: BuzznSimulator,
) -> None:
    """Unloading closes the live connection."""
    assert await hass.config_entries.async_unload(setup_buzzn.entry_id)
    await until(lambda: buzzn_simulator.live_clients == 0)
