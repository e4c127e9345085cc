"""Coordinator bases shared by the device types.

`PushCoordinator` owns one long-lived stream per device: it opens the best transport
the device accepts, feeds each message to the device type, notices a silent stream
with a watchdog, and reconnects with exponential backoff and jitter. Entities go
unavailable the moment the link drops and come back without a reload.
"""

from __future__ import annotations

from abc import abstractmethod
import asyncio
from collections.abc import AsyncGenerator, Awaitable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
import time

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .transport.backoff import Backoff
from .transport.errors import (
    CertificateMismatch,
    EndpointGone,
    GatewayError,
    InvalidAuth,
    InvalidResponse,
    TransportUnsupported,
    UntrustedCertificate,
)

RECONNECT_MAX_DELAY = 15.0
"""Longest wait between reconnect attempts: a device back from an outage of any
length is connected again within this (plus the connect itself)."""
RESTART_RETRY_DELAY = 1.0
"""Wait between attempts while a device restarts that said it would."""
RESTART_WINDOW = 300.0
"""How long after an announced restart the quick attempts go on (s)."""


def update_failed(err: GatewayError, host: str) -> UpdateFailed:
    """Return the translated UpdateFailed that says what went wrong.

    An answer that could not be read is reported as such, never as "cannot
    reach", so a user looking at the log knows the device is there.
    """
    if isinstance(err, EndpointGone):
        key = "endpoint_gone"
    elif isinstance(err, InvalidResponse):
        key = "invalid_response"
    else:
        key = "cannot_connect"
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"host": host, "error": str(err)},
    )


async def read_or_keep[T](
    read: Awaitable[T],
    previous: T,
    *,
    reraise: tuple[type[GatewayError], ...] = (),
) -> T:
    """Await a read that must not fail its caller; on failure keep `previous`.

    A failure is logged at debug level only (the data it would refresh stays as
    it was). Errors of the `reraise` kinds (e.g. refused credentials, which need
    the user) are raised.
    """
    try:
        return await read
    except reraise:
        raise
    except GatewayError as err:
        LOGGER.debug("Optional read failed: %s", err)
        return previous


def polling_error(
    err: GatewayError, host: str, invalid_auth_key: str
) -> UpdateFailed | ConfigEntryAuthFailed:
    """Return what a polling cycle raises for a client's error.

    Refused credentials and a certificate other than the trusted one start
    reauthentication (`invalid_auth_key` names the device type's text); every
    other failure is an UpdateFailed that says what went wrong.
    """
    if isinstance(err, CertificateMismatch | UntrustedCertificate):
        key = "certificate_changed"
    elif isinstance(err, InvalidAuth):
        key = invalid_auth_key
    else:
        return update_failed(err, host)
    return ConfigEntryAuthFailed(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"host": host},
    )


class PollingCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """A coordinator that polls its device every `update_interval`.

    One failed cycle alone (a garbled answer, a 5xx, a timeout) keeps the last
    values: a single bad frame never costs availability. The second failed cycle
    in a row makes the entities unavailable, so a device that is really gone is
    shown as such within two intervals; HA's coordinator then logs one line for
    the loss and one for the recovery. Credential failures (ConfigEntryAuthFailed)
    are never held back.
    """

    _failed_cycles = 0
    polls = 0
    """Cycles ended so far, failed or not (for diagnostics and tests)."""

    @abstractmethod
    async def _async_poll(self) -> DataT:
        """Read the device once; raise UpdateFailed (or auth failures)."""

    @property
    def answering(self) -> bool:
        """Whether the newest cycle reached the device (held values do not count)."""
        return self._failed_cycles == 0

    def _keep_last_values(self, err: UpdateFailed, failed_cycles: int) -> bool:
        """Whether a failed cycle keeps showing the last values.

        By default only the first failure in a row does. A device type that
        expects its device to be away (a battery reader asleep) keeps them longer.
        """
        return failed_cycles == 1

    async def _async_update_data(self) -> DataT:
        try:
            data = await self._async_poll()
        except UpdateFailed as err:
            self._failed_cycles += 1
            if self.data is not None and self._keep_last_values(
                err, self._failed_cycles
            ):
                LOGGER.debug("%s: %s; keeping the last values for now", self.name, err)
                return self.data
            raise
        finally:
            self.polls += 1
        self._failed_cycles = 0
        return data


