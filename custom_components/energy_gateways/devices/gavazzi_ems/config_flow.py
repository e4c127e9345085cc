"""Config-flow steps of the Carlo Gavazzi EMS gateway: add, trust, reauth, reconfigure.

Every path checks the settings the same way: `GET /ver` (no token), a login with
the API-role account and `GET /v1/serial-number` (the unique id). A gateway with
a self-signed certificate is not given up on, and verification is not turned off:
the user is shown the certificate's SHA-256 fingerprint and may trust exactly
that certificate. A certificate that changes later leads back to the same step.
"""

from __future__ import annotations

from collections.abc import Mapping
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import probatio as vol

from ...const import CONF_DEVICE_TYPE, LOGGER
from ...transport.errors import (
    CannotConnect,
    CertificateMismatch,
    InvalidAuth,
    InvalidResponse,
    UntrustedCertificate,
)
from ...transport.tls import async_certificate_sha256, format_fingerprint
from .connection import CONF_FINGERPRINT, create_client

DEVICE_TYPE = "gavazzi_ems"

_PASSWORD = selector.TextSelector(
    selector.TextSelectorConfig(
        type=selector.TextSelectorType.PASSWORD, autocomplete="current-password"
    )
)
_USERNAME = selector.TextSelector(selector.TextSelectorConfig(autocomplete="username"))


