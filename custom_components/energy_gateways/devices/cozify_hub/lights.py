"""Light entities of the devices behind a Cozify Hub.

A device that is a light (`STATE_LIGHT`) and can be switched (`ON_OFF`) gets one
light named like the device. Its colour modes come from its capabilities; its
colour temperature range from its state (`minTemperature`/`maxTemperature`).
Units are converted only by the model's light-unit functions.

Every service call is ONE command: a bare `CMD_DEVICE_ON`/`CMD_DEVICE_OFF`, or a
`CMD_DEVICE` with a partial `STATE_LIGHT` holding exactly what was asked (keys
left out stay as they are on the hub; read-only keys are never sent). The
entity shows only what the hub reports: the runtime polls right after the
command until the light shows what was asked (within one step of each scale).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import math
from typing import TYPE_CHECKING, Any

from homeassistant.components.light.const import (
    ATTR_BRIGHTNESS,
    ATTR_COLOR_TEMP_KELVIN,
    ATTR_HS_COLOR,
    ATTR_TRANSITION,
    DEFAULT_MAX_KELVIN,
    DEFAULT_MIN_KELVIN,
    ColorMode,
    LightEntityFeature,
)
from homeassistant.components.light.helper import brightness_supported

from ...light import GatewayLightEntityDescription, LightState
from .data import HubData
from .entities import reachable
from .models import (
    BRIGHTNESS_STEP,
    CAP_BRIGHTNESS,
    CAP_COLOR_HS,
    CAP_COLOR_TEMP,
    CAP_ON_OFF,
    COLOR_MODE_CT,
    COLOR_MODE_HS,
    HUE_STEP,
    MIRED_STEP,
    SATURATION_STEP,
    STATE_LIGHT,
    CozifyDevice,
    DeviceState,
    brightness_from_ha,
    brightness_to_ha,
    clamp_kelvin,
    hue_from_ha,
    hue_to_ha,
    kelvin_range,
    kelvin_to_ha,
    mired,
    saturation_from_ha,
    saturation_to_ha,
    transition_to_ms,
)

if TYPE_CHECKING:
    from .runtime import CozifyHubRuntime

_SLACK = 1e-9
"""Floating-point slack on top of one step when comparing what was asked."""


def light_descriptions(
    devices: Iterable[CozifyDevice],
) -> list[GatewayLightEntityDescription[HubData]]:
    """Return one light per device that is a light with ON_OFF."""
    return [
        _light(device)
        for device in devices
        if device.is_light and CAP_ON_OFF in device.capabilities
    ]


def color_modes(capabilities: frozenset[str]) -> frozenset[ColorMode]:
    """Return the colour modes a light's capabilities give (valid for HA)."""
    modes: set[ColorMode] = set()
    if CAP_COLOR_HS in capabilities:
        modes.add(ColorMode.HS)
    if CAP_COLOR_TEMP in capabilities:
        modes.add(ColorMode.COLOR_TEMP)
    if not modes:
        modes.add(
            ColorMode.BRIGHTNESS if CAP_BRIGHTNESS in capabilities else ColorMode.ONOFF
        )
    return frozenset(modes)


def _range(state: DeviceState) -> tuple[int, int] | None:
    return kelvin_range(state.min_color_temp, state.max_color_temp)


def _mode(modes: frozenset[ColorMode], state: DeviceState) -> ColorMode:
    """Return the mode the light is in: its only one, or the one reported."""
    if len(modes) == 1:
        return next(iter(modes))
    if state.color_mode == COLOR_MODE_HS:
        return ColorMode.HS
    if state.color_mode == COLOR_MODE_CT:
        return ColorMode.COLOR_TEMP
    # No (known) colorMode: the colour fields in use tell (unused ones are -1).
    if state.hue is not None and state.color_temp is None:
        return ColorMode.HS
    return ColorMode.COLOR_TEMP


def light_state(modes: frozenset[ColorMode], state: DeviceState) -> LightState:
    """Return what HA shows of a light's state (the attributes its modes have)."""
    hs = (
        (hue_to_ha(state.hue), saturation_to_ha(state.saturation))
        if ColorMode.HS in modes
        and state.hue is not None
        and state.saturation is not None
        else None
    )
    return LightState(
        is_on=state.is_on,
        brightness=brightness_to_ha(state.brightness)
        if brightness_supported(modes) and state.brightness is not None
        else None,
        color_mode=_mode(modes, state),
        hs_color=hs,
        color_temp_kelvin=kelvin_to_ha(state.color_temp)
        if ColorMode.COLOR_TEMP in modes and state.color_temp is not None
        else None,
    )


def _near(value: float | None, wanted: float, step: float) -> bool:
    return value is not None and abs(value - wanted) <= step + _SLACK


def _turn(a: float, b: float) -> float:
    """Distance of two angles (radians) on the circle: 0 and 2π are the same."""
    difference = abs(a - b) % math.tau
    return min(difference, math.tau - difference)


