"""Asyncio client for the Cozify HAN reader's local API.

Plain HTTP on the LAN, no credentials for reads. Live data arrives over a
WebSocket (`/ws`) or server-sent events (`/sse`, older firmware `/events`); REST
polling of `/meter` is the last resort. Raises only the integration's own errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
import json
import logging
from typing import Any

import aiohttp

from ...transport.errors import (
    CannotConnect,
    DeviceBusy,
    InvalidResponse,
    TransportUnsupported,
)
from ...transport.sse import SseDecoder
from .models import (
    Configuration,
    Firmware,
    HanInfo,
    HanMessage,
    Health,
    MessageType,
    MeterIdentity,
    MeterReading,
    OtaState,
    Prices,
    parse_configuration,
    parse_firmware,
    parse_health,
    parse_info,
    parse_meter,
    parse_meter_identity,
    parse_ota,
    parse_prices,
    parse_stream_message,
)

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)
# Streams stay open for days: only connecting is bounded, the watchdog does the rest.
STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10)
# HTTP answers meaning "this firmware has no such endpoint", as opposed to a fault.
_NOT_OFFERED = frozenset({400, 404, 405, 501})
POLL_INTERVAL = 10.0
# While polling, the slow-changing state is re-read every this many meter reads.
_POLL_STATE_EVERY = 6


class Transport(StrEnum):
    """How live data reaches the client, best first."""

    WEBSOCKET = "websocket"
    SSE = "sse"
    POLLING = "polling"


class HanClient:
    """One Cozify HAN reader."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        port: int = 80,
        *,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        self._session = session
        self.host = host
        self.port = port
        authority = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{authority}:{port}"
        self._poll_interval = poll_interval
        self._sse_path: str | None = None
        # The newest payload of each type, kept as received for diagnostics.
        self.last_payloads: dict[str, Any] = {}
        self.malformed_messages = 0
        self.unknown_messages = 0

    # -- REST -------------------------------------------------------------

    async def _request(self, path: str) -> aiohttp.ClientResponse:
        try:
            response = await self._session.get(
                self.base_url + path, timeout=REQUEST_TIMEOUT, allow_redirects=False
            )
        except TimeoutError as err:
            raise CannotConnect(f"{path}: timed out") from err
        except aiohttp.ClientError as err:
            raise CannotConnect(f"{path}: {err}") from err
        if response.status == 503:
            response.release()
            raise DeviceBusy(f"{path}: device busy (503)")
        if response.status in _NOT_OFFERED:
            response.release()
            raise TransportUnsupported(f"{path}: HTTP {response.status}")
        if response.status != 200:
            response.release()
            raise CannotConnect(f"{path}: HTTP {response.status}")
        return response

    async def _read[T](
        self, path: str, read: Callable[[aiohttp.ClientResponse], Awaitable[T]]
    ) -> T:
        """Request `path` and read its body with `read`."""
        response = await self._request(path)
        try:
            return await read(response)
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CannotConnect(f"{path}: {err}") from err

    async def _get_json(self, path: str) -> Any:
        try:
            payload = await self._read(path, lambda r: r.json(content_type=None))
        except ValueError as err:
            raise InvalidResponse(f"{path}: not JSON") from err
        if isinstance(payload, dict) and isinstance(payload.get("type"), str):
            self.last_payloads[payload["type"]] = payload
        return payload

    async def _get_parsed[T](self, path: str, parse: Callable[[Any], T | None]) -> T:
        parsed = parse(await self._get_json(path))
        if parsed is None:
            raise InvalidResponse(f"{path}: unexpected payload")
        return parsed

    async def get_info(self) -> HanInfo:
        """Read `/han`; InvalidResponse if the host is not a HAN reader."""
        try:
            return await self._get_parsed("/han", parse_info)
        except TransportUnsupported as err:
            raise InvalidResponse(str(err)) from err

    async def get_meter(self) -> MeterReading:
        """Read the latest meter reading."""
        return await self._get_parsed("/meter", lambda p: parse_meter(p, _now()))

    async def get_meter_identity(self) -> MeterIdentity:
        """Read the identity of the meter behind the reader."""
        return await self._get_parsed("/meter/id", parse_meter_identity)

    async def get_health(self) -> Health:
        """Read heap, RSSI and uptime."""
        return await self._get_parsed("/health", parse_health)

    async def get_firmware(self) -> Firmware:
        """Read firmware metadata."""
        return await self._get_parsed("/firmware", parse_firmware)

    async def get_configuration(self) -> Configuration:
        """Read the configuration (secrets come back masked as "***")."""
        return await self._get_parsed("/configuration", parse_configuration)

    async def get_ota(self) -> OtaState:
        """Read the OTA lifecycle state."""
        return await self._get_parsed("/ota", parse_ota)

    async def get_prices(self) -> Prices:
        """Read the current price and the known price slots."""
        return await self._get_parsed("/prices", parse_prices)

    async def get_telegram(self) -> str:
        """Read the last valid meter telegram as text."""
        return await self._read("/telegram", lambda r: r.text(errors="replace"))

    async def get_raw(self) -> bytes:
        """Read the reader's raw input buffer (up to 4096 bytes)."""
        return await self._read("/raw", lambda r: r.read())

    # -- streams ----------------------------------------------------------

    def messages(self, transport: Transport) -> AsyncGenerator[HanMessage]:
        """Yield live messages over `transport` until the connection ends.

        Ends when the reader closes the stream, or by raising CannotConnect
        (connection lost) or TransportUnsupported (the reader refuses it).
        """
        if transport is Transport.WEBSOCKET:
            return self._websocket_messages()
        if transport is Transport.SSE:
            return self._sse_messages()
        return self._polled_messages()

    def _decode(self, text: str | bytes, event: str | None = None) -> HanMessage | None:
        """Parse one frame; malformed or unknown ones are counted and skipped."""
        try:
            payload = json.loads(text)
        except ValueError:
            self.malformed_messages += 1
            _LOGGER.debug("%s: skipped a malformed frame", self.host)
            return None
        if not isinstance(payload, dict):
            self.malformed_messages += 1
            return None
        if event and event != "message":
            # SSE names the discriminator in the event line; it wins.
            payload["type"] = event
        message = parse_stream_message(payload, _now())
        if message is None:
            self.unknown_messages += 1
            _LOGGER.debug(
                "%s: skipped a message of type %r", self.host, payload.get("type")
            )
            return None
        self.last_payloads[payload["type"]] = payload
        return message

    async def _websocket_messages(self) -> AsyncGenerator[HanMessage]:
        try:
            websocket = await self._session.ws_connect(
                self.base_url + "/ws", timeout=aiohttp.ClientWSTimeout(ws_close=5)
            )
        except aiohttp.WSServerHandshakeError as err:
            if err.status == 503:
                raise DeviceBusy("/ws: device busy (503)") from err
            if err.status in _NOT_OFFERED:
                raise TransportUnsupported(f"/ws: HTTP {err.status}") from err
            raise CannotConnect(f"/ws: HTTP {err.status}") from err
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CannotConnect(f"/ws: {err}") from err
        async with websocket:
            async for frame in websocket:
                if frame.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    message = self._decode(frame.data)
                    if message is not None:
                        yield message
                elif frame.type is aiohttp.WSMsgType.ERROR:
                    raise CannotConnect(f"/ws: {websocket.exception()}")

    async def _open_sse(self) -> aiohttp.ClientResponse:
        paths = [self._sse_path] if self._sse_path else ["/sse", "/events"]
        for path in paths:
            try:
                response = await self._session.get(
                    self.base_url + path,
                    headers={"Accept": "text/event-stream"},
                    timeout=STREAM_TIMEOUT,
                )
            except (aiohttp.ClientError, TimeoutError) as err:
                raise CannotConnect(f"{path}: {err}") from err
            if response.status == 200:
                self._sse_path = path
                return response
            response.release()
            if response.status == 503:
                raise DeviceBusy(f"{path}: device busy (503)")
            if response.status not in _NOT_OFFERED:
                raise CannotConnect(f"{path}: HTTP {response.status}")
        raise TransportUnsupported("no event-stream endpoint")

    async def _sse_messages(self) -> AsyncGenerator[HanMessage]:
        response = await self._open_sse()
        decoder = SseDecoder()
        try:
            async for chunk in response.content.iter_any():
                for event in decoder.feed(chunk):
                    message = self._decode(event.data, event.event)
                    if message is not None:
                        yield message
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CannotConnect(f"{self._sse_path}: {err}") from err
        finally:
            response.release()

    async def _polled_messages(self) -> AsyncGenerator[HanMessage]:
        reads = 0
        while True:
            if reads % _POLL_STATE_EVERY == 0:
                yield await self.get_info()
            reads += 1
            yield await self.get_meter()
            await asyncio.sleep(self._poll_interval)


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = ["HanClient", "MessageType", "Transport"]
