"""Config-entry diagnostics; the device type supplies its part."""

from __future__ import annotations

from collections.abc import Iterable
import re
from typing import Any, cast

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import (
    CONF_EMAIL,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_USERNAME,
)
from homeassistant.core import HomeAssistant

from .runtime import EnergyGatewaysConfigEntry

REDACTED = "**REDACTED**"
ENTRY_KEYS_TO_REDACT = {
    CONF_EMAIL,
    CONF_HOST,
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_USERNAME,
    "unique_id",
    "title",
    # Cozify Hub: the cloud token, the hub key and the hub id (its unique id)
    "cloud_token",
    "hub_key",
    "hub_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for one config entry."""
    return {
        "entry": async_redact_data(entry.as_dict(), ENTRY_KEYS_TO_REDACT),
        "device": await entry.runtime_data.async_diagnostics(),
    }


def redact_values[T](data: T, secrets: Iterable[str | None]) -> T:
    """Replace every occurrence of the given identifiers inside strings.

    Key-based redaction misses identifiers embedded in other values (a hostname
    that contains the serial, a telegram line with the meter id), so known
    identifiers are also scrubbed wherever they appear.
    """
    needles = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
    if not needles:
        return data
    pattern = re.compile("|".join(map(re.escape, needles)), re.IGNORECASE)

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(REDACTED, value)
        if isinstance(value, dict):
            return {key: scrub(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [scrub(item) for item in value]
        return value

    return cast("T", scrub(data))
