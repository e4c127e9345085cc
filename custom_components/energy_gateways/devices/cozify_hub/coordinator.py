"""Keeps one Cozify Hub's devices current by polling the hub's deltas.

The first refresh reads the hub, its rooms and every device. Each cycle after
that asks `hub/poll` for what changed since the previous answer (every 2 s on
the LAN, 15 s through the cloud relay; both are options) and applies it: a
changed device replaces the old record, `null` removes one, `full: true`
replaces everything. A poll that brought nothing new keeps the same data object,
so no entity is woken.

The client switches between the LAN and the relay by itself; the coordinator
follows with the polling interval. Token upkeep happens here too: the cloud
token is renewed once a day, and renewed credentials are saved in the entry so
a restart starts with them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import timedelta
import time

from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import UpdateFailed

from ...const import DOMAIN, LOGGER
from ...coordinator import PollingCoordinator, polling_error
from ...repairs import async_create_entry_issue, async_delete_entry_issue
from ...runtime import EnergyGatewaysConfigEntry
from ...transport.errors import GatewayError, InvalidAuth
from .client import ApiVersionGone, CozifyHubClient, RelayRefused
from .const import CONF_CLOUD_TOKEN, CONF_HUB_KEY, CONF_TOKEN_RENEWED
from .data import HubData
from .models import KNOWN_CAPABILITIES, CozifyDevice, PollDelta, merged
from .options_flow import LOCAL_INTERVAL, REMOTE_INTERVAL

FOLLOW_UP_PAUSES = (0.0, 0.2, 0.4, 0.8, 1.6, 3.2)
"""Seconds before each poll that follows a command (6.2 s in all)."""
SESSION_RETRY_SECONDS = 600.0
"""Wait before trying the daily token renewal again when the cloud did not answer."""
ISSUE_RELAY_REFUSED = "relay_refused"
ISSUE_API_VERSION = "api_version"


class CozifyHubCoordinator(PollingCoordinator[HubData]):
    """The devices of one Cozify Hub, kept current by delta polls."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EnergyGatewaysConfigEntry,
        client: CozifyHubClient,
    ) -> None:
        options = entry.options
        self._intervals = {
            "local": timedelta(seconds=LOCAL_INTERVAL.value(options)),
            "remote": timedelta(seconds=REMOTE_INTERVAL.value(options)),
        }
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=self._intervals[client.route],
            always_update=False,
        )
        self.client = client
        self._since: int | None = None
        """The hub time of the newest delta applied (None: read everything)."""
        self._session_due = 0.0
        self.unknown_delta_types: set[str] = set()
        self.unknown_capabilities: set[str] = set()
        self.deltas = 0
        """Poll answers that changed something (for diagnostics and figures)."""
        self._polling = asyncio.Lock()
        """One poll at a time: a command's follow-up polls run beside the timer's."""

    @property
    def host(self) -> str:
        """How messages name the hub: its LAN address, or the cloud relay."""
        assert self.config_entry is not None
        return str(self.config_entry.data.get(CONF_HOST) or self.config_entry.title)

    async def _async_poll(self) -> HubData:
        async with self._polling:
            return await self._async_poll_once()

    async def async_follow_up(self, done: Callable[[HubData], bool]) -> None:
        """Poll right after a command until `done(data)` (the device followed).

        The hub acts a moment after it answers a command: the first poll goes
        at once, the next ones after growing pauses, for at most about three
        poll intervals. Nothing is shown before the hub reports it; a device
        that does not follow keeps showing what the hub reports.
        """
        for pause in FOLLOW_UP_PAUSES:
            await asyncio.sleep(pause)
            await self.async_refresh()
            if not self.last_update_success or done(self.data):
                return

    async def _async_poll_once(self) -> HubData:
        client = self.client
        try:
            await self._async_keep_session()
            if self.data is None or self._since is None:
                data = await self._async_read_everything()
            else:
                data = self._apply(self.data, await client.poll(self._since))
        except RelayRefused as err:
            self._async_issue(ISSUE_RELAY_REFUSED)
            raise self._failed(ISSUE_RELAY_REFUSED) from err
        except ApiVersionGone as err:
            self._async_issue(ISSUE_API_VERSION)
            raise self._failed(ISSUE_API_VERSION) from err
        except GatewayError as err:
            raise polling_error(err, self.host, "cozify_hub_invalid_auth") from err
        finally:
            self._async_save_credentials()
        # The interval follows the route only once it works: a hub that neither
        # the LAN nor the relay reaches is found lost at the LAN's pace.
        self.update_interval = self._intervals[client.route]
        self._async_settle_issues()
        return data

    async def _async_keep_session(self) -> None:
        """Renew the cloud token once a day; a refused token needs the user."""
        now = time.monotonic()
        if now < self._session_due:
            return
        try:
            await self.client.keep_session()
        except InvalidAuth:
            raise
        except GatewayError as err:
            # The hub may still answer on the LAN; try the cloud again later.
            LOGGER.debug("%s: renewing the cloud session failed: %s", self.name, err)
            self._session_due = now + SESSION_RETRY_SECONDS

    async def _async_read_everything(self) -> HubData:
        """Read the hub, its rooms and every device (at start)."""
        client = self.client
        hub = await client.connect()
        rooms = await client.rooms()
        scenes = await client.scenes()
        devices = await client.devices()
        # The answer's hub time is where the next delta starts.
        delta = await client.poll(0)
        self._since = delta.timestamp
        devices = delta.apply(devices)
        self._note_unknown(delta, devices.values())
        return HubData(
            hub=hub, devices=devices, rooms=rooms, scenes=scenes, route=client.route
        )

    def _apply(self, data: HubData, delta: PollDelta) -> HubData:
        """Return the data with a delta applied (the same object if nothing changed)."""
        self._since = delta.timestamp
        devices = delta.apply(data.devices)
        self._note_unknown(
            delta,
            (d for d in delta.devices.values() if d is not None),
        )
        rooms = (
            data.rooms
            if delta.rooms is None
            else merged(data.rooms, delta.rooms, replace=delta.full)
        )
        scenes = (
            data.scenes
            if delta.scenes is None
            else merged(data.scenes, delta.scenes, replace=delta.full)
        )
        hub = self.client.hub or data.hub
        route = self.client.route
        if (devices, rooms, scenes, hub, route) == (
            data.devices,
            data.rooms,
            data.scenes,
            data.hub,
            data.route,
        ):
            return data
        self.deltas += 1
        return HubData(
            hub=hub, devices=devices, rooms=rooms, scenes=scenes, route=route
        )

    def _note_unknown(self, delta: PollDelta, devices: Iterable[CozifyDevice]) -> None:
        """Remember delta types and capabilities the integration does not use."""
        self.unknown_delta_types |= delta.unknown_types
        for device in devices:
            self.unknown_capabilities |= device.capabilities - KNOWN_CAPABILITIES

    def _failed(self, key: str) -> UpdateFailed:
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"host": self.host},
        )

    def _async_issue(self, key: str) -> None:
        assert self.config_entry is not None
        async_create_entry_issue(self.hass, self.config_entry, key)

    def _async_settle_issues(self) -> None:
        assert self.config_entry is not None
        for key in (ISSUE_RELAY_REFUSED, ISSUE_API_VERSION):
            async_delete_entry_issue(self.hass, self.config_entry.entry_id, key)

    def _async_save_credentials(self) -> None:
        """Store renewed tokens in the entry (no reload: the client has them)."""
        client = self.client
        if not client.credentials_changed:
            return
        client.credentials_changed = False
        entry = self.config_entry
        assert entry is not None
        self.hass.config_entries.async_update_entry(
            entry,
            data={
                **entry.data,
                CONF_CLOUD_TOKEN: client.cloud_token,
                CONF_TOKEN_RENEWED: client.token_renewed_at,
                CONF_HUB_KEY: client.hub_key,
            },
        )
