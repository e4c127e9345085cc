"""Options of a HAN reader entry: what the integration does, and WiFi set-up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_PORT
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import probatio as vol

from ...const import CONF_IMPORT_HISTORY
from ...transport.errors import GatewayError, Rejected
from .client import HanClient
from .models import ScanStatus, WifiNetwork

CONF_SSID = "ssid"
# The scan takes a few seconds; ask once a second, give up after half a minute.
SCAN_POLL_INTERVAL = 1.0
SCAN_MAX_POLLS = 30


class CozifyHanOptionsFlow(OptionsFlowWithReload):
    """A menu: integration settings, or set up the reader's WiFi."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer the option groups."""
        return self.async_show_menu(step_id="init", menu_options=["settings", "wifi"])

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose whether the reader's history is imported into statistics."""
        if user_input is not None:
            return self.async_create_entry(
                data={**self.config_entry.options, **user_input}
            )
        current = self.config_entry.options.get(CONF_IMPORT_HISTORY, True)
        return self.async_show_form(
            step_id="settings",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_IMPORT_HISTORY, default=current
                    ): selector.BooleanSelector()
                }
            ),
        )

    # -- WiFi set-up: warn, scan, choose a network, send it to the reader ----

    _scan_task: asyncio.Task[tuple[WifiNetwork, ...] | str] | None = None
    _scan_error: str | None = None
    _networks: tuple[WifiNetwork, ...] = ()

    def _client(self) -> HanClient:
        data = self.config_entry.data
        return HanClient(
            async_get_clientsession(self.hass), data[CONF_HOST], data.get(CONF_PORT, 80)
        )

    async def async_step_wifi(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Warn that a scan can drop the reader's WiFi link; scan when confirmed."""
        if user_input is not None:
            return await self.async_step_wifi_scan()
        errors = {"base": self._scan_error} if self._scan_error else None
        self._scan_error = None
        return self.async_show_form(
            step_id="wifi", data_schema=vol.Schema({}), errors=errors
        )

    async def async_step_wifi_scan(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show progress while the reader scans."""
        if self._scan_task is None:
            self._scan_task = self.hass.async_create_task(
                _async_scan(self._client()), "energy_gateways WiFi scan"
            )
        if not self._scan_task.done():
            return self.async_show_progress(
                step_id="wifi_scan",
                progress_action="wifi_scan",
                progress_task=self._scan_task,
            )
        result = self._scan_task.result()
        self._scan_task = None
        if isinstance(result, str):
            self._scan_error = result
            return self.async_show_progress_done(next_step_id="wifi")
        self._networks = result
        return self.async_show_progress_done(next_step_id="wifi_network")

    async def async_step_wifi_network(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose or type the network, enter its password, set it up."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                await self._client().setup_wifi(
                    user_input[CONF_SSID], user_input.get(CONF_PASSWORD, "")
                )
            except Rejected:
                errors["base"] = "setup_failed"
            except GatewayError:
                errors["base"] = "cannot_connect"
            else:
                # The options stay as they are: no reload.
                return self.async_create_entry(data=dict(self.config_entry.options))
        schema = vol.Schema(
            {
                vol.Required(CONF_SSID): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[
                            selector.SelectOptionDict(
                                value=network.ssid, label=_label(network)
                            )
                            for network in self._networks
                        ],
                        custom_value=True,
                        sort=False,
                        mode=selector.SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Optional(CONF_PASSWORD, default=""): selector.TextSelector(
                    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
                ),
            }
        )
        return self.async_show_form(
            step_id="wifi_network",
            # Keep the chosen network after an error, never the password.
            data_schema=self.add_suggested_values_to_schema(
                schema, {CONF_SSID: (user_input or {}).get(CONF_SSID)}
            ),
            errors=errors,
        )


async def _async_scan(client: HanClient) -> tuple[WifiNetwork, ...] | str:
    """Scan and wait for the result: the networks, or an error key."""
    try:
        scan = await client.start_wifi_scan()
    except GatewayError:
        return "cannot_connect"
    reachable = True
    for _ in range(SCAN_MAX_POLLS):
        if scan.status == ScanStatus.SUCCESS:
            return _best_first(scan.networks)
        if scan.status == ScanStatus.FAILED:
            return "scan_failed"
        await asyncio.sleep(SCAN_POLL_INTERVAL)
        try:
            scan = await client.get_wifi_scan()
        except GatewayError:
            # Scanning can drop the reader's WiFi link for a moment: ask again.
            reachable = False
        else:
            reachable = True
    return "scan_failed" if reachable else "cannot_connect"


def _strength(network: WifiNetwork) -> int:
    return network.rssi if network.rssi is not None else -1000


def _best_first(networks: Iterable[WifiNetwork]) -> tuple[WifiNetwork, ...]:
    """One entry per SSID (its strongest access point), strongest first."""
    best: dict[str, WifiNetwork] = {}
    for network in networks:
        known = best.get(network.ssid)
        if known is None or _strength(network) > _strength(known):
            best[network.ssid] = network
    return tuple(sorted(best.values(), key=_strength, reverse=True))


def _label(network: WifiNetwork) -> str:
    """E.g. "Koti (-52 dBm, channel 6, WPA2)"."""
    details = []
    if network.rssi is not None:
        details.append(f"{network.rssi} dBm")
    if network.channel is not None:
        details.append(f"channel {network.channel}")
    if network.auth:
        auth = network.auth.upper()
        details.append(
            "open" if auth == "OPEN" else auth.replace("_PSK", "").replace("_", "/")
        )
    return f"{network.ssid} ({', '.join(details)})" if details else network.ssid
