"""Config-flow steps of a Cozify Hub: add, reauthenticate, reconfigure.

Adding a hub takes the Cozify account's e-mail address (no password: the
cloud mails a one-time code), that code, the hub when the account has several,
and the way to reach it: an address where it answered on the LAN (the cloud's
`lan_ip` list, each address checked with `GET /hub`), an address the user
types, or the Cozify cloud relay. The hub id is the entry's unique id.

The code, the cloud token and the hub key are secrets: they stay in this
flow's memory until they go into the entry's data, and never into a log line,
a placeholder or an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
import time
from typing import Any, Final, NoReturn

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_CODE, CONF_EMAIL, CONF_HOST
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import AbortFlow, section
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import probatio as vol

from ...const import CONF_DEVICE_TYPE, LOGGER
from ...transport.errors import (
    CannotConnect,
    GatewayError,
    InvalidAuth,
    InvalidResponse,
)
from .client import (
    DEFAULT_CLOUD_URL,
    CozifyCloud,
    CozifyHubClient,
    RelayRefused,
    cloud_base_url,
    hub_base_url,
    probe_hub,
)
from .const import (
    CONF_CLOUD_TOKEN,
    CONF_CLOUD_URL,
    CONF_HUB_ID,
    CONF_HUB_KEY,
    CONF_MODE,
    CONF_TOKEN_RENEWED,
    DEVICE_TYPE,
    MODE_CLOUD,
    MODE_LOCAL,
)
from .models import HubKey, HubMeta

ADVANCED: Final = "advanced"
"""The collapsed form section holding the cloud's address."""
CONF_RESEND: Final = "resend"
CONF_CONNECTION: Final = "connection"
MANUAL: Final = "manual"
"""Connection choice: an address the user types."""
CLOUD: Final = "cloud"
"""Connection choice: always through the Cozify cloud relay."""

_EMAIL = selector.TextSelector(
    selector.TextSelectorConfig(
        type=selector.TextSelectorType.EMAIL, autocomplete="email"
    )
)
_URL = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
)
_CODE = selector.TextSelector(
    selector.TextSelectorConfig(
        type=selector.TextSelectorType.TEXT, autocomplete="one-time-code"
    )
)


def create_client(hass: HomeAssistant, data: Mapping[str, Any]) -> CozifyHubClient:
    """Build the hub client of an entry (or of a flow's prospective entry data)."""
    session = async_get_clientsession(hass)
    return CozifyHubClient(
        session,
        CozifyCloud(session, data[CONF_CLOUD_URL]),
        hub_id=data[CONF_HUB_ID],
        cloud_token=data[CONF_CLOUD_TOKEN],
        token_renewed_at=data[CONF_TOKEN_RENEWED],
        hub_key=data[CONF_HUB_KEY],
        host=data.get(CONF_HOST),
        remote_only=data[CONF_MODE] == MODE_CLOUD,
    )


def _hub_label(hub_id: str, key: HubKey) -> str:
    """How a hub is listed: "Name (hub id)", or the id alone without a name."""
    return f"{key.name} ({hub_id})" if key.name else hub_id


@dataclass(slots=True)
class _Login:
    """What one flow learned so far: the account, and the hub it is about."""

    cloud: CozifyCloud
    email: str
    token: str = field(default="", repr=False)
    renewed_at: float = 0.0
    keys: dict[str, HubKey] = field(default_factory=dict, repr=False)
    hub_id: str = ""
    hub_key: str = field(default="", repr=False)
    resent: bool = False
    """A new code was asked for: the code form says so."""
    found: dict[str, HubMeta] = field(default_factory=dict)
    """Base URLs where the hub answered on the LAN."""
    current: str | None = None
    """The connection choice of the entry being reconfigured."""


