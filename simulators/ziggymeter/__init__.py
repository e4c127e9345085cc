"""Simulator of the ZiggyMeter meter reader's REST API (HTTPS, Bearer tokens, OTA)."""

from .data import ota_image
from .faults import ZiggyFault
from .simulator import OtaUpload, ZiggySimulator

__all__ = ["OtaUpload", "ZiggyFault", "ZiggySimulator", "ota_image"]
