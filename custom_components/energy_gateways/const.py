"""Constants shared by the whole integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "energy_gateways"
LOGGER = logging.getLogger(__package__)

CONF_DEVICE_TYPE: Final = "device_type"
# Option: import the device's own history into long-term statistics (default on).
CONF_IMPORT_HISTORY: Final = "import_history"