class CozifyHubConfigFlow(ConfigFlow):
    """Steps for a Cozify Hub; mixed into the integration's one config flow."""

    _cozify_hub: _Login
    _cozify_hub_reauth = False
    """A reconfigure found the login dead: start a reauth when the flow ends."""

    def _cozify_hub_cloud(self, url: str) -> CozifyCloud:
        return CozifyCloud(async_get_clientsession(self.hass), url)

    # -- the account: e-mail address and one-time code -----------------------

    async def async_step_cozify_hub(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the Cozify account's e-mail address (and, folded, the cloud)."""
        errors: dict[str, str] = {}
        values = user_input or {CONF_EMAIL: "", ADVANCED: {}}
        cloud_url = values[ADVANCED].get(CONF_CLOUD_URL, DEFAULT_CLOUD_URL)
        if user_input is not None:
            url = cloud_base_url(cloud_url)
            if url is None:
                errors["base"] = "invalid_url"
            else:
                self._cozify_hub = _Login(
                    cloud=self._cozify_hub_cloud(url),
                    email=user_input[CONF_EMAIL].strip(),
                )
                errors = await self._async_cozify_hub_send_code()
                if not errors:
                    return await self.async_step_cozify_hub_code()
        return self.async_show_form(
            step_id="cozify_hub",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_EMAIL, default=values[CONF_EMAIL]): _EMAIL,
                    vol.Required(ADVANCED): section(
                        vol.Schema(
                            {vol.Required(CONF_CLOUD_URL, default=cloud_url): _URL}
                        ),
                        {"collapsed": not errors},
                    ),
                }
            ),
            errors=errors,
        )

    async def _async_cozify_hub_send_code(self) -> dict[str, str]:
        """Have the cloud mail a one-time code; return the form's errors."""
        login = self._cozify_hub
        try:
            await login.cloud.request_login(login.email)
        except CannotConnect:
            return {"base": "cloud_cannot_connect"}
        except InvalidResponse:
            return {"base": "not_a_cozify_cloud"}
        except Exception:
            LOGGER.exception(
                "Unexpected error asking %s for a code", login.cloud.base_url
            )
            return {"base": "unknown"}
        return {}

    async def async_step_cozify_hub_code(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the mailed code; mail a new one when asked to."""
        login = self._cozify_hub
        errors: dict[str, str] = {}
        if user_input is not None and user_input.get(CONF_RESEND):
            errors = await self._async_cozify_hub_send_code()
            login.resent = login.resent or not errors
        elif user_input is not None:
            errors = await self._async_cozify_hub_log_in(user_input.get(CONF_CODE, ""))
            if not errors:
                return await self._async_cozify_hub_logged_in()
        return self.async_show_form(
            step_id="cozify_hub_code_resent" if login.resent else "cozify_hub_code",
            data_schema=vol.Schema(
                {
                    vol.Optional(CONF_CODE): _CODE,
                    vol.Required(CONF_RESEND, default=False): (
                        selector.BooleanSelector()
                    ),
                }
            ),
            errors=errors,
        )

    async def async_step_cozify_hub_code_resent(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the code form saying that a new code was mailed."""
        return await self.async_step_cozify_hub_code(user_input)

    async def _async_cozify_hub_log_in(self, code: str) -> dict[str, str]:
        """Trade the code for a cloud token and the hub keys; return the errors."""
        login = self._cozify_hub
        if not (code := code.strip()):
            return {"base": "invalid_code"}
        try:
            token = await login.cloud.email_login(login.email, code)
            keys = await login.cloud.hub_keys(token)
        except InvalidAuth:
            return {"base": "invalid_code"}
        except CannotConnect:
            return {"base": "cloud_cannot_connect"}
        except Exception:
            LOGGER.exception("Unexpected error logging in at %s", login.cloud.base_url)
            return {"base": "unknown"}
        login.token, login.renewed_at, login.keys = token, time.time(), keys
        return {}

    async def _async_cozify_hub_logged_in(self) -> ConfigFlowResult:
        """Finish a reauth; else go on to the hub (chosen if there are several)."""
        login = self._cozify_hub
        if self.source == SOURCE_REAUTH:
            entry = self._get_reauth_entry()
            hub_id = entry.data[CONF_HUB_ID]
            await self.async_set_unique_id(hub_id if hub_id in login.keys else None)
            self._abort_if_unique_id_mismatch(reason="wrong_account")
            return self.async_update_reload_and_abort(
                entry,
                data_updates={
                    CONF_EMAIL: login.email,
                    CONF_CLOUD_TOKEN: login.token,
                    CONF_TOKEN_RENEWED: login.renewed_at,
                    CONF_HUB_KEY: login.keys[hub_id].token,
                },
            )
        if not login.keys:
            return self.async_abort(reason="no_hubs")
        if len(login.keys) == 1:
            return await self._async_cozify_hub_choose(next(iter(login.keys)))
        return await self.async_step_cozify_hub_hub()

    # -- the hub and the way to reach it -------------------------------------

    async def async_step_cozify_hub_hub(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user pick one of the account's hubs."""
        login = self._cozify_hub
        if user_input is not None:
            return await self._async_cozify_hub_choose(user_input[CONF_HUB_ID])
        options = [
            selector.SelectOptionDict(value=hub_id, label=_hub_label(hub_id, key))
            for hub_id, key in login.keys.items()
        ]
        return self.async_show_form(
            step_id="cozify_hub_hub",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_HUB_ID): selector.SelectSelector(
                        selector.SelectSelectorConfig(
                            options=options, mode=selector.SelectSelectorMode.LIST
                        )
                    )
                }
            ),
        )

    async def _async_cozify_hub_choose(self, hub_id: str) -> ConfigFlowResult:
        """Remember the hub (once per Home Assistant); ask how to reach it."""
        login = self._cozify_hub
        login.hub_id, login.hub_key = hub_id, login.keys[hub_id].token
        await self.async_set_unique_id(hub_id)
        self._abort_if_unique_id_configured()
        return await self.async_step_cozify_hub_connection()

    async def async_step_cozify_hub_connection(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer the hub's LAN addresses, a typed address, or the cloud relay."""
        return await self._async_cozify_hub_connection(
            "cozify_hub_connection", user_input
        )

    async def _async_cozify_hub_connection(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Ask how to reach the hub, while adding it or reconfiguring its entry."""
        login = self._cozify_hub
        errors: dict[str, str] = {}
        if user_input is None:
            login.found = await self._async_cozify_hub_search()
        elif (choice := user_input[CONF_CONNECTION]) == MANUAL:
            return await self.async_step_cozify_hub_host()
        elif choice == CLOUD:
            meta, errors = await self._async_cozify_hub_check_relay()
            if meta is not None:
                return self._async_cozify_hub_finish(None, MODE_CLOUD, meta.name)
        else:
            return self._async_cozify_hub_finish(
                choice, MODE_LOCAL, login.found[choice].name
            )
        choices = [*login.found, MANUAL, CLOUD]
        return self.async_show_form(
            step_id=step_id,
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_CONNECTION,
                        default=login.current
                        if login.current in choices
                        else choices[0],
                    ): selector.SelectSelector(
                        selector.SelectSelectorConfig(
                            options=[
                                selector.SelectOptionDict(value=choice, label=choice)
                                for choice in choices
                            ],
                            mode=selector.SelectSelectorMode.LIST,
                            translation_key="cozify_hub_connection",
                        )
                    )
                }
            ),
            description_placeholders={"found": str(len(login.found))},
            errors=errors,
        )

    async def _async_cozify_hub_search(self) -> dict[str, HubMeta]:
        """Ask the cloud for Cozify devices on the LAN; keep the ones that are our hub.

        Other hubs and other Cozify devices (HAN readers) answer `GET /hub`
        differently or not at all; a cloud that does not answer means none found.
        """
        login = self._cozify_hub
        try:
            urls = list(dict.fromkeys(await login.cloud.lan_ips()))
        except GatewayError as err:
            LOGGER.debug("No LAN addresses from the Cozify cloud: %s", err)
            return {}
        session = async_get_clientsession(self.hass)
        answers = await asyncio.gather(
            *(probe_hub(session, url) for url in urls), return_exceptions=True
        )
        return {
            url: answer
            for url, answer in zip(urls, answers, strict=True)
            if isinstance(answer, HubMeta) and answer.hub_id == login.hub_id
        }

    async def _async_cozify_hub_check_relay(
        self,
    ) -> tuple[HubMeta | None, dict[str, str]]:
        """Reach the hub through the cloud relay; return it, or the form's errors."""
        login = self._cozify_hub
        client = create_client(self.hass, self._cozify_hub_data(None, MODE_CLOUD))
        try:
            meta = await client.connect()
        except RelayRefused:
            return None, {"base": "relay_refused"}
        except InvalidAuth as err:
            self._cozify_hub_login_gone(err)
        except CannotConnect:
            return None, {"base": "cloud_cannot_connect"}
        except Exception:
            LOGGER.exception("Unexpected error reaching the hub through the relay")
            return None, {"base": "unknown"}
        finally:
            await client.close()
        login.hub_key = client.hub_key  # renewed if the relay refused the old one
        return meta, {}

    async def async_step_cozify_hub_host(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the hub's address on the LAN and check that it is our hub."""
        errors: dict[str, str] = {}
        if user_input is not None:
            url, meta, errors = await self._async_cozify_hub_probe(
                user_input[CONF_HOST]
            )
            if url is not None and meta is not None:
                return self._async_cozify_hub_finish(url, MODE_LOCAL, meta.name)
        return self.async_show_form(
            step_id="cozify_hub_host",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_HOST, default=(user_input or {}).get(CONF_HOST, "")
                    ): selector.TextSelector()
                }
            ),
            errors=errors,
        )

    async def _async_cozify_hub_probe(
        self, raw: str
    ) -> tuple[str | None, HubMeta | None, dict[str, str]]:
        """Check a typed address: the hub's base URL and metadata, or the errors."""
        url = hub_base_url(raw)
        if url is None:
            return None, None, {CONF_HOST: "invalid_host"}
        try:
            meta = await probe_hub(async_get_clientsession(self.hass), url)
        except CannotConnect:
            return url, None, {CONF_HOST: "cannot_connect"}
        except InvalidResponse:
            return url, None, {CONF_HOST: "not_a_cozify_hub"}
        except Exception:
            LOGGER.exception("Unexpected error checking %s", url)
            return url, None, {"base": "unknown"}
        if meta.hub_id != self._cozify_hub.hub_id:
            return url, None, {CONF_HOST: "wrong_hub"}
        return url, meta, {}

    def _cozify_hub_data(self, host: str | None, mode: str) -> dict[str, Any]:
        """Return the entry's data for this account, hub and connection."""
        login = self._cozify_hub
        return {
            CONF_DEVICE_TYPE: DEVICE_TYPE,
            CONF_EMAIL: login.email,
            CONF_CLOUD_URL: login.cloud.base_url,
            CONF_CLOUD_TOKEN: login.token,
            CONF_TOKEN_RENEWED: login.renewed_at,
            CONF_HUB_ID: login.hub_id,
            CONF_HUB_KEY: login.hub_key,
            CONF_HOST: host,
            CONF_MODE: mode,
        }

    def _async_cozify_hub_finish(
        self, host: str | None, mode: str, name: str
    ) -> ConfigFlowResult:
        """Create the entry, or update the one being reconfigured."""
        data = self._cozify_hub_data(host, mode)
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(),
                data_updates={
                    key: data[key] for key in (CONF_HOST, CONF_MODE, CONF_HUB_KEY)
                },
            )
        return self.async_create_entry(title=name or self._cozify_hub.hub_id, data=data)

    # -- reauth and reconfigure ----------------------------------------------

    def _cozify_hub_login_gone(self, err: Exception | None = None) -> NoReturn:
        """Abort: the cloud refused the account's token (ask for a reauth).

        While adding a hub the login was only minutes old: start again. An
        entry being reconfigured needs a new login first; its reauth starts.
        """
        if self.source != SOURCE_RECONFIGURE:
            raise AbortFlow("login_expired") from err
        self._cozify_hub_reauth = True
        raise AbortFlow("reauth_required") from err

    @callback
    def async_remove(self) -> None:
        """Start the reauth a reconfigure asked for, once this flow is gone.

        Home Assistant starts no reauth while a reconfigure of the same entry
        is in progress.
        """
        super().async_remove()
        if self._cozify_hub_reauth:
            self._get_reconfigure_entry().async_start_reauth(self.hass)

    async def async_step_reauth_cozify_hub(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Log in again: the cloud token can no longer be renewed."""
        return await self.async_step_reauth_confirm_cozify_hub()

    async def async_step_reauth_confirm_cozify_hub(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the account's e-mail address; a new code follows."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            self._cozify_hub = _Login(
                cloud=self._cozify_hub_cloud(entry.data[CONF_CLOUD_URL]),
                email=user_input[CONF_EMAIL].strip(),
                hub_id=entry.data[CONF_HUB_ID],
            )
            errors = await self._async_cozify_hub_send_code()
            if not errors:
                return await self.async_step_cozify_hub_code()
        return self.async_show_form(
            step_id="reauth_confirm_cozify_hub",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_EMAIL, default=(user_input or entry.data)[CONF_EMAIL]
                    ): _EMAIL
                }
            ),
            errors=errors,
        )

    async def async_step_reconfigure_cozify_hub(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the hub's LAN address, or switch between LAN and cloud relay."""
        if user_input is None:
            data = self._get_reconfigure_entry().data
            login = _Login(
                cloud=self._cozify_hub_cloud(data[CONF_CLOUD_URL]),
                email=data[CONF_EMAIL],
                token=data[CONF_CLOUD_TOKEN],
                renewed_at=data[CONF_TOKEN_RENEWED],
                hub_id=data[CONF_HUB_ID],
                current=data.get(CONF_HOST) if data[CONF_MODE] == MODE_LOCAL else CLOUD,
            )
            try:
                keys = await login.cloud.hub_keys(login.token)
            except InvalidAuth as err:
                self._cozify_hub_login_gone(err)
            except CannotConnect:
                return self.async_abort(reason="cloud_cannot_connect")
            except Exception:
                LOGGER.exception("Unexpected error renewing the hub key")
                return self.async_abort(reason="unknown")
            if login.hub_id not in keys:  # the hub left the account
                self._cozify_hub_login_gone()
            login.hub_key = keys[login.hub_id].token
            self._cozify_hub = login
        return await self._async_cozify_hub_connection(
            "reconfigure_cozify_hub", user_input
        )
