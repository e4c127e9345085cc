"""Sets up one BUZZN account: its devices, the live stream and the polling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from homeassistant.const import CONF_EMAIL, CONF_URL, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.event import async_track_time_interval

from ...const import DOMAIN
from ...diagnostics import redact_values
from ...entity import GatewayEntityDescription, device_errors_as_ha_errors
from ...runtime import DeviceRuntime, EnergyGatewaysConfigEntry
from .config_flow import create_client
from .coordinator import POLL_INTERVAL, BuzznCoordinator
from .data import BuzznData
from .engagement import optional_descriptions
from .entities import (
    ACCOUNT,
    GROUP,
    NUMBERS,
    appliance_sensors,
    member_sensors,
    sensor_descriptions,
)

MANUFACTURER = "BUZZN"
PLATFORMS = frozenset(
    {
        Platform.BUTTON,
        Platform.NUMBER,
        Platform.SELECT,
        Platform.SENSOR,
        Platform.TODO,
    }
)


class BuzznRuntime(DeviceRuntime[BuzznData, BuzznCoordinator]):
    """A loaded BUZZN account entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyGatewaysConfigEntry,
        coordinator: BuzznCoordinator,
    ) -> None:
        super().__init__(hass, entry, coordinator)
        data = coordinator.data
        self._members: set[str] = set(data.members)
        self._disaggregation = data.disaggregation
        self._appliances: set[str] = (
            set(data.disaggregation.appliances) if data.disaggregation else set()
        )

    def device_info(self, device: str) -> DeviceInfo:
        """Return a reference to the group device, or else the account device."""
        which = GROUP if device == GROUP else ACCOUNT
        return DeviceInfo(identifiers={(DOMAIN, f"{self._unique_id}_{which}")})

    def descriptions(
        self, platform: Platform
    ) -> Sequence[GatewayEntityDescription[BuzznData]]:
        """Return the numbers, the sensors known so far, and the optional features'."""
        if platform is Platform.NUMBER:
            return NUMBERS
        optional = optional_descriptions(platform, self._coordinator.client.absent)
        if platform is not Platform.SENSOR:
            return optional
        return (
            *sensor_descriptions(
                self._coordinator.data, self._members, self._appliances
            ),
            *optional,
        )

    def async_start(self) -> None:
        """Open the live stream, poll, and follow new members and appliances."""
        coordinator = self._coordinator
        entry = self._entry
        entry.async_on_unload(coordinator.async_add_listener(self._async_follow))
        entry.async_on_unload(
            async_track_time_interval(self._hass, coordinator.async_poll, POLL_INTERVAL)
        )
        coordinator.async_start_stream()
        history = coordinator.history
        history.async_start()
        history.async_schedule_hourly(history.async_start)

    @callback
    def _async_follow(self) -> None:
        """Add sensors for members and appliances seen for the first time.

        Runs on every live message: members only ever join the map, so a new
        one shows as a larger map; appliances change with a new disaggregation.
        """
        data = self._coordinator.data
        if len(data.members) != len(self._members):
            added = set(data.members) - self._members
            self._members |= added
            self.async_announce(Platform.SENSOR, member_sensors(added))
        disaggregation = data.disaggregation
        if disaggregation is not self._disaggregation:
            self._disaggregation = disaggregation
            if disaggregation is not None and (
                added := set(disaggregation.appliances) - self._appliances
            ):
                self._appliances |= added
                self.async_announce(Platform.SENSOR, appliance_sensors(added))

    async def async_update_profile(self, **changes: float) -> None:
        """Write flat size or inhabitants; the profile is read back."""
        coordinator = self._coordinator
        client = coordinator.client
        flat_size = changes.get("flat_size")
        inhabitants = changes.get("inhabitants")
        async with device_errors_as_ha_errors(client.base_url):
            await client.update_profile(
                flat_size=flat_size,
                inhabitants=int(inhabitants) if inhabitants is not None else None,
            )
            coordinator.data.profile = await client.get_profile()
        coordinator.async_publish_if_up()

    async def async_unload(self) -> None:
        """End the session on the server."""
        await self._coordinator.client.logout()

    async def async_diagnostics(self) -> dict[str, Any]:
        """Profile, live and polled values, absent features; personal data scrubbed."""
        coordinator = self._coordinator
        data = coordinator.data
        client = coordinator.client
        profile = data.profile
        return redact_values(
            {
                "profile": {
                    "id": "**REDACTED**",
                    "flat_size": profile.flat_size,
                    "inhabitants": profile.inhabitants,
                    "baseline_state": profile.baseline_state,
                    "registration_date": profile.registration_date.isoformat()
                    if profile.registration_date
                    else None,
                },
                "absent_features": sorted(client.absent),
                "live": coordinator.stats.as_dict(),
                "last_live_message": _live(data),
                "members": len(data.members),
                "appliances": sorted(data.disaggregation.appliances)
                if data.disaggregation
                else [],
                "requests": client.requests,
                "logins": client.logins,
            },
            [
                self._unique_id,
                profile.mail,
                profile.name,
                profile.first_name,
                profile.nick,
                profile.meter_id,
                profile.group_address,
                self._entry.data[CONF_EMAIL],
                self._entry.data[CONF_URL],
                *(
                    member.meter_id
                    for member in (data.live.members if data.live else ())
                ),
            ],
        )


def _live(data: BuzznData) -> dict[str, Any] | None:
    message = data.live
    if message is None:
        return None
    return {
        "date": message.date.isoformat() if message.date else None,
        "group_production": message.group_production,
        "members": [
            {
                "id": member.id,
                "meter_id": "**REDACTED**",
                "energy": float(member.energy) if member.energy is not None else None,
                "power": member.power,
            }
            for member in message.members
        ],
    }


def register_devices(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry, data: BuzznData
) -> None:
    """Register the account device and the group device linked to it."""
    registry = dr.async_get(hass)
    uid = str(entry.unique_id)
    account = registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{uid}_{ACCOUNT}")},
        entry_type=DeviceEntryType.SERVICE,
        manufacturer=MANUFACTURER,
        model="BUZZN account",
        name=entry.title,
        configuration_url=entry.data[CONF_URL],
    )
    registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{uid}_{GROUP}")},
        entry_type=DeviceEntryType.SERVICE,
        manufacturer=MANUFACTURER,
        model="BUZZN group",
        name=data.profile.group_address or "BUZZN group",
        via_device_id=account.id,
    )


async def async_setup(
    hass: HomeAssistant, entry: EnergyGatewaysConfigEntry
) -> BuzznRuntime:
    """Log in, read the account, register its devices and return the runtime."""
    coordinator = BuzznCoordinator(hass, entry, create_client(hass, entry.data))
    await coordinator.async_config_entry_first_refresh()
    register_devices(hass, entry, coordinator.data)
    return BuzznRuntime(hass, entry, coordinator)
