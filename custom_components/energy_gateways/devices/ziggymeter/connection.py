"""How an entry's settings become a client: address, account, certificate trust."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant

from ...trust import account_client
from .client import ZiggyClient

CONF_LOGIN_PATH = "login_path"
"""Entry data: the login path the reader answered (the two vendor pages differ)."""


def create_client(hass: HomeAssistant, settings: Mapping[str, Any]) -> ZiggyClient:
    """Build the client of an entry (or of a config flow's input)."""
    return account_client(
        ZiggyClient, hass, settings, login_path=settings.get(CONF_LOGIN_PATH)
    )
