"""Cozify HAN reader: live electricity-meter data over the reader's local API."""

from __future__ import annotations

from ...runtime import DeviceType
from .config_flow import DEVICE_TYPE as KEY, CozifyHanConfigFlow
from .options_flow import CozifyHanOptionsFlow
from .runtime import DESCRIPTIONS, async_setup

DEVICE_TYPE = DeviceType(
    key=KEY,
    platforms=frozenset(DESCRIPTIONS),
    async_setup=async_setup,
    options_flow=CozifyHanOptionsFlow,
)

__all__ = ["DEVICE_TYPE", "CozifyHanConfigFlow"]
