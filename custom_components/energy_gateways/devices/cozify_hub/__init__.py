"""Cozify Hub: the sensors behind a Cozify Hub, on the LAN or through the Cozify cloud."""

from __future__ import annotations

from ...runtime import DeviceType
from .config_flow import CozifyHubConfigFlow
from .const import DEVICE_TYPE as KEY
from .options_flow import CozifyHubOptionsFlow
from .runtime import PLATFORMS, async_setup

DEVICE_TYPE = DeviceType(
    key=KEY,
    platforms=PLATFORMS,
    async_setup=async_setup,
    options_flow=CozifyHubOptionsFlow,
)

__all__ = ["DEVICE_TYPE", "CozifyHubConfigFlow"]
