"""The integration's config flow: a menu of device types, each bringing its steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult, OptionsFlow
from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo

from .const import CONF_DEVICE_TYPE, DOMAIN
from .devices import DEVICE_TYPES
from .devices.buzzn import BuzznConfigFlow
from .devices.cozify_han import CozifyHanConfigFlow
from .devices.cozify_hub import CozifyHubConfigFlow
from .devices.gavazzi_ems import GavazziEmsConfigFlow
from .devices.ziggymeter import ZiggyMeterConfigFlow


class EnergyGatewaysConfigFlow(
    CozifyHanConfigFlow,
    CozifyHubConfigFlow,
    GavazziEmsConfigFlow,
    ZiggyMeterConfigFlow,
    BuzznConfigFlow,
    domain=DOMAIN,
):
    """Start by choosing the kind of device; its own steps take it from there."""

    VERSION = 1
    MINOR_VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Return the options flow of the entry's device type."""
        options_flow = DEVICE_TYPES[config_entry.data[CONF_DEVICE_TYPE]].options_flow
        assert options_flow is not None
        return options_flow()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Only device types with options show the Configure button."""
        return (
            DEVICE_TYPES[config_entry.data[CONF_DEVICE_TYPE]].options_flow is not None
        )

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer the supported device types."""
        return self.async_show_menu(step_id="user", menu_options=list(DEVICE_TYPES))

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hand over to the reconfigure step of the entry's device type."""
        device_type = self._get_reconfigure_entry().data[CONF_DEVICE_TYPE]
        step = getattr(self, f"async_step_reconfigure_{device_type}")
        result: ConfigFlowResult = await step(user_input)
        return result

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Hand over to the reauth step of the entry's device type."""
        step = getattr(self, f"async_step_reauth_{entry_data[CONF_DEVICE_TYPE]}")
        result: ConfigFlowResult = await step(entry_data)
        return result

    async def async_step_dhcp(
        self, discovery_info: DhcpServiceInfo
    ) -> ConfigFlowResult:
        """Let a known device follow its address, or probe for a HAN reader.

        DHCP matches registered MACs of every device type; a type with its own
        `async_step_dhcp_<type>` step handles its devices, the rest is probed
        as a possible HAN reader.
        """
        entry = self._async_entry_with_mac(discovery_info.macaddress)
        step = (
            getattr(self, f"async_step_dhcp_{entry.data[CONF_DEVICE_TYPE]}", None)
            if entry is not None
            else None
        )
        if entry is not None and step is not None:
            result: ConfigFlowResult = await step(discovery_info, entry)
            return result
        return await super().async_step_dhcp(discovery_info)

    @callback
    def _async_entry_with_mac(self, mac: str) -> ConfigEntry | None:
        """Return the entry that registered a device with this MAC address, if any."""
        registry = dr.async_get(self.hass)
        connection = (dr.CONNECTION_NETWORK_MAC, dr.format_mac(mac))
        for entry in self._async_current_entries(include_ignore=False):
            if registry.async_get_device_by_connection(connection, entry.entry_id):
                return entry
        return None
