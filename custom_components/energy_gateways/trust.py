"""Config-flow steps of devices reached over HTTPS with an account.

Device types whose device has an address, a username and a password, and often a
self-signed certificate (the EMS gateway, the ZiggyMeter) share these steps: add,
trust the certificate, reauthenticate and reconfigure. Verification is never
turned off behind the user's back: a certificate no authority signed is shown
by its SHA-256 fingerprint, and the user trusts exactly that certificate. A
certificate that changes later leads back to the same step (`certificate_changed`).

A device type describes itself with a `TrustedDevice` and names its steps
`<key>`, `reauth_confirm_<key>` and `reconfigure_<key>` (their texts differ per
device type); each step hands over to the shared code here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
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
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import probatio as vol

from .const import CONF_DEVICE_TYPE, LOGGER
from .transport.errors import (
    CannotConnect,
    CertificateMismatch,
    InvalidAuth,
    InvalidResponse,
    UntrustedCertificate,
)
from .transport.http import base_url
from .transport.tls import (
    async_certificate_sha256,
    fingerprint_option,
    format_fingerprint,
)

CONF_FINGERPRINT = "certificate_sha256"
"""Entry data: SHA-256 (hex) of the self-signed certificate the user trusted."""

_PASSWORD = selector.TextSelector(
    selector.TextSelectorConfig(
        type=selector.TextSelectorType.PASSWORD, autocomplete="current-password"
    )
)
_USERNAME = selector.TextSelector(selector.TextSelectorConfig(autocomplete="username"))


def account_client[ClientT](
    factory: Callable[..., ClientT],
    hass: HomeAssistant,
    settings: Mapping[str, Any],
    **kwargs: Any,
) -> ClientT:
    """Build a device type's client from an entry's (or a flow's) settings.

    The client takes Home Assistant's shared session, the address, the account
    and the certificate trust (`ssl=`), plus its own `kwargs`.
    """
    return factory(
        async_get_clientsession(hass),
        settings[CONF_HOST],
        settings[CONF_USERNAME],
        settings[CONF_PASSWORD],
        ssl=ssl_option(settings),
        **kwargs,
    )


def ssl_option(settings: Mapping[str, Any]) -> aiohttp.Fingerprint | bool:
    """Pin a trusted certificate; else verify it, or not at all if so chosen."""
    fingerprint = settings.get(CONF_FINGERPRINT)
    if fingerprint:
        return fingerprint_option(fingerprint)
    return bool(settings.get(CONF_VERIFY_SSL, True))


@dataclass(frozen=True, slots=True)
class Checked:
    """What trying a device's settings found out.

    Either `unique_id` (the device answered and accepted the account), `error`
    (a form error key), or `fingerprint` (a certificate to show the user).
    """

    unique_id: str | None = None
    proves_identity: bool = True
    """Whether the unique id is the device's own (a serial number). An id made
    from the certificate or the address may change with the same device, so a
    reauth or reconfigure then adopts the new id instead of refusing."""
    title: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    """Entry data learnt while checking (stored with the settings)."""
    error: str | None = None
    fingerprint: str | None = None


type SettingsCheck = Callable[[HomeAssistant, Mapping[str, Any]], Awaitable[Checked]]


@dataclass(frozen=True, slots=True)
class TrustedDevice:
    """A device type whose config flow uses the shared steps."""

    key: str
    check: SettingsCheck
    """Log in with the settings (address normalised, fingerprint set) and read
    the device's identity; the client's errors are mapped by the shared code."""
    wrong_type_error: str
    """Form error when something else answers (the device type's own text)."""
    schemes: tuple[str, ...] = ("http", "https")
    """URL schemes the device may be reached with (HTTPS by default)."""


async def _async_check(
    device: TrustedDevice, hass: HomeAssistant, settings: Mapping[str, Any]
) -> Checked:
    """Run a device type's check; map its failures the same for every type."""
    try:
        return await device.check(hass, settings)
    except CertificateMismatch, UntrustedCertificate:
        try:
            fingerprint = await async_certificate_sha256(settings[CONF_HOST])
        except CannotConnect:
            return Checked(error="cannot_connect")
        return Checked(fingerprint=fingerprint)
    except InvalidAuth:
        return Checked(error="invalid_auth")
    except InvalidResponse:
        return Checked(error=device.wrong_type_error)
    except CannotConnect:
        return Checked(error="cannot_connect")
    except Exception:
        LOGGER.exception("Unexpected error checking %s", settings[CONF_HOST])
        return Checked(error="unknown")


def address_fields(defaults: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """Return the address and certificate-checking fields of the forms."""
    return {
        vol.Required(
            CONF_HOST, default=defaults.get(CONF_HOST, "")
        ): selector.TextSelector(),
        vol.Required(
            CONF_VERIFY_SSL, default=defaults.get(CONF_VERIFY_SSL, True)
        ): selector.BooleanSelector(),
    }


def account_fields(defaults: Mapping[str, Any]) -> dict[vol.Marker, Any]:
    """Return the account fields (the password is never pre-filled)."""
    return {
        vol.Required(CONF_USERNAME, default=defaults.get(CONF_USERNAME, "")): _USERNAME,
        vol.Required(CONF_PASSWORD): _PASSWORD,
    }


class TrustedDeviceFlow(ConfigFlow):
    """The shared steps; mixed into the integration's one config flow."""

    _trust_device: TrustedDevice
    _trust_settings: dict[str, Any]
    _trust_fingerprint: str = ""
    _trusted: dict[str, str] | None = None
    """Fingerprints confirmed in this flow, by URL: a retyped password keeps them."""

    async def _async_trusted_submit(
        self, settings: dict[str, Any]
    ) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """Check settings: the step to show next, or the form's errors.

        The address in `settings` may be as typed; it is stored normalised.
        """
        url = base_url(settings[CONF_HOST], schemes=self._trust_device.schemes)
        if url is None:
            return None, {CONF_HOST: "invalid_host"}
        settings = {**settings, CONF_HOST: url}
        if not settings.get(CONF_VERIFY_SSL, True):
            settings[CONF_FINGERPRINT] = None  # nothing to pin without checking
        elif self._trusted and url in self._trusted:
            settings[CONF_FINGERPRINT] = self._trusted[url]
        checked = await _async_check(self._trust_device, self.hass, settings)
        if checked.fingerprint is not None:
            self._trust_settings = settings
            self._trust_fingerprint = checked.fingerprint
            return await self.async_step_certificate(), {}
        if checked.unique_id is None:
            return None, {"base": checked.error or "unknown"}
        return await self._async_trusted_finish(
            {**settings, **checked.data}, checked
        ), {}

    async def _async_trusted_finish(
        self, settings: dict[str, Any], checked: Checked
    ) -> ConfigFlowResult:
        """Create the entry, or update the one being reauthenticated/reconfigured."""
        unique_id = checked.unique_id
        if self.source in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
            entry = (
                self._get_reauth_entry()
                if self.source == SOURCE_REAUTH
                else self._get_reconfigure_entry()
            )
            await self.async_set_unique_id(unique_id)
            if checked.proves_identity or entry.unique_id == unique_id:
                self._abort_if_unique_id_mismatch(reason="wrong_device")
            else:
                # The id follows the address or certificate: adopt the new one,
                # unless another entry already has it.
                self._abort_if_unique_id_configured()
            return self.async_update_reload_and_abort(
                entry, unique_id=unique_id, data_updates=settings
            )
        await self.async_set_unique_id(unique_id)
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=checked.title,
            data={CONF_DEVICE_TYPE: self._trust_device.key, **settings},
        )

    async def _async_trusted_user_step(
        self, device: TrustedDevice, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Ask for the device's address and account."""
        self._trust_device = device
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._async_trusted_submit(
                {**user_input, CONF_FINGERPRINT: None}
            )
            if result is not None:
                return result
        return self._async_show_user_form(user_input or {}, errors)

    def _async_show_user_form(
        self, defaults: Mapping[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult:
        return self.async_show_form(
            step_id=self._trust_device.key,
            data_schema=vol.Schema(
                {**address_fields(defaults), **account_fields(defaults)}
            ),
            errors=errors,
        )

    async def async_step_certificate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the certificate's fingerprint; trust exactly it when confirmed."""
        errors: dict[str, str] = {}
        if user_input is not None:
            settings = self._trust_settings
            self._trusted = {
                **(self._trusted or {}),
                settings[CONF_HOST]: self._trust_fingerprint,
            }
            result, errors = await self._async_trusted_submit(settings)
            if result is not None:
                return result
            if errors.get("base") == "invalid_auth":
                # The certificate is trusted now; the account is what is wrong.
                if self.source == SOURCE_REAUTH:
                    return self._async_show_reauth_form(settings, errors)
                if self.source != SOURCE_RECONFIGURE:
                    return self._async_show_user_form(settings, errors)
        placeholders = {
            "host": self._trust_settings[CONF_HOST],
            "fingerprint": format_fingerprint(self._trust_fingerprint),
        }
        # A first certificate has nothing to compare with; a changed one shows
        # the one trusted so far (another step id: another text).
        step_id = "certificate"
        if previous := self._trust_settings.get(CONF_FINGERPRINT):
            step_id = "certificate_changed"
            placeholders["previous"] = format_fingerprint(previous)
        return self.async_show_form(
            step_id=step_id,
            data_schema=vol.Schema({}),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_certificate_changed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Trust a certificate that replaces the trusted one (same step)."""
        return await self.async_step_certificate(user_input)

    async def _async_trusted_reauth(
        self, device: TrustedDevice, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Show a changed certificate at once; else ask for the account again."""
        self._trust_device = device
        # The stored settings may work again (the device was restarting).
        result, _ = await self._async_trusted_submit(dict(entry_data))
        if result is not None:
            return result
        return await self._async_trusted_reauth_confirm(device, None)

    async def _async_trusted_reauth_confirm(
        self, device: TrustedDevice, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Ask for the account again."""
        self._trust_device = device
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._async_trusted_submit(
                {**entry.data, **user_input}
            )
            if result is not None:
                return result
        return self._async_show_reauth_form(user_input or entry.data, errors)

    def _async_show_reauth_form(
        self, defaults: Mapping[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult:
        return self.async_show_form(
            step_id=f"reauth_confirm_{self._trust_device.key}",
            data_schema=vol.Schema(account_fields(defaults)),
            description_placeholders={"host": self._get_reauth_entry().data[CONF_HOST]},
            errors=errors,
        )

    async def _async_trusted_reconfigure(
        self, device: TrustedDevice, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Change the address or certificate checking of the same device."""
        self._trust_device = device
        entry: ConfigEntry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._async_trusted_submit(
                {**entry.data, **user_input}
            )
            if result is not None:
                return result
        return self.async_show_form(
            step_id=f"reconfigure_{device.key}",
            data_schema=vol.Schema(address_fields(user_input or entry.data)),
            errors=errors,
        )
