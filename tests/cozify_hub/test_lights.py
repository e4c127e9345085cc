"""Lights behind a Cozify Hub, switched, dimmed and coloured from Home Assistant.

Every light fixture of the home (CT-only, HS+CT, dimmable-only, on/off-only)
through `light.turn_on`/`light.turn_off` against the simulated hub, which
refuses read-only and unsupported keys here (strict commands): the exact
command bodies, and the state shown only once the hub reports it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import copy
import math
from typing import Any

from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_BRIGHTNESS_PCT,
    ATTR_COLOR_MODE,
    ATTR_COLOR_TEMP_KELVIN,
    ATTR_HS_COLOR,
    ATTR_MAX_COLOR_TEMP_KELVIN,
    ATTR_MIN_COLOR_TEMP_KELVIN,
    ATTR_SUPPORTED_COLOR_MODES,
    ATTR_TRANSITION,
    ColorMode,
    LightEntityFeature,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.cozify_hub.coordinator import (
    FOLLOW_UP_PAUSES,
)
from simulators.cozify_hub import CozifyFault, CozifySimulator

from ..conftest import set_up_entry
from .conftest import cozify_entry_for, poll, start_simulator, state

CT = "Olohuoneen kattovalo"
"""IKEA, colour temperature 2202.64..4000 K, at 2702.7 K, brightness 0.62."""
COLOR = "Olohuoneen värivalo"
"""Philips, HS + colour temperature 2000..6535 K, in hs (1.05 rad, 0.8)."""
DIMMABLE = "Keittiön työtasovalo"
ON_OFF = "Eteisen valo"
UNREACHABLE = "Yöpöydän valo"

TRANSITION = LightEntityFeature.TRANSITION
POLL = "GET /cc/{v}/hub/poll"


@pytest.fixture
async def cozify(socket_enabled: None) -> AsyncGenerator[CozifySimulator]:
    """The simulated home; commands act at once; bad keys are refused (400)."""
    simulator = await start_simulator(command_delay=0.0, strict_commands=True)
    yield simulator
    await simulator.stop()


def light_of(hass: HomeAssistant, cozify: CozifySimulator, name: str) -> str:
    """The entity id of a named device's light."""
    hub = cozify.hub
    found = er.async_get(hass).async_get_entity_id(
        Platform.LIGHT, DOMAIN, f"{hub.hub_id}_{hub.device_named(name)}_light"
    )
    assert found is not None, name
    return found


async def call(hass: HomeAssistant, service: str, entity_id: str, **data: Any) -> None:
    """Call a light action and wait for the polls that follow the command."""
    await hass.services.async_call(
        "light", service, {ATTR_ENTITY_ID: entity_id, **data}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)


def last_command(cozify: CozifySimulator) -> dict[str, Any]:
    """The one command the hub got from the last action."""
    return cozify.hub.commands[-1]


def light_command(device_id: str, **state: Any) -> dict[str, Any]:
    """A CMD_DEVICE with a partial STATE_LIGHT."""
    return {
        "id": device_id,
        "type": "CMD_DEVICE",
        "state": {"type": "STATE_LIGHT", **state},
    }


