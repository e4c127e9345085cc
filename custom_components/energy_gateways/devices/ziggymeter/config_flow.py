"""Config-flow steps of the ZiggyMeter: add, trust, reauth, reconfigure.

Every path checks the settings the same way: a login (the API path first, the
quick-start `/login` when that answers 404), `GET /api/v1/system/status` and
`GET /api/v1/system/version`, then a logout. The steps themselves, with the
certificate trust, are the shared ones in `trust.py`.

The unique id is the reader's own identifier when its status or version carries
one (`serial`, `mac`, `id`); the documented payloads carry none, so it is
usually the fingerprint of the certificate the user trusted, else the address.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant

from ...trust import CONF_FINGERPRINT, Checked, TrustedDevice, TrustedDeviceFlow
from .connection import CONF_LOGIN_PATH, create_client
from .models import Status, Version

DEVICE_TYPE = "ziggymeter"
TITLE = "ZiggyMeter"


def unique_id(
    settings: Mapping[str, Any], status: Status, version: Version
) -> tuple[str, bool]:
    """Return the entry's unique id and whether it is the reader's own."""
    if identifier := status.identifier or version.identifier:
        return identifier.lower(), True
    if fingerprint := settings.get(CONF_FINGERPRINT):
        return str(fingerprint), False
    return str(settings[CONF_HOST]).lower(), False


async def _async_check(hass: HomeAssistant, settings: Mapping[str, Any]) -> Checked:
    """Log in, read status and version; log out again."""
    client = create_client(hass, settings)
    try:
        status = await client.get_status()
        version = await client.get_version()
    finally:
        await client.logout()
    uid, own = unique_id(settings, status, version)
    return Checked(
        unique_id=uid,
        proves_identity=own,
        title=f"{TITLE} {status.identifier}" if status.identifier else TITLE,
        data={CONF_LOGIN_PATH: client.login_path},
    )


ZIGGYMETER = TrustedDevice(
    key=DEVICE_TYPE,
    check=_async_check,
    wrong_type_error="not_a_ziggymeter",
    schemes=("https",),  # the reader speaks HTTPS only
)


class ZiggyMeterConfigFlow(TrustedDeviceFlow):
    """Steps for the ZiggyMeter; mixed into the integration's one config flow."""

    async def async_step_ziggymeter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the reader's address and its account."""
        return await self._async_trusted_user_step(ZIGGYMETER, user_input)

    async def async_step_reauth_ziggymeter(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Show a changed certificate at once; else ask for the account again."""
        return await self._async_trusted_reauth(ZIGGYMETER, entry_data)

    async def async_step_reauth_confirm_ziggymeter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the reader's account again."""
        return await self._async_trusted_reauth_confirm(ZIGGYMETER, user_input)

    async def async_step_reconfigure_ziggymeter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address or certificate checking of the same reader."""
        return await self._async_trusted_reconfigure(ZIGGYMETER, user_input)
