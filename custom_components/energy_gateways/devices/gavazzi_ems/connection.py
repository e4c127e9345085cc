"""How an entry's settings become a client: address, account, certificate trust."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ...trust import ssl_option
from .client import EmsClient


def create_client(hass: HomeAssistant, settings: Mapping[str, Any]) -> EmsClient:
    """Build the client of an entry (or of a config flow's input)."""
    return EmsClient(
        async_get_clientsession(hass),
        settings[CONF_HOST],
        settings[CONF_USERNAME],
        settings[CONF_PASSWORD],
        ssl=ssl_option(settings),
    )