# -- what each fixture is -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "modes", "features", "attributes"),
    [
        (
            CT,
            [ColorMode.COLOR_TEMP],
            TRANSITION,
            {
                ATTR_COLOR_MODE: ColorMode.COLOR_TEMP,
                ATTR_BRIGHTNESS: 158,  # 1 + 0.62 * 254
                ATTR_COLOR_TEMP_KELVIN: 2703,
                ATTR_MIN_COLOR_TEMP_KELVIN: 2203,  # 2202.64 rounded inwards
                ATTR_MAX_COLOR_TEMP_KELVIN: 4000,
                ATTR_HS_COLOR: pytest.approx((28.18, 65.7), abs=0.5),  # HA's own
            },
        ),
        (
            COLOR,
            [ColorMode.COLOR_TEMP, ColorMode.HS],
            TRANSITION,
            {
                ATTR_COLOR_MODE: ColorMode.HS,
                ATTR_BRIGHTNESS: 158,
                ATTR_HS_COLOR: (round(math.degrees(1.05), 3), 80.0),
                ATTR_COLOR_TEMP_KELVIN: None,  # hs mode
                ATTR_MIN_COLOR_TEMP_KELVIN: 2000,
                ATTR_MAX_COLOR_TEMP_KELVIN: 6535,
            },
        ),
        (
            DIMMABLE,
            [ColorMode.BRIGHTNESS],
            TRANSITION,
            {ATTR_COLOR_MODE: ColorMode.BRIGHTNESS, ATTR_BRIGHTNESS: 158},
        ),
        (ON_OFF, [ColorMode.ONOFF], 0, {ATTR_COLOR_MODE: ColorMode.ONOFF}),
    ],
)
async def test_every_light_fixture_shows_its_modes_range_and_state(
    hass: HomeAssistant,
    cozify: CozifySimulator,
    hub_entry: MockConfigEntry,
    name: str,
    modes: list[ColorMode],
    features: int,
    attributes: dict[str, Any],
) -> None:
    """Colour modes from the capabilities, Kelvin range from the state."""
    light = state(hass, light_of(hass, cozify, name))
    assert light.state == STATE_ON
    assert light.name == name  # the device's name is the light's
    assert sorted(light.attributes[ATTR_SUPPORTED_COLOR_MODES]) == modes
    assert light.attributes[ATTR_SUPPORTED_FEATURES] == features
    for key, value in attributes.items():
        assert light.attributes.get(key) == value, key
    if ColorMode.COLOR_TEMP not in modes:
        assert ATTR_MIN_COLOR_TEMP_KELVIN not in light.attributes
    if modes == [ColorMode.ONOFF]:
        assert ATTR_BRIGHTNESS not in light.attributes


