"""Config-flow steps of the Cozify HAN reader: manual, DHCP, reconfigure."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import format_mac
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
import probatio as vol

from ...const import CONF_DEVICE_TYPE, LOGGER
from ...transport.errors import CannotConnect, InvalidResponse
from .client import HanClient
from .models import HanInfo

DEVICE_TYPE = "cozify_han"
DEFAULT_PORT = 80


def _schema(host: str = "", port: int = DEFAULT_PORT) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_HOST, default=host): selector.TextSelector(),
            vol.Required(CONF_PORT, default=port): vol.All(
                selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=1, max=65535, mode=selector.NumberSelectorMode.BOX
                    )
                ),
                vol.Coerce(int),
            ),
        }
    )


def _clean_host(raw: str) -> str:
    """Accept what people paste: a bare host, or a URL copied from the browser."""
    host = raw.strip()
    host = host.removeprefix("http://").removeprefix("https://")
    return host.split("/", 1)[0].strip()


class CozifyHanConfigFlow(ConfigFlow):
    """Steps for the HAN reader; mixed into the integration's one config flow."""

    _han_discovered: HanInfo | None = None
    _han_host: str = ""

    async def _async_probe_han(
        self, host: str, port: int
    ) -> tuple[HanInfo | None, dict[str, str]]:
        """Ask the host for `/han`; return the reader or the form errors."""
        client = HanClient(async_get_clientsession(self.hass), host, port)
        try:
            info = await client.get_info()
        except CannotConnect:
            return None, {"base": "cannot_connect"}
        except InvalidResponse:
            return None, {"base": "not_a_han_reader"}
        except Exception:
            LOGGER.exception("Unexpected error probing %s", host)
            return None, {"base": "unknown"}
        if info.unique_id is None:
            return None, {"base": "not_a_han_reader"}
        return info, {}

    async def _async_probe_form(
        self, user_input: dict[str, Any]
    ) -> tuple[dict[str, Any], HanInfo | None, dict[str, str]]:
        """Probe the address from a form; on success the flow takes its unique id."""
        host = _clean_host(user_input[CONF_HOST])
        port = int(user_input[CONF_PORT])
        address: dict[str, Any] = {CONF_HOST: host, CONF_PORT: port}
        info, errors = await self._async_probe_han(host, port)
        if info is not None:
            await self.async_set_unique_id(info.unique_id)
        return address, info, errors

    async def async_step_cozify_han(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the reader's address and check that a HAN reader answers."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input, info, errors = await self._async_probe_form(user_input)
            if info is not None:
                self._abort_if_unique_id_configured(updates=user_input)
                return self._async_create_han_entry(
                    info, user_input[CONF_HOST], user_input[CONF_PORT]
                )
        defaults = user_input or {}
        return self.async_show_form(
            step_id="cozify_han",
            data_schema=_schema(
                defaults.get(CONF_HOST, ""), defaults.get(CONF_PORT, DEFAULT_PORT)
            ),
            errors=errors,
        )

    async def async_step_dhcp(
        self, discovery_info: DhcpServiceInfo
    ) -> ConfigFlowResult:
        """Handle a reader that appeared on the network or got a new address."""
        host = discovery_info.ip
        info, errors = await self._async_probe_han(host, DEFAULT_PORT)
        if info is None:
            return self.async_abort(reason=errors["base"])
        await self.async_set_unique_id(info.unique_id)
        # A known reader: follow it to its new address (the entry reloads).
        self._abort_if_unique_id_configured(updates={CONF_HOST: host})
        self._han_discovered = info
        self._han_host = host
        self.context["title_placeholders"] = {
            "name": info.name or format_mac(discovery_info.macaddress)
        }
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user confirm a discovered reader."""
        info = self._han_discovered
        assert info is not None
        if user_input is not None:
            return self._async_create_han_entry(info, self._han_host, DEFAULT_PORT)
        self._set_confirm_only()
        return self.async_show_form(
            step_id="discovery_confirm",
            description_placeholders={"name": info.name or "", "host": self._han_host},
        )

    async def async_step_reconfigure_cozify_han(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the address of the same reader."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input, info, errors = await self._async_probe_form(user_input)
            if info is not None:
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                return self.async_update_reload_and_abort(
                    entry, data_updates=user_input
                )
        defaults = user_input or entry.data
        return self.async_show_form(
            step_id="reconfigure_cozify_han",
            data_schema=_schema(
                defaults[CONF_HOST], defaults.get(CONF_PORT, DEFAULT_PORT)
            ),
            errors=errors,
        )

    def _async_create_han_entry(
        self, info: HanInfo, host: str, port: int
    ) -> ConfigFlowResult:
        return self.async_create_entry(
            title=info.name or f"Cozify HAN {info.unique_id}",
            data={CONF_DEVICE_TYPE: DEVICE_TYPE, CONF_HOST: host, CONF_PORT: port},
        )