def _address_fields(defaults: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    return {
        vol.Required(
            CONF_HOST, default=defaults.get(CONF_HOST, "")
        ): selector.TextSelector(),
        vol.Required(
            CONF_VERIFY_SSL, default=defaults.get(CONF_VERIFY_SSL, True)
        ): selector.BooleanSelector(),
    }


def _credential_fields(defaults: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    return {
        vol.Required(CONF_USERNAME, default=defaults.get(CONF_USERNAME, "")): _USERNAME,
        vol.Required(CONF_PASSWORD): _PASSWORD,
    }


def base_url(raw: str) -> str | None:
    """Turn what people type (an address, host:port, a copied URL) into a base URL.

    Without a scheme the gateway is reached over HTTPS, as it serves by default.
    Returns None when no host can be read.
    """
    text = raw.strip()
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


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


async def _async_check(
    hass: HomeAssistant, settings: Mapping[str, Any]
) -> tuple[str | None, str | None, str | None]:
    """Try the settings; return (serial number, error key, fingerprint to confirm).

    A fingerprint comes back when the gateway's certificate is not trusted: new
    and self-signed, or not the one trusted before.
    """
    client = create_client(hass, settings)
    try:
        await client.get_api_version()
        await client.login()
        serial = await client.get_serial_number()
    except CertificateMismatch, UntrustedCertificate:
        try:
            fingerprint = await async_certificate_sha256(settings[CONF_HOST])
        except CannotConnect:
            return None, "cannot_connect", None
        return None, None, fingerprint
    except InvalidAuth:
        return None, "invalid_auth", None
    except CannotConnect:
        return None, "cannot_connect", None
    except InvalidResponse:
        return None, "not_an_ems", None
    except Exception:
        LOGGER.exception("Unexpected error checking %s", client.base_url)
        return None, "unknown", None
    return serial, None, None


class GavazziEmsConfigFlow(ConfigFlow):
    """Steps for the EMS gateway; mixed into the integration's one config flow."""

    _ems_settings: dict[str, Any]
    _ems_fingerprint: str = ""
    _ems_trusted: dict[str, str] | None = None
    """Fingerprints confirmed in this flow, by URL: a retyped password keeps them."""

    async def _async_ems_submit(
        self, settings: dict[str, Any]
    ) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """Check settings: the step to show next, or the form's errors.

        The address in `settings` may be as typed; it is stored normalised.
        """
        url = base_url(settings[CONF_HOST])
        if url is None:
            return None, {CONF_HOST: "invalid_host"}
        settings = {**settings, CONF_HOST: url}
        if not settings.get(CONF_VERIFY_SSL, True):
            settings[CONF_FINGERPRINT] = None  # nothing to pin without checking
        elif self._ems_trusted and url in self._ems_trusted:
            settings[CONF_FINGERPRINT] = self._ems_trusted[url]
        serial, error, fingerprint = await _async_check(self.hass, settings)
        if fingerprint is not None:
            self._ems_settings = settings
            self._ems_fingerprint = fingerprint
            return await self.async_step_gavazzi_ems_certificate(), {}
        if serial is None:
            return None, {"base": error or "unknown"}
        await self.async_set_unique_id(serial)
        return self._async_ems_finish(settings, serial), {}

    def _async_ems_finish(
        self, settings: dict[str, Any], serial: str
    ) -> ConfigFlowResult:
        """Create the entry, or update the one being reauthenticated/reconfigured."""
        if self.source == SOURCE_REAUTH:
            self._abort_if_unique_id_mismatch(reason="wrong_device")
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(), data_updates=settings
            )
        if self.source == SOURCE_RECONFIGURE:
            self._abort_if_unique_id_mismatch(reason="wrong_device")
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), data_updates=settings
            )
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=f"EMS {serial}", data={CONF_DEVICE_TYPE: DEVICE_TYPE, **settings}
        )

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
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._async_ems_submit(
                {**user_input, CONF_FINGERPRINT: None}
            )
            if result is not None:
                return result
        return self._async_show_ems_form(user_input or {}, errors)

    def _async_show_ems_form(
        self, defaults: Mapping[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult:
        return self.async_show_form(
            step_id="gavazzi_ems",
            data_schema=vol.Schema(
                {**_address_fields(defaults), **_credential_fields(defaults)}
            ),
            errors=errors,
        )

    async def async_step_gavazzi_ems_certificate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the certificate's fingerprint; trust exactly it when confirmed."""
        errors: dict[str, str] = {}
        if user_input is not None:
            settings = self._ems_settings
            self._ems_trusted = {
                **(self._ems_trusted or {}),
                settings[CONF_HOST]: self._ems_fingerprint,
            }
            result, errors = await self._async_ems_submit(settings)
            if result is not None:
                return result
            if errors.get("base") == "invalid_auth":
                # The certificate is trusted now; the account is what is wrong.
                if self.source == SOURCE_REAUTH:
                    return self._async_show_reauth_form(settings, errors)
                if self.source != SOURCE_RECONFIGURE:
                    return self._async_show_ems_form(settings, errors)
        placeholders = {
            "host": self._ems_settings[CONF_HOST],
            "fingerprint": format_fingerprint(self._ems_fingerprint),
        }
        # A first certificate has nothing to compare with; a changed one shows
        # the one trusted so far (another step id: another text).
        step_id = "gavazzi_ems_certificate"
        if previous := self._ems_settings.get(CONF_FINGERPRINT):
            step_id = "gavazzi_ems_certificate_changed"
            placeholders["previous"] = format_fingerprint(previous)
        return self.async_show_form(
            step_id=step_id,
            data_schema=vol.Schema({}),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_gavazzi_ems_certificate_changed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Trust a certificate that replaces the trusted one (same step)."""
        return await self.async_step_gavazzi_ems_certificate(user_input)

    async def async_step_reauth_gavazzi_ems(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Show a changed certificate at once; else ask for the account again."""
        # The stored settings may work again (the gateway was restarting).
        result, _ = await self._async_ems_submit(dict(entry_data))
        if result is not None:
            return result
        return await self.async_step_reauth_confirm_gavazzi_ems()

    async def async_step_reauth_confirm_gavazzi_ems(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the API-role account again."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._async_ems_submit({**entry.data, **user_input})
            if result is not None:
                return result
        return self._async_show_reauth_form(user_input or entry.data, errors)

    def _async_show_reauth_form(
        self, defaults: Mapping[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult:
        return self.async_show_form(
            step_id="reauth_confirm_gavazzi_ems",
            data_schema=vol.Schema(_credential_fields(defaults)),
            description_placeholders={"host": self._get_reauth_entry().data[CONF_HOST]},
            errors=errors,
        )

    async def async_step_reconfigure_gavazzi_ems(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address or certificate checking of the same gateway."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._async_ems_submit({**entry.data, **user_input})
            if result is not None:
                return result
        return self.async_show_form(
            step_id="reconfigure_gavazzi_ems",
            data_schema=vol.Schema(_address_fields(user_input or entry.data)),
            errors=errors,
        )
