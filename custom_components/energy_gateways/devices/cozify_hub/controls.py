"""What Home Assistant controls behind a Cozify Hub: switches, thermostats, scenes.

(Lights are in `lights.py`.) Every write is one command to the hub; the
entity shows only what the hub reports afterwards (the runtime polls right
after a command until the device followed).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from homeassistant.components.climate.const import HVACAction
from homeassistant.components.switch.const import SwitchDeviceClass

from ...climate import GatewayClimateEntityDescription
from ...scene import GatewaySceneEntityDescription
from ...switch import GatewaySwitchEntityDescription
from .data import HubData
from .entities import HUB, reachable
from .models import STATE_SOCKET, STATE_THERMOSTAT, CozifyDevice, DeviceState, Scene

if TYPE_CHECKING:
    from .runtime import CozifyHubRuntime

TARGET_STEP = 0.5
"""°C: what a thermostat's target is set in."""


def switches_of(
    devices: Iterable[CozifyDevice],
) -> list[GatewaySwitchEntityDescription[HubData]]:
    """Sockets (outlets), and devices with ON_OFF that are neither light nor socket."""
    return [
        _switch(device)
        for device in devices
        if not device.is_light
        and (device.state_type == STATE_SOCKET or "ON_OFF" in device.capabilities)
    ]


def _switch(device: CozifyDevice) -> GatewaySwitchEntityDescription[HubData]:
    device_id = device.id

    async def turn(runtime: CozifyHubRuntime, on: bool) -> None:
        await runtime.async_command(
            device_id,
            {"id": device_id, "type": "CMD_DEVICE_ON" if on else "CMD_DEVICE_OFF"},
            lambda new: new.is_on is on,
        )

    return GatewaySwitchEntityDescription[HubData](
        key=f"{device_id}_switch",
        device=device_id,
        name=None,  # the device's name
        device_class=SwitchDeviceClass.OUTLET
        if device.state_type == STATE_SOCKET
        else SwitchDeviceClass.SWITCH,
        available_fn=reachable(device_id),
        is_on_fn=lambda data: (
            s.is_on if (s := data.state_of(device_id)) is not None else None
        ),
        set_fn=turn,
    )


def climates_of(
    devices: Iterable[CozifyDevice],
) -> list[GatewayClimateEntityDescription[HubData]]:
    """One climate entity per thermostat."""
    return [
        _climate(device) for device in devices if device.state_type == STATE_THERMOSTAT
    ]


def _action(state: DeviceState | None) -> HVACAction | None:
    """Heating while the thermostat asks for heat; idle otherwise."""
    if state is None or state.heating_demand is None:
        return None
    return HVACAction.HEATING if state.heating_demand > 0 else HVACAction.IDLE


def _climate(device: CozifyDevice) -> GatewayClimateEntityDescription[HubData]:
    device_id = device.id

    async def set_target(runtime: CozifyHubRuntime, target: float) -> None:
        target = round(target / TARGET_STEP) * TARGET_STEP
        await runtime.async_command(
            device_id,
            {
                "id": device_id,
                "type": "CMD_DEVICE",
                "state": {"type": STATE_THERMOSTAT, "targetTemp": target},
            },
            lambda new: (
                new.target_temperature is not None
                and abs(new.target_temperature - target) < TARGET_STEP / 2
            ),
        )

    return GatewayClimateEntityDescription[HubData](
        key=f"{device_id}_climate",
        device=device_id,
        name=None,
        available_fn=reachable(device_id),
        current_fn=lambda data: (
            s.temperature if (s := data.state_of(device_id)) else None
        ),
        target_fn=lambda data: (
            s.target_temperature if (s := data.state_of(device_id)) else None
        ),
        action_fn=lambda data: _action(data.state_of(device_id)),
        set_target_fn=set_target,
        step=TARGET_STEP,
    )


def scene_key(scene_id: str) -> str:
    """Return the key (unique-id suffix) of a scene's entity."""
    return f"scene_{scene_id}"


def scenes_of(
    scenes: Iterable[Scene],
) -> list[GatewaySceneEntityDescription[HubData]]:
    """One scene entity per scene of the hub, on the hub's device."""
    return [_scene(scene) for scene in scenes]


def _scene(scene: Scene) -> GatewaySceneEntityDescription[HubData]:
    scene_id = scene.id

    async def activate(runtime: CozifyHubRuntime) -> None:
        await runtime.async_activate_scene(scene_id)

    def active(data: HubData) -> bool | None:
        current = data.scenes.get(scene_id)
        return current.is_on if current is not None else None

    return GatewaySceneEntityDescription[HubData](
        key=scene_key(scene_id),
        device=HUB,
        # A scene's name is the hub's (user data): not translated.
        name=scene.name,
        available_fn=lambda data: scene_id in data.scenes,
        activate_fn=activate,
        active_fn=active,
    )
