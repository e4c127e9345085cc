"""The registry of device types: the only place the shared core learns of them.

Adding a device type means a folder next to this file, one line here, one base
class in config_flow.py and its texts in the translations.
"""

from __future__ import annotations

from ..runtime import DeviceType
from .buzzn import DEVICE_TYPE as BUZZN
from .cozify_han import DEVICE_TYPE as COZIFY_HAN
from .cozify_hub import DEVICE_TYPE as COZIFY_HUB
from .gavazzi_ems import DEVICE_TYPE as GAVAZZI_EMS
from .ziggymeter import DEVICE_TYPE as ZIGGYMETER

DEVICE_TYPES: dict[str, DeviceType] = {
    device_type.key: device_type
    for device_type in (COZIFY_HAN, GAVAZZI_EMS, ZIGGYMETER, BUZZN, COZIFY_HUB)
}