def _near_hue(value: float | None, wanted: float) -> bool:
    """Within one hue step on the circle."""
    return value is not None and _turn(value, wanted) <= HUE_STEP + _SLACK


def _near_kelvin(value: float | None, wanted: float) -> bool:
    """Within one mired: the step a light's colour temperature moves in."""
    return (
        value is not None
        and value > 0
        and _near(mired(value), mired(wanted), MIRED_STEP)
    )


def shows(asked: dict[str, Any]) -> Callable[[DeviceState], bool]:
    """Return a test: does a reported state show what a command `asked` for."""

    def followed(state: DeviceState) -> bool:
        checks = (
            state.is_on is asked["isOn"],
            "brightness" not in asked
            or _near(state.brightness, asked["brightness"], BRIGHTNESS_STEP),
            "hue" not in asked or _near_hue(state.hue, asked["hue"]),
            "saturation" not in asked
            or _near(state.saturation, asked["saturation"], SATURATION_STEP),
            "temperature" not in asked
            or _near_kelvin(state.color_temp, asked["temperature"]),
        )
        return all(checks)

    return followed


def turn_on_state(
    kwargs: dict[str, Any], kelvin: tuple[int, int], *, with_mode: bool = True
) -> dict[str, Any] | None:
    """Return the partial STATE_LIGHT for `light.turn_on`; None for a bare "on".

    `kelvin` is the light's range: an asked colour temperature is clamped to it.
    `with_mode`: a colour comes with its `colorMode` (for a light that reports
    one; the hub sets the mode of one that does not from the colour itself).
    """
    state: dict[str, Any] = {}
    if (brightness := kwargs.get(ATTR_BRIGHTNESS)) is not None:
        state["brightness"] = brightness_from_ha(brightness)
    colour: dict[str, Any] = {}
    if (hs_color := kwargs.get(ATTR_HS_COLOR)) is not None:
        hue, saturation = hs_color
        colour.update(
            colorMode=COLOR_MODE_HS,
            hue=hue_from_ha(hue),
            saturation=saturation_from_ha(saturation),
        )
    elif (color_temp := kwargs.get(ATTR_COLOR_TEMP_KELVIN)) is not None:
        colour.update(
            colorMode=COLOR_MODE_CT, temperature=clamp_kelvin(color_temp, *kelvin)
        )
    if not with_mode:
        colour.pop("colorMode", None)
    state.update(colour)
    if (transition := kwargs.get(ATTR_TRANSITION)) is not None:
        state["transitionMsec"] = transition_to_ms(transition)
    if not state:
        return None
    return {"type": STATE_LIGHT, "isOn": True, **state}


def turn_off_state(kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """Return the partial STATE_LIGHT for `light.turn_off` (None: no transition)."""
    if (transition := kwargs.get(ATTR_TRANSITION)) is None:
        return None
    return {
        "type": STATE_LIGHT,
        "isOn": False,
        "transitionMsec": transition_to_ms(transition),
    }


def _light(device: CozifyDevice) -> GatewayLightEntityDescription[HubData]:
    device_id = device.id
    modes = color_modes(device.capabilities)

    def kelvin_of(data: HubData) -> tuple[int, int] | None:
        state = data.state_of(device_id)
        return _range(state) if state is not None else None

    def read(data: HubData) -> LightState | None:
        state = data.state_of(device_id)
        return light_state(modes, state) if state is not None else None

    async def send(
        runtime: CozifyHubRuntime, on: bool, state: dict[str, Any] | None
    ) -> None:
        if state is None:
            command: dict[str, Any] = {
                "id": device_id,
                "type": "CMD_DEVICE_ON" if on else "CMD_DEVICE_OFF",
            }
            state = {"isOn": on}
        else:
            command = {"id": device_id, "type": "CMD_DEVICE", "state": state}
        await runtime.async_command(device_id, command, shows(state))

    async def turn_on(runtime: CozifyHubRuntime, kwargs: dict[str, Any]) -> None:
        state = runtime.coordinator.data.state_of(device_id) or DeviceState()
        kelvin = _range(state) or (DEFAULT_MIN_KELVIN, DEFAULT_MAX_KELVIN)
        with_mode = state.color_mode is not None
        await send(runtime, True, turn_on_state(kwargs, kelvin, with_mode=with_mode))

    async def turn_off(runtime: CozifyHubRuntime, kwargs: dict[str, Any]) -> None:
        await send(runtime, False, turn_off_state(kwargs))

    return GatewayLightEntityDescription[HubData](
        key=f"{device_id}_light",
        device=device_id,
        name=None,  # the device's name
        available_fn=reachable(device_id),
        supported_color_modes=modes,
        # An on/off-only light has nothing to fade: HA drops a transition for it.
        supported_features=LightEntityFeature(0)
        if modes == {ColorMode.ONOFF}
        else LightEntityFeature.TRANSITION,
        color_temp_range_fn=kelvin_of,
        state_fn=read,
        turn_on_fn=turn_on,
        turn_off_fn=turn_off,
    )
