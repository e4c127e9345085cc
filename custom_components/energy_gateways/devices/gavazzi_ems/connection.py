"""How an entry's settings become a client: address, account, certificate trust."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ...transport.tls import fingerprint_option
from .client import EmsClient, SslOption

CONF_FINGERPRINT = "certificate_sha256"
"""Entry data: SHA-256 (hex) of the self-signed certificate the user trusted."""


def ssl_option(settings: Mapping[str, Any]) -> SslOption:
    """Pin a trusted certificate; else verify it, or not at all if so chosen."""
    fingerprint = settings.get(CONF_FINGERPRINT)
    if fingerprint:
        return fingerprint_option(fingerprint)
    return bool(settings.get(CONF_VERIFY_SSL, True))


def create_client(hass: HomeAssistant, settings: Mapping[str, Any]) -> EmsClient:
    """Build the client of an entry (or of a config flow's input)."""
    return EmsClient(
        async_get_clientsession(hass),
        settings[CONF_HOST],
        settings[CONF_USERNAME],
        settings[CONF_PASSWORD],
        ssl=ssl_option(settings),
    )