async def test_each_light_is_on_its_device_and_only_lights_are_lights(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """One light per STATE_LIGHT device with ON_OFF, on that device."""
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    lights = [
        entry
        for entry in er.async_entries_for_config_entry(entities, hub_entry.entry_id)
        if entry.domain == Platform.LIGHT
    ]
    expected = {
        record["name"]
        for record in cozify.hub.devices.values()
        if record["state"]["type"] == "STATE_LIGHT"
    }
    assert len(lights) == len(expected) == 5
    for entry in lights:
        assert entry.device_id is not None
        device = devices.async_get(entry.device_id)
        assert device is not None
        assert device.name in expected
        assert entry.unique_id.endswith("_light")
        assert entry.has_entity_name
        assert entry.original_name is None


# -- commands -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "sent", "shown"),
    [
        pytest.param(
            CT,
            {ATTR_BRIGHTNESS: 128},
            {"isOn": True, "brightness": 0.5},
            {ATTR_BRIGHTNESS: 128, ATTR_COLOR_TEMP_KELVIN: 2703},
            id="brightness",
        ),
        pytest.param(
            CT,
            {ATTR_BRIGHTNESS: 1},
            {"isOn": True, "brightness": 0.0},
            {ATTR_BRIGHTNESS: 1},
            id="dimmest",
        ),
        pytest.param(
            CT,
            {ATTR_COLOR_TEMP_KELVIN: 3000},
            {"isOn": True, "colorMode": "ct", "temperature": 3000},
            {ATTR_COLOR_TEMP_KELVIN: 3000, ATTR_BRIGHTNESS: 158},
            id="kelvin",
        ),
        pytest.param(
            CT,
            {ATTR_COLOR_TEMP_KELVIN: 1800},
            {"isOn": True, "colorMode": "ct", "temperature": 2203},
            {ATTR_COLOR_TEMP_KELVIN: 2203},
            id="kelvin-below-range",
        ),
        pytest.param(
            CT,
            {ATTR_COLOR_TEMP_KELVIN: 6500},
            {"isOn": True, "colorMode": "ct", "temperature": 4000},
            {ATTR_COLOR_TEMP_KELVIN: 4000},
            id="kelvin-above-range",
        ),
        pytest.param(
            CT,
            {ATTR_BRIGHTNESS: 255, ATTR_COLOR_TEMP_KELVIN: 3500, ATTR_TRANSITION: 2.5},
            {
                "isOn": True,
                "brightness": 1.0,
                "colorMode": "ct",
                "temperature": 3500,
                "transitionMsec": 2500,
            },
            {ATTR_BRIGHTNESS: 255, ATTR_COLOR_TEMP_KELVIN: 3500},
            id="brightness-kelvin-transition",
        ),
        pytest.param(
            COLOR,
            {ATTR_HS_COLOR: (180, 50)},
            {"isOn": True, "colorMode": "hs", "hue": 3.1416, "saturation": 0.5},
            {ATTR_COLOR_MODE: ColorMode.HS, ATTR_HS_COLOR: (180.0, 50.0)},
            id="hs",
        ),
        pytest.param(
            COLOR,
            {ATTR_HS_COLOR: (30, 100), ATTR_BRIGHTNESS_PCT: 50, ATTR_TRANSITION: 0.4},
            {
                "isOn": True,
                "brightness": 0.5,  # HA's 50 % is 128 of 255
                "colorMode": "hs",
                "hue": 0.5236,
                "saturation": 1.0,
                "transitionMsec": 400,
            },
            {ATTR_BRIGHTNESS: 128, ATTR_HS_COLOR: (30.0, 100.0)},
            id="hs-brightness-transition",
        ),
        pytest.param(
            COLOR,
            {ATTR_COLOR_TEMP_KELVIN: 6000},
            {"isOn": True, "colorMode": "ct", "temperature": 6000},
            {
                ATTR_COLOR_MODE: ColorMode.COLOR_TEMP,
                ATTR_COLOR_TEMP_KELVIN: 6000,
            },
            id="hs-light-to-kelvin",
        ),
        pytest.param(
            COLOR,
            {ATTR_COLOR_TEMP_KELVIN: 9000},
            {"isOn": True, "colorMode": "ct", "temperature": 6535},
            {ATTR_COLOR_TEMP_KELVIN: 6535},
            id="hs-light-kelvin-above-range",
        ),
        pytest.param(
            DIMMABLE,
            {ATTR_BRIGHTNESS_PCT: 25},
            {"isOn": True, "brightness": 0.248},  # 25 % is 64 of 255
            {ATTR_BRIGHTNESS: 64, ATTR_COLOR_MODE: ColorMode.BRIGHTNESS},
            id="dimmable-brightness",
        ),
        pytest.param(
            DIMMABLE,
            {ATTR_TRANSITION: 1},
            {"isOn": True, "transitionMsec": 1000},
            {ATTR_BRIGHTNESS: 158},
            id="dimmable-transition-only",
        ),
    ],
)
async def test_turn_on_sends_one_command_with_what_was_asked(
    hass: HomeAssistant,
    cozify: CozifySimulator,
    hub_entry: MockConfigEntry,
    name: str,
    data: dict[str, Any],
    sent: dict[str, Any],
    shown: dict[str, Any],
) -> None:
    """One CMD_DEVICE with only the asked keys; the state is the hub's after."""
    hub = cozify.hub
    device_id = hub.device_named(name)
    light = light_of(hass, cozify, name)
    sent_before = len(hub.commands)
    polled_before = hub.requests[POLL]
    await call(hass, "turn_on", light, **data)
    assert hub.commands[sent_before:] == [light_command(device_id, **sent)]
    # The follow-up polls end as soon as the hub shows what was asked.
    assert hub.requests[POLL] - polled_before <= 2
    after = state(hass, light)
    assert after.state == STATE_ON
    for key, value in shown.items():
        assert after.attributes.get(key) == value, key


