"""One BUZZN account: live values pushed by the server, the rest polled.

The live stream (a plain WebSocket at `/live`, or Socket.IO 2 where the server
refuses that upgrade, as the reference backend does) carries every member's
consumption and power and the group's production about every 20 s. The rest is
read over REST at the pace it changes: savings, per-capita consumption and the
appliance disaggregation every 15 minutes, a running challenge's status every
5 minutes, the profile hourly. Optional features the server does not offer
(404: hints, challenges) are not asked for again until a reload.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable
from datetime import datetime, timedelta
from functools import partial
import time

from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant

from ...const import LOGGER
from ...coordinator import PushCoordinator, polling_error, read_or_keep
from ...runtime import EnergyGatewaysConfigEntry
from ...statistics import HistoryImporter
from ...totals import MonotonicTotals
from ...transport.errors import GatewayError, InvalidAuth
from .client import BuzznClient
from .data import BuzznData, MemberValues
from .history import async_import_history
from .live import ALIVE, socketio_messages, websocket_messages
from .models import LiveMessage

TRANSPORTS = ("websocket", "socketio")
"""The seed's plain WebSocket first; Socket.IO 2 when the server refuses it."""
WATCHDOG = 60.0
"""Seconds without a live message after which the stream counts as dead."""
POLL_INTERVAL = timedelta(minutes=5)
"""How often `async_poll` runs (a running challenge's status each time)."""
SLOW_INTERVAL = 15 * 60.0
"""Seconds between reads of savings, per-capita consumption and appliances."""
PROFILE_INTERVAL = 60 * 60.0
"""Seconds between reads of the profile (and of the challenge list and hints)."""


class BuzznCoordinator(PushCoordinator[BuzznData, LiveMessage]):
    """Live group values over the stream, the account's other data polled."""

    def __init__(
        self, hass: HomeAssistant, entry: EnergyGatewaysConfigEntry, client: BuzznClient
    ) -> None:
        super().__init__(
            hass,
            entry,
            name=entry.title,
            transports=TRANSPORTS,
            watchdog_seconds=WATCHDOG,
        )
        self.client = client
        self._totals = MonotonicTotals(entry.title)
        self._read_at: dict[str, float] = {}
        self.history = HistoryImporter(
            hass,
            entry,
            entry.title,
            partial(async_import_history, hass, client, device=str(entry.unique_id)),
        )
        """Imports the own history into statistics (started by the runtime)."""

    @property
    def url(self) -> str:
        """The server's address, for messages."""
        assert self.config_entry is not None
        return str(self.config_entry.data[CONF_URL])

    async def _async_update_data(self) -> BuzznData:
        """Read the profile and the polled data (first refresh)."""
        try:
            profile = await self.client.get_profile()
            data = self.data if self.data is not None else BuzznData(profile=profile)
            data.profile = profile
            await self._async_read(data, force=True)
        except GatewayError as err:
            raise polling_error(err, self.url, "buzzn_invalid_auth") from err
        return data

    def _due(self, what: str, interval: float, force: bool) -> bool:
        now = time.monotonic()
        read_at = self._read_at.get(what)
        if force or read_at is None or now - read_at >= interval:
            self._read_at[what] = now
            return True
        return False

    async def _async_read(self, data: BuzznData, *, force: bool = False) -> None:
        """Read what is due; a failed or absent read keeps the last values."""
        client = self.client
        if self._due("slow", SLOW_INTERVAL, force):
            data.saving = await _kept(client.get_individual_saving(), data.saving)
            data.community = await _kept(client.get_community_saving(), data.community)
            data.per_capita = await _kept(client.get_per_capita(), data.per_capita)
            data.disaggregation = await _kept(
                client.get_individual_disaggregation(), data.disaggregation
            )
        if self._due("hourly", PROFILE_INTERVAL, force):
            if not force:
                data.profile = await _kept(client.get_profile(), data.profile)
            data.challenges = await _kept(client.get_challenges(), data.challenges)
            data.hints = await _kept(client.get_hints(), data.hints)
        if force or data.challenge is not None:
            data.challenge = await _kept(client.get_challenge_status(), data.challenge)

    async def async_poll(self, _now: datetime | None = None) -> None:
        """Read the polled data that is due; publish it."""
        try:
            await self._async_read(self.data)
        except InvalidAuth:
            # The password changed: the same reauthentication as at set-up.
            assert self.config_entry is not None
            self.config_entry.async_start_reauth(self.hass)
            return
        self.async_publish_if_up()

    def async_publish_if_up(self) -> None:
        """Publish polled values; while the link is down entities stay unavailable."""
        if self.link_up:
            self.async_publish()

    async def async_refresh_challenges(self) -> None:
        """Read the challenge list and status now (after a start or a quit)."""
        data = self.data
        data.challenges = await _kept(self.client.get_challenges(), data.challenges)
        data.challenge = await _kept(self.client.get_challenge_status(), data.challenge)
        self.async_publish_if_up()

    async def async_refresh_hints(self) -> None:
        """Read the hints now (after one was marked read)."""
        data = self.data
        data.hints = await _kept(self.client.get_hints(), data.hints)
        self.async_publish_if_up()

    def _async_open_stream(self, transport: str) -> AsyncGenerator[LiveMessage]:
        meter_id = self.data.profile.meter_id or ""
        if transport == "websocket":
            return websocket_messages(self.client, meter_id)
        return socketio_messages(self.client, meter_id)

    async def _async_stream_connected(self, reconnect: bool) -> None:
        """Nothing to re-read: the polled values have their own pace."""

    def _async_connection_lost(self) -> None:
        """Keep the values: the entities show as unavailable meanwhile."""

    def _async_handle_message(self, message: LiveMessage) -> None:
        if message is ALIVE:
            # Up again (a greeting after a reconnect); the values stay as they are.
            if not self.last_update_success:
                self.async_publish()
            return
        data = self.data
        data.live = message
        own = data.own_member_id
        powers: list[float] = []
        for member in message.members:
            values = data.members.setdefault(member.id, MemberValues())
            energy = float(member.energy) if member.energy is not None else None
            values.energy = self._totals.accept(f"member_{member.id}", energy)
            values.power = member.power
            if member.power is not None:
                powers.append(member.power)
            if member.id == own or (
                member.meter_id is not None and member.meter_id == data.profile.meter_id
            ):
                data.energy = values.energy
                data.power = member.power
        data.group_power = sum(powers) if powers else None
        if message.production_implausible:
            LOGGER.debug(
                "%s: group production %s is no power (the seed's energy counter?); "
                "ignored",
                self.name,
                message.raw.get("group_production"),
            )
        data.group_production = message.group_production
        self.async_publish()


def _kept[T](read: Awaitable[T], previous: T) -> Awaitable[T]:
    """Read, keeping `previous` on failure; a refused login is raised (reauth)."""
    return read_or_keep(read, previous, reraise=(InvalidAuth,))
