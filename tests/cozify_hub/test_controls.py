"""Sockets, other switches, thermostats and scenes controlled from Home Assistant."""

from __future__ import annotations

from typing import Any

from homeassistant.components.climate import ATTR_HVAC_ACTION
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    ATTR_TEMPERATURE,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from simulators.cozify_hub import CozifyFault, CozifySimulator

from ..conftest import set_up_entry
from .conftest import cozify_entry_for, poll, state

SOCKET = "Joulukuusi"
METERED_SOCKET = "Kahvinkeitin"
THERMOSTAT = "Makuuhuoneen termostaatti"


def unique_entity(hass: HomeAssistant, platform: Platform, unique_id: str) -> str:
    """The entity id of an entity of the integration (fails the test if none)."""
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    return entity_id


def device_entity(
    hass: HomeAssistant,
    cozify: CozifySimulator,
    platform: Platform,
    name: str,
    key: str,
) -> str:
    """The entity id of one of a named device's entities on the home hub."""
    hub = cozify.hub
    return unique_entity(hass, platform, f"{hub.hub_id}_{hub.device_named(name)}_{key}")


async def call(
    hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: Any
) -> None:
    """Call an action and wait for the polls that follow the command."""
    await hass.services.async_call(
        domain, service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_a_socket_is_an_outlet_switched_by_one_command(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """Off and on: one CMD_DEVICE_OFF/ON each; the state is the socket's."""
    hub = cozify.hub
    switch = device_entity(hass, cozify, Platform.SWITCH, SOCKET, "switch")
    device_id = hub.device_named(SOCKET)
    assert state(hass, switch).attributes[ATTR_DEVICE_CLASS] == "outlet"
    was_on = hub.devices[device_id]["state"]["isOn"]
    assert state(hass, switch).state == (STATE_ON if was_on else STATE_OFF)
    for service, expected, command in (
        ("turn_on", STATE_ON, "CMD_DEVICE_ON"),
        ("turn_off", STATE_OFF, "CMD_DEVICE_OFF"),
        ("turn_on", STATE_ON, "CMD_DEVICE_ON"),
    ):
        sent = len(hub.commands)
        await call(hass, "switch", service, switch)
        assert hub.commands[sent:] == [{"id": device_id, "type": command}]
        assert state(hass, switch).state == expected


async def test_a_metered_socket_shows_its_power_follow(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """The coffee maker off: its power reads 0 W from the hub, not from a guess."""
    switch = device_entity(hass, cozify, Platform.SWITCH, METERED_SOCKET, "switch")
    power = device_entity(hass, cozify, Platform.SENSOR, METERED_SOCKET, "power")
    await call(hass, "switch", "turn_on", switch)
    assert float(state(hass, power).state) > 0
    await call(hass, "switch", "turn_off", switch)
    assert float(state(hass, power).state) == 0


async def test_on_off_devices_that_are_neither_light_nor_socket_are_switches(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """A relay with ON_OFF: a plain switch, added without a reload."""
    hub = cozify.hub
    hub.add_device(
        {
            "id": "relay-1",
            "type": "RELAY",
            "name": "Autolämmitin",
            "manufacturer": "Cozify",
            "model": None,
            "room": [],
            "capabilities": {"type": "SET", "values": ["ON_OFF", "DEVICE"]},
            "state": {
                "type": "STATE_RELAY",
                "isOn": False,
                "reachable": True,
                "lastSeen": 1,
            },
        }
    )
    await poll(hub_entry)
    await hass.async_block_till_done()
    switch = unique_entity(hass, Platform.SWITCH, f"{hub.hub_id}_relay-1_switch")
    assert state(hass, switch).attributes[ATTR_DEVICE_CLASS] == "switch"
    assert state(hass, switch).state == STATE_OFF


async def test_a_thermostat_is_a_climate_entity_set_in_half_degrees(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """Current and target from the hub; a new target is written as targetTemp."""
    hub = cozify.hub
    device_id = hub.device_named(THERMOSTAT)
    record = hub.devices[device_id]["state"]
    climate = device_entity(hass, cozify, Platform.CLIMATE, THERMOSTAT, "climate")
    shown = state(hass, climate)
    assert shown.state == "heat"
    assert shown.attributes["current_temperature"] == record["temperature"]
    assert shown.attributes[ATTR_TEMPERATURE] == record["targetTemp"]
    assert shown.attributes[ATTR_HVAC_ACTION] == (
        "heating" if record["heatingDemand"] > 0 else "idle"
    )
    sent = len(hub.commands)
    await call(hass, "climate", "set_temperature", climate, temperature=21.3)
    assert hub.commands[sent:] == [
        {
            "id": device_id,
            "type": "CMD_DEVICE",
            "state": {"type": "STATE_THERMOSTAT", "targetTemp": 21.5},
        }
    ]
    assert state(hass, climate).attributes[ATTR_TEMPERATURE] == 21.5


async def test_scenes_run_on_the_hub(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """One scene entity per hub scene; activating sends CMD_SCENE_ON, then active."""
    hub = cozify.hub
    scene_id, scene = next(iter(hub.scenes.items()))
    entity_id = unique_entity(hass, Platform.SCENE, f"{hub.hub_id}_scene_{scene_id}")
    assert state(hass, entity_id).name == f"{hub.name} {scene['name']}"
    sent = len(hub.commands)
    await call(hass, "scene", "turn_on", entity_id)
    assert hub.commands[sent:] == [{"id": scene_id, "type": "CMD_SCENE_ON"}]
    assert state(hass, entity_id).attributes["active"] is True


async def test_scenes_come_and_go_without_a_reload(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """A scene added in the Cozify app gets its entity; a deleted one loses it."""
    hub = cozify.hub
    runtime = hub_entry.runtime_data
    hub.add_scene("scene-new", "Sauna")
    await poll(hub_entry)
    await hass.async_block_till_done()
    entity_id = unique_entity(hass, Platform.SCENE, f"{hub.hub_id}_scene_scene-new")
    assert state(hass, entity_id).attributes["active"] is False
    hub.remove_scene("scene-new")
    await poll(hub_entry)
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    assert (
        registry.async_get_entity_id(
            Platform.SCENE, DOMAIN, f"{hub.hub_id}_scene_scene-new"
        )
        is None
    )
    assert hass.states.get(entity_id) is None
    assert hub_entry.runtime_data is runtime


async def test_a_refused_command_names_the_device_and_the_reason(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """A 4xx with a body: a translated error; the switch keeps the hub's state."""
    switch = device_entity(hass, cozify, Platform.SWITCH, SOCKET, "switch")
    before = state(hass, switch).state
    cozify.set_fault(CozifyFault("command_refused"), reason="device busy")
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "switch", "toggle", switch)
    assert raised.value.translation_key == "cozify_command_refused"
    assert raised.value.translation_placeholders == {
        "name": SOCKET,
        "reason": "device busy",
    }
    assert state(hass, switch).state == before


async def test_a_failing_hub_and_a_dead_login_say_so(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """A 5xx to the command, then a login the cloud no longer accepts."""
    hub = cozify.hub
    switch = device_entity(hass, cozify, Platform.SWITCH, SOCKET, "switch")
    cozify.set_fault(
        CozifyFault.HTTP_ERROR, status=500, path=f"/cc/{hub.api_version}/devices"
    )
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "switch", "toggle", switch)
    assert raised.value.translation_key == "cozify_command_failed"
    assert raised.value.translation_placeholders["name"] == SOCKET
    cozify.clear_faults()
    cozify.expire_cloud_tokens_now()
    hub.expire_keys_now()
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "switch", "toggle", switch)
    assert raised.value.translation_key == "cozify_hub_invalid_auth"


async def test_a_command_while_the_hub_is_unreachable_fails_at_once(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """LAN and relay both gone (values still held for a cycle): nothing is sent."""
    switch = device_entity(hass, cozify, Platform.SWITCH, SOCKET, "switch")
    await cozify.hub.go_offline()
    cozify.set_fault(CozifyFault.CLOUD_DOWN)
    await poll(hub_entry)
    assert state(hass, switch).state != STATE_UNAVAILABLE  # one failed poll is held
    sent = len(cozify.hub.commands)
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "switch", "turn_off", switch)
    assert raised.value.translation_key == "cozify_hub_unreachable"
    assert len(cozify.hub.commands) == sent


async def test_a_command_goes_through_the_relay_while_the_lan_is_down(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """The hub off the LAN: the command is relayed (PUT) and confirmed."""
    switch = device_entity(hass, cozify, Platform.SWITCH, SOCKET, "switch")
    await cozify.hub.go_offline()
    await poll(hub_entry)
    await call(hass, "switch", "turn_off", switch)
    assert state(hass, switch).state == STATE_OFF
    relayed = {k: n for k, n in cozify.cloud.requests.items() if k.startswith("PUT")}
    assert relayed == {"PUT /hub/remote/cc/{v}/devices/command": 1}


async def test_a_refused_relay_is_a_clear_error(
    hass: HomeAssistant, cozify: CozifySimulator
) -> None:
    """Cloud mode, remote access refused (403): translated error, nothing applied."""
    entry = await set_up_entry(hass, await cozify_entry_for(cozify, cloud=True))
    switch = device_entity(hass, cozify, Platform.SWITCH, SOCKET, "switch")
    cozify.set_fault(CozifyFault.RELAY_REFUSED)
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "switch", "turn_off", switch)
    assert raised.value.translation_key == "relay_refused"
    assert entry.state.recoverable


async def test_an_unreachable_device_gets_no_command(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """Its entities are unavailable: Home Assistant sends it nothing."""
    hub = cozify.hub
    switch = device_entity(hass, cozify, Platform.SWITCH, SOCKET, "switch")
    hub.set_reachable(hub.device_named(SOCKET), False)
    await poll(hub_entry)
    assert state(hass, switch).state == STATE_UNAVAILABLE
    sent = len(hub.commands)
    await call(hass, "switch", "turn_off", switch)
    assert len(hub.commands) == sent