async def test_a_light_that_is_off_turns_on_with_its_brightness(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """Plain on is CMD_DEVICE_ON; on with a brightness is one CMD_DEVICE."""
    hub = cozify.hub
    device_id = hub.device_named(CT)
    light = light_of(hass, cozify, CT)
    await call(hass, "turn_off", light)
    assert last_command(cozify) == {"id": device_id, "type": "CMD_DEVICE_OFF"}
    assert state(hass, light).state == STATE_OFF
    assert state(hass, light).attributes.get(ATTR_BRIGHTNESS) is None
    await call(hass, "turn_on", light)
    assert last_command(cozify) == {"id": device_id, "type": "CMD_DEVICE_ON"}
    assert state(hass, light).state == STATE_ON
    assert state(hass, light).attributes[ATTR_BRIGHTNESS] == 158
    await call(hass, "turn_off", light)
    await call(hass, "turn_on", light, **{ATTR_BRIGHTNESS: 200})
    assert last_command(cozify) == light_command(
        device_id, isOn=True, brightness=0.7835
    )
    assert state(hass, light).state == STATE_ON
    assert state(hass, light).attributes[ATTR_BRIGHTNESS] == 200


@pytest.mark.parametrize(
    ("name", "data", "sent"),
    [
        (CT, {}, {"type": "CMD_DEVICE_OFF"}),
        (
            CT,
            {ATTR_TRANSITION: 1.5},
            {
                "type": "CMD_DEVICE",
                "state": {"type": "STATE_LIGHT", "isOn": False, "transitionMsec": 1500},
            },
        ),
        (
            COLOR,
            {ATTR_TRANSITION: 0},
            {
                "type": "CMD_DEVICE",
                "state": {"type": "STATE_LIGHT", "isOn": False, "transitionMsec": 0},
            },
        ),
        (DIMMABLE, {}, {"type": "CMD_DEVICE_OFF"}),
        # An on/off-only light has no transition: Home Assistant drops it.
        (ON_OFF, {ATTR_TRANSITION: 3}, {"type": "CMD_DEVICE_OFF"}),
    ],
)
async def test_turn_off_with_and_without_transition(
    hass: HomeAssistant,
    cozify: CozifySimulator,
    hub_entry: MockConfigEntry,
    name: str,
    data: dict[str, Any],
    sent: dict[str, Any],
) -> None:
    """CMD_DEVICE_OFF, or a CMD_DEVICE carrying isOn false and the transition."""
    hub = cozify.hub
    light = light_of(hass, cozify, name)
    sent_before = len(hub.commands)
    polled_before = hub.requests[POLL]
    await call(hass, "turn_off", light, **data)
    assert hub.commands[sent_before:] == [{"id": hub.device_named(name), **sent}]
    assert hub.requests[POLL] - polled_before <= 2
    assert state(hass, light).state == STATE_OFF


async def test_an_on_off_light_ignores_transition_and_switches(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """No TRANSITION feature: a bare CMD_DEVICE_ON even when one is asked."""
    hub = cozify.hub
    light = light_of(hass, cozify, ON_OFF)
    await call(hass, "turn_off", light)
    await call(hass, "turn_on", light, **{ATTR_TRANSITION: 2})
    assert last_command(cozify) == {
        "id": hub.device_named(ON_OFF),
        "type": "CMD_DEVICE_ON",
    }
    assert state(hass, light).state == STATE_ON


async def test_transitions_reach_the_hub_in_milliseconds(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """The hub sees each asked transition (write-only: it never reports one)."""
    hub = cozify.hub
    light = light_of(hass, cozify, DIMMABLE)
    await call(hass, "turn_off", light, **{ATTR_TRANSITION: 0.25})
    await call(hass, "turn_on", light, **{ATTR_TRANSITION: 12})
    device_id = hub.device_named(DIMMABLE)
    assert hub.transitions[-2:] == [(device_id, 250), (device_id, 12000)]
    assert "transitionMsec" not in hub.devices[device_id]["state"]


# -- what is shown --------------------------------------------------------------


async def test_the_state_is_the_hubs_not_a_guess(
    hass: HomeAssistant, socket_enabled: None
) -> None:
    """Until the hub applied the command and a poll saw it, the old state stays."""
    simulator = await start_simulator(command_delay=0.6, strict_commands=True)
    try:
        entry = await set_up_entry(hass, await cozify_entry_for(simulator))
        light = light_of(hass, simulator, CT)
        seen: list[tuple[str, Any]] = []

        def record(event: Event[EventStateChangedData]) -> None:
            new = event.data["new_state"]
            if event.data["entity_id"] == light and new is not None:
                seen.append((new.state, new.attributes.get(ATTR_BRIGHTNESS)))

        unsubscribe = hass.bus.async_listen("state_changed", record)
        await hass.services.async_call(
            "light",
            "turn_on",
            {ATTR_ENTITY_ID: light, ATTR_BRIGHTNESS: 30},
            blocking=True,
        )
        # The hub took the command but has not acted: nothing changed here.
        assert last_command(simulator)["state"]["brightness"] == 0.1142
        assert state(hass, light).attributes[ATTR_BRIGHTNESS] == 158
        await poll(entry)
        assert state(hass, light).attributes[ATTR_BRIGHTNESS] == 158
        assert seen == []
        # The follow-up polls see the hub's change.
        await hass.async_block_till_done(wait_background_tasks=True)
        assert state(hass, light).attributes[ATTR_BRIGHTNESS] == 30
        assert seen == [(STATE_ON, 30)]
        unsubscribe()
    finally:
        await simulator.stop()


async def test_changes_made_in_the_cozify_app_are_shown(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """Mode, colour, brightness and on/off follow the hub's reports."""
    hub = cozify.hub
    device_id = hub.device_named(COLOR)
    light = light_of(hass, cozify, COLOR)
    hub.change(device_id, colorMode="ct", temperature=4545.45, hue=-1, saturation=-1)
    await poll(hub_entry)
    shown = state(hass, light).attributes
    assert shown[ATTR_COLOR_MODE] == ColorMode.COLOR_TEMP
    assert shown[ATTR_COLOR_TEMP_KELVIN] == 4545
    hub.change(
        device_id,
        colorMode="hs",
        hue=2 * math.pi,
        saturation=1.0,
        temperature=-1,
        brightness=0.0,
    )
    await poll(hub_entry)
    shown = state(hass, light).attributes
    assert shown[ATTR_COLOR_MODE] == ColorMode.HS
    assert shown[ATTR_HS_COLOR] == (0.0, 100.0)  # 2π is red again
    assert shown[ATTR_BRIGHTNESS] == 1  # on at the dimmest: never 0
    hub.change(device_id, isOn=False)
    await poll(hub_entry)
    assert state(hass, light).state == STATE_OFF


async def test_a_new_light_without_a_range_or_mode_gets_defaults(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """A light added later: HA's default Kelvin range, mode from its colours."""
    hub = cozify.hub
    record = copy.deepcopy(hub.devices[hub.device_named(COLOR)])
    device_id = "c000ffff-9857-4f57-ad53-bc9cbe667c35"
    record["id"] = device_id
    record["name"] = "Uusi valo"
    for key in ("colorMode", "minTemperature", "maxTemperature"):
        del record["state"][key]
    hub.add_device(record)
    await poll(hub_entry)
    await hass.async_block_till_done()
    light = light_of(hass, cozify, "Uusi valo")
    shown = state(hass, light).attributes
    assert shown[ATTR_COLOR_MODE] == ColorMode.HS  # hue in use, no temperature
    assert shown[ATTR_MIN_COLOR_TEMP_KELVIN] == 2000
    assert shown[ATTR_MAX_COLOR_TEMP_KELVIN] == 6535
    # It reports no colorMode: none is sent (the hub picks it from the colour).
    await call(hass, "turn_on", light, **{ATTR_COLOR_TEMP_KELVIN: 8000})
    assert last_command(cozify) == light_command(device_id, isOn=True, temperature=6535)
    shown = state(hass, light).attributes
    assert shown[ATTR_COLOR_TEMP_KELVIN] == 6535
    assert shown[ATTR_COLOR_MODE] == ColorMode.COLOR_TEMP
    # Neither colour in use and no mode: colour temperature.
    hub.change(device_id, hue=-1, saturation=-1, temperature=-1)
    await poll(hub_entry)
    shown = state(hass, light).attributes
    assert shown[ATTR_COLOR_MODE] == ColorMode.COLOR_TEMP
    assert shown[ATTR_COLOR_TEMP_KELVIN] is None


async def test_a_light_the_hub_stops_reporting_goes_away(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """The hub drops the device: its light leaves with it."""
    hub = cozify.hub
    light = light_of(hass, cozify, DIMMABLE)
    hub.remove_device(hub.device_named(DIMMABLE))
    await poll(hub_entry)
    await hass.async_block_till_done()
    gone = hass.states.get(light)
    assert gone is None or gone.state == STATE_UNAVAILABLE


# -- errors and unreachable lights ----------------------------------------------


async def test_an_unreachable_light_is_unavailable_and_gets_no_command(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """Yöpöydän valo is unreachable: unavailable; an action sends nothing."""
    hub = cozify.hub
    light = light_of(hass, cozify, UNREACHABLE)
    assert state(hass, light).state == STATE_UNAVAILABLE
    sent = len(hub.commands)
    await call(hass, "turn_on", light, **{ATTR_BRIGHTNESS: 100})
    await call(hass, "turn_off", light)
    assert len(hub.commands) == sent
    hub.set_reachable(hub.device_named(UNREACHABLE), True)
    await poll(hub_entry)
    assert state(hass, light).state == STATE_OFF


async def test_a_light_that_does_not_follow_keeps_the_hubs_state(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """The hub takes the command, the bulb never acts: it shows the old colour."""
    hub = cozify.hub
    device_id = hub.device_named(COLOR)
    light = light_of(hass, cozify, COLOR)
    hub.devices[device_id]["state"]["reachable"] = False  # silently: no delta
    polled_before = hub.requests[POLL]
    await call(hass, "turn_on", light, **{ATTR_HS_COLOR: (200, 40)})
    # It never shows the colour: every follow-up poll runs (the timer may add one).
    assert hub.requests[POLL] - polled_before >= len(FOLLOW_UP_PAUSES)
    assert last_command(cozify) == light_command(
        device_id, isOn=True, colorMode="hs", hue=3.4907, saturation=0.4
    )
    shown = state(hass, light)
    assert shown.state == STATE_ON
    assert shown.attributes[ATTR_HS_COLOR] == (round(math.degrees(1.05), 3), 80.0)


async def test_a_refused_command_is_a_translated_error(
    hass: HomeAssistant, cozify: CozifySimulator, hub_entry: MockConfigEntry
) -> None:
    """A 4xx with a body: the error names the light and the hub's reason."""
    light = light_of(hass, cozify, CT)
    cozify.set_fault(CozifyFault("command_refused"), reason="device busy")
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "turn_on", light, **{ATTR_BRIGHTNESS: 10})
    assert raised.value.translation_key == "cozify_command_refused"
    assert raised.value.translation_placeholders == {
        "name": CT,
        "reason": "device busy",
    }
    assert state(hass, light).attributes[ATTR_BRIGHTNESS] == 158
