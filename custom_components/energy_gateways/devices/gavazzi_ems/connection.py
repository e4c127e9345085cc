"""How an entry's settings become a client: address, account, certificate trust."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant

from ...trust import account_client
from .client import EmsClient


def create_client(hass: HomeAssistant, settings: Mapping[str, Any]) -> EmsClient:
    """Build the client of an entry (or of a config flow's input)."""
    return account_client(EmsClient, hass, settings)
