"""BUZZN: an energy-saving community's live group data, savings and profile."""

from __future__ import annotations

from ...runtime import DeviceType
from .config_flow import DEVICE_TYPE as KEY, BuzznConfigFlow
from .runtime import PLATFORMS, async_setup

DEVICE_TYPE = DeviceType(key=KEY, platforms=PLATFORMS, async_setup=async_setup)

__all__ = ["DEVICE_TYPE", "BuzznConfigFlow"]
