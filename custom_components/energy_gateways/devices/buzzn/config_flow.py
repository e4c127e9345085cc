"""Config-flow steps of a BUZZN account: add, reauthenticate, change the server.

Every path checks the settings the same way: a login with the member's e-mail
address and password, then `GET /profile`, whose `id` identifies the account.
The server is the public BUZZN backend unless the user names another one (a
self-hosted or test backend).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_EMAIL, CONF_PASSWORD, CONF_URL
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import probatio as vol

from ...const import CONF_DEVICE_TYPE, LOGGER
from ...transport.errors import (
    CannotConnect,
    Forbidden,
    InvalidAuth,
    InvalidResponse,
)
from ...transport.http import base_url
from .client import BuzznClient
from .models import Profile

DEVICE_TYPE = "buzzn"
DEFAULT_URL = "https://mybuzzn-backend.buzzn.net"
"""The public backend the myBUZZN app used (the notes: availability unknown)."""

_EMAIL = selector.TextSelector(
    selector.TextSelectorConfig(
        type=selector.TextSelectorType.EMAIL, autocomplete="username"
    )
)
_PASSWORD = selector.TextSelector(
    selector.TextSelectorConfig(
        type=selector.TextSelectorType.PASSWORD, autocomplete="current-password"
    )
)


def _url_field(default: str) -> dict[vol.Marker, Any]:
    return {vol.Required(CONF_URL, default=default): selector.TextSelector()}


def _account_fields(email: str) -> dict[vol.Marker, Any]:
    return {
        vol.Required(CONF_EMAIL, default=email): _EMAIL,
        vol.Required(CONF_PASSWORD): _PASSWORD,
    }


def create_client(hass: Any, settings: Mapping[str, Any]) -> BuzznClient:
    """Build the client of an entry (or of a config flow's input)."""
    return BuzznClient(
        async_get_clientsession(hass),
        settings[CONF_URL],
        settings[CONF_EMAIL],
        settings[CONF_PASSWORD],
    )


class BuzznConfigFlow(ConfigFlow):
    """Steps for a BUZZN account; mixed into the integration's one config flow."""

    async def _async_buzzn_check(
        self, settings: dict[str, Any]
    ) -> tuple[Profile | None, dict[str, str]]:
        """Log in and read the profile; return it, or the form's errors."""
        client = create_client(self.hass, settings)
        try:
            await client.login()
            profile = await client.get_profile()
        except Forbidden:
            return None, {"base": "account_inactive"}
        except InvalidAuth:
            return None, {"base": "invalid_auth"}
        except CannotConnect:
            return None, {"base": "cannot_connect"}
        except InvalidResponse:
            return None, {"base": "not_a_buzzn_server"}
        except Exception:
            LOGGER.exception("Unexpected error checking %s", client.base_url)
            return None, {"base": "unknown"}
        finally:
            await client.logout()
        return profile, {}

    async def _async_buzzn_submit(
        self, settings: dict[str, Any]
    ) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """Check the settings; create or update the entry, or return the errors."""
        url = base_url(settings[CONF_URL])
        if url is None:
            return None, {CONF_URL: "invalid_url"}
        settings = {**settings, CONF_URL: url, CONF_EMAIL: settings[CONF_EMAIL].strip()}
        profile, errors = await self._async_buzzn_check(settings)
        if profile is None:
            return None, errors
        await self.async_set_unique_id(str(profile.id))
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            entry = (
                self._get_reauth_entry()
                if self.source == SOURCE_REAUTH
                else self._get_reconfigure_entry()
            )
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            return self.async_update_reload_and_abort(entry, data_updates=settings), {}
        self._abort_if_unique_id_configured()
        title = f"BUZZN {profile.nick}" if profile.nick else "BUZZN"
        return self.async_create_entry(
            title=title, data={CONF_DEVICE_TYPE: DEVICE_TYPE, **settings}
        ), {}

    async def async_step_buzzn(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the server and the member's account."""
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._async_buzzn_submit(user_input)
            if result is not None:
                return result
        defaults = user_input or {}
        return self.async_show_form(
            step_id="buzzn",
            data_schema=vol.Schema(
                {
                    **_url_field(defaults.get(CONF_URL, DEFAULT_URL)),
                    **_account_fields(defaults.get(CONF_EMAIL, "")),
                }
            ),
            errors=errors,
        )

    async def async_step_reauth_buzzn(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Ask for the password again: the server refused the stored one."""
        return await self.async_step_reauth_confirm_buzzn()

    async def async_step_reauth_confirm_buzzn(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the account's e-mail address and password again."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._async_buzzn_submit(
                {**entry.data, **user_input}
            )
            if result is not None:
                return result
        return self.async_show_form(
            step_id="reauth_confirm_buzzn",
            data_schema=vol.Schema(
                _account_fields((user_input or entry.data)[CONF_EMAIL])
            ),
            errors=errors,
        )

    async def async_step_reconfigure_buzzn(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the same account to another server address."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._async_buzzn_submit(
                {**entry.data, **user_input}
            )
            if result is not None:
                return result
        return self.async_show_form(
            step_id="reconfigure_buzzn",
            data_schema=vol.Schema(_url_field((user_input or entry.data)[CONF_URL])),
            errors=errors,
        )