class StreamStalled(GatewayError):
    """The watchdog saw no message for too long."""


class StreamClosed(GatewayError):
    """The device ended the stream."""


@dataclass(slots=True)
class ConnectionStats:
    """Figures about the stream, for diagnostics."""

    transport: str | None = None
    state: str = "connecting"
    """connecting, connected, or backoff (waiting to retry)."""
    attempts: int = 0
    connected_since: datetime | None = None
    reconnects: int = 0
    messages: int = 0
    last_message_monotonic: float | None = None
    last_error: str | None = None
    transports_refused: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Diagnostics view, with the age of the last message in seconds."""
        age = (
            round(time.monotonic() - self.last_message_monotonic, 3)
            if self.last_message_monotonic is not None
            else None
        )
        return {
            "transport": self.transport,
            "state": self.state,
            "attempts": self.attempts,
            "connected_since": self.connected_since.isoformat()
            if self.connected_since
            else None,
            "reconnects": self.reconnects,
            "messages": self.messages,
            "last_message_age_seconds": age,
            "last_error": self.last_error,
            "transports_refused": self.transports_refused,
        }


class PushCoordinator[DataT, MessageT](DataUpdateCoordinator[DataT]):
    """A coordinator fed by a device's stream instead of by polling.

    The first refresh reads a full snapshot over REST (`_async_update_data`), so
    entities start with values; `async_start_stream` then keeps a stream open.
    Subclasses name their transports in order of preference and implement
    `_async_open_stream`, `_async_handle_message` and `_async_connection_lost`.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: ConfigEntry,
        *,
        name: str,
        transports: Sequence[str],
        watchdog_seconds: float,
    ) -> None:
        super().__init__(
            hass,
            LOGGER,
            config_entry=config_entry,
            name=name,
            update_interval=None,  # the stream drives updates; nothing is polled
            always_update=False,
        )
        self._transports = list(transports)
        self._watchdog_seconds = watchdog_seconds
        self._backoff = Backoff(maximum=RECONNECT_MAX_DELAY)
        # While a restart the device announced is under way (monotonic s).
        self._restart_expected_until: float | None = None
        # The slow reads after the newest connect (see _async_stream_connected).
        self._connected_task: asyncio.Task[None] | None = None
        # The first refresh just read the device, so the link starts out up.
        self._link_up = True
        self.stats = ConnectionStats()

    @property
    def transport(self) -> str:
        """The transport in use, or tried next."""
        return self._transports[0]

    @property
    def link_up(self) -> bool:
        """Whether the stream is connected and has delivered a message."""
        return self._link_up

    @callback
    def async_start_stream(self) -> None:
        """Start the stream task; it is cancelled when the entry unloads."""
        assert self.config_entry is not None
        self.config_entry.async_create_background_task(
            self.hass, self._async_run(), f"{DOMAIN} stream {self.name}"
        )

    @abstractmethod
    def _async_open_stream(self, transport: str) -> AsyncGenerator[MessageT]:
        """Connect with `transport` and yield the device's messages.

        Raise TransportUnsupported when the device refuses this transport (the next
        one is tried), any other GatewayError when the connection fails.
        """

    @abstractmethod
    def _async_handle_message(self, message: MessageT) -> None:
        """Apply one message to `self.data` and publish it (hot path: no I/O)."""

    @abstractmethod
    async def _async_stream_connected(self, reconnect: bool) -> None:
        """Re-read slow data once a stream delivered its first message.

        Runs in the background: the stream's messages are shown meanwhile, however
        long the device takes to answer these reads.
        """

    @abstractmethod
    def _async_connection_lost(self) -> None:
        """Forget values that are only valid while the stream is up."""

    @callback
    def async_expect_restart(self) -> None:
        """Reconnect quickly: the device said it restarts (reboot, new firmware).

        Until it is back, reconnects are tried every RESTART_RETRY_DELAY
        instead of at the grown backoff, so the first attempt after its return
        comes within that delay.
        """
        self._restart_expected_until = time.monotonic() + RESTART_WINDOW
        self._backoff.reset()

    def _reconnect_delay(self) -> float:
        until = self._restart_expected_until
        if until is not None and time.monotonic() < until:
            return RESTART_RETRY_DELAY
        self._restart_expected_until = None
        return self._backoff.next_delay()

    @callback
    def async_publish(self) -> None:
        """Tell the entities that `self.data` changed.

        Cheaper than async_set_updated_data on the hot path: no refresh timer to
        reschedule and no debug log line per message.
        """
        if not self.last_update_success:
            self.last_update_success = True
            self.last_exception = None
        self.async_update_listeners()

    async def _async_run(self) -> None:
        """Keep a stream open until the entry unloads."""
        reconnect = False
        while True:
            self.stats.state = "connecting"
            self.stats.attempts += 1
            try:
                await self._async_consume(reconnect)
                error: GatewayError = StreamClosed("the device closed the stream")
            except TransportUnsupported as err:
                if len(self._transports) > 1:
                    refused = self._transports.pop(0)
                    self.stats.transports_refused.append(refused)
                    LOGGER.debug(
                        "%s refused %s (%s); trying %s",
                        self.name,
                        refused,
                        err,
                        self.transport,
                    )
                    continue
                error = err
            except TimeoutError:
                error = StreamStalled(f"no message for {self._watchdog_seconds:.0f} s")
            except InvalidAuth as err:
                # Refused credentials do not get better by retrying (and retries
                # could lock the account): the reauth flow reloads the entry.
                self._async_mark_lost(err)
                assert self.config_entry is not None
                self.config_entry.async_start_reauth(self.hass)
                return
            except GatewayError as err:
                error = err
            reconnect = True
            self._async_mark_lost(error)
            self.stats.state = "backoff"
            await asyncio.sleep(self._reconnect_delay())

    async def _async_consume(self, reconnect: bool) -> None:
        """Read one connection until it ends."""
        loop = asyncio.get_running_loop()
        delivered = False
        async with (
            aclosing(self._async_open_stream(self.transport)) as messages,
            asyncio.timeout(self._watchdog_seconds) as watchdog,
        ):
            async for message in messages:
                now = loop.time()
                watchdog.reschedule(now + self._watchdog_seconds)
                self.stats.messages += 1
                self.stats.last_message_monotonic = time.monotonic()
                if not delivered:
                    delivered = True
                    self._async_mark_up(reconnect)
                self._async_handle_message(message)

    @callback
    def _async_mark_up(self, reconnect: bool) -> None:
        self._backoff.reset()
        self._restart_expected_until = None
        self.stats.state = "connected"
        self.stats.transport = self.transport
        self.stats.connected_since = dt_util.utcnow()
        if reconnect:
            self.stats.reconnects += 1
        was_down = not self._link_up
        self._link_up = True
        if was_down:
            LOGGER.info("Connection to %s restored (%s)", self.name, self.transport)
        assert self.config_entry is not None
        if self._connected_task is not None:
            # A quicker reconnect supersedes reads still waiting on the device.
            self._connected_task.cancel()
        self._connected_task = self.config_entry.async_create_background_task(
            self.hass,
            self._async_stream_connected(reconnect),
            f"{DOMAIN} connected {self.name}",
        )

    @callback
    def _async_mark_lost(self, error: GatewayError) -> None:
        self.stats.last_error = str(error)
        if self._link_up:
            # Once per outage: the retries that follow are logged at debug level.
            LOGGER.info("Lost connection to %s: %s; reconnecting", self.name, error)
            self._link_up = False
            self._async_connection_lost()
        else:
            LOGGER.debug("Connecting to %s failed: %s", self.name, error)
        # Not async_set_update_error: it logs at error level on every outage, and
        # a reader reboot is no error. The info lines above are the log.
        self.last_exception = error
        if self.last_update_success:
            self.last_update_success = False
            self.async_update_listeners()
