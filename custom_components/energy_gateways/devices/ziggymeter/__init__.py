"""ZiggyMeter: a battery or USB powered meter reader with a REST API over HTTPS."""

from __future__ import annotations

from ...runtime import DeviceType
from .config_flow import DEVICE_TYPE as KEY, ZiggyMeterConfigFlow
from .options_flow import ZiggyMeterOptionsFlow
from .runtime import PLATFORMS, async_remove, async_setup

DEVICE_TYPE = DeviceType(
    key=KEY,
    platforms=PLATFORMS,
    async_setup=async_setup,
    options_flow=ZiggyMeterOptionsFlow,
    async_remove=async_remove,
)

__all__ = ["DEVICE_TYPE", "ZiggyMeterConfigFlow"]
