"""Constants shared by the whole integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "energy_gateways"
LOGGER = logging.getLogger(__package__)

CONF_DEVICE_TYPE: Final = "device_type"
