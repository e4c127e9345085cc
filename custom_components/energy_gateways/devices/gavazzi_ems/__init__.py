"""Carlo Gavazzi EMS: every meter, load and signal of the gateway, polled over HTTPS."""

from __future__ import annotations

from ...runtime import DeviceType
from .config_flow import DEVICE_TYPE as KEY, GavazziEmsConfigFlow
from .options_flow import GavazziEmsOptionsFlow
from .runtime import PLATFORMS, async_setup

DEVICE_TYPE = DeviceType(
    key=KEY,
    platforms=PLATFORMS,
    async_setup=async_setup,
    options_flow=GavazziEmsOptionsFlow,
)

__all__ = ["DEVICE_TYPE", "GavazziEmsConfigFlow"]
