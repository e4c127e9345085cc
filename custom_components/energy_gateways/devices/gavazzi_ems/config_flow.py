"""Config-flow steps of the Carlo Gavazzi EMS gateway: add, trust, reauth, reconfigure.

Every path checks the settings the same way: `GET /ver` (no token), a login with
the API-role account and `GET /v1/serial-number` (the unique id). The steps
themselves, with the certificate trust, are the shared ones in `trust.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo

from ...trust import Checked, TrustedDevice, TrustedDeviceFlow
from .connection import create_client

DEVICE_TYPE = "gavazzi_ems"


def moved_url(url: str, ip: str) -> str | None:
    """Return the URL with its IP replaced by `ip`; None if nothing changes.

    Only an address typed as an IP follows DHCP: a host name already does.
    """
    parts = urlsplit(url)
    try:
        current = ipaddress.ip_address(parts.hostname or "")
        new = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if current == new:
        return None
    host = f"[{new}]" if new.version == 6 else str(new)
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


async def _async_check(hass: HomeAssistant, settings: Mapping[str, Any]) -> Checked:
    """Probe `/ver`, log in and read the serial number (the unique id)."""
    client = create_client(hass, settings)
    await client.get_api_version()
    await client.login()
    serial = await client.get_serial_number()
    return Checked(unique_id=serial, title=f"EMS {serial}")


EMS = TrustedDevice(key=DEVICE_TYPE, check=_async_check, wrong_type_error="not_an_ems")


class GavazziEmsConfigFlow(TrustedDeviceFlow):
    """Steps for the EMS gateway; mixed into the integration's one config flow."""

    async def async_step_dhcp_gavazzi_ems(
        self, discovery_info: DhcpServiceInfo, entry: ConfigEntry
    ) -> ConfigFlowResult:
        """Follow a known gateway (recognised by its MAC) to its new address."""
        url = moved_url(entry.data[CONF_HOST], discovery_info.ip)
        if url is not None:
            # Same gateway, same certificate: only the address changes.
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_HOST: url}
            )
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_abort(reason="already_configured")

    async def async_step_gavazzi_ems(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the gateway's address and its API-role account."""
        return await self._async_trusted_user_step(EMS, user_input)

    async def async_step_reauth_gavazzi_ems(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Show a changed certificate at once; else ask for the account again."""
        return await self._async_trusted_reauth(EMS, entry_data)

    async def async_step_reauth_confirm_gavazzi_ems(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the API-role account again."""
        return await self._async_trusted_reauth_confirm(EMS, user_input)

    async def async_step_reconfigure_gavazzi_ems(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address or certificate checking of the same gateway."""
        return await self._async_trusted_reconfigure(EMS, user_input)
