"""The BUZZN live stream over either transport, as decoded `LiveMessage`s.

The seed's plain WebSocket (`/live?meter_id=…`, Bearer header, one JSON
message per text frame) comes first; the reference backend refuses that
upgrade (TransportUnsupported) and serves the same messages over Socket.IO 2
(namespace `/live`, event `live_data`). Both generators yield `ALIVE` for the
greeting and for messages without data (the server is there, but has nothing
new: never zeros), end when the server closes the stream (the coordinator
reconnects) and raise only the integration's errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import logging

import aiohttp

from ...transport.errors import CannotConnect
from ...transport.http import bearer, mapped_errors
from ...transport.socketio import handshake_error, socketio_events
from .client import LIVE_PATH, SOCKETIO_PATH, BuzznClient
from .models import LiveMessage, decode_live

_LOGGER = logging.getLogger(__name__)

NAMESPACE = "/live"
EVENT = "live_data"
OPEN_TIMEOUT = 15.0
"""Seconds to open the WebSocket."""
ALIVE = LiveMessage(date=None, group_production=None)
"""A frame without data: the greeting, or `{}` while a member has no reading.

It tells the coordinator the stream is up (entities available again right
after a reconnect) and changes no value."""


async def _open_websocket(
    client: BuzznClient, url: str
) -> aiohttp.ClientWebSocketResponse:
    """Open `/live` with the session token; renew it once on a 401/422."""

    async def connect(token: str) -> aiohttp.ClientWebSocketResponse:
        with mapped_errors(LIVE_PATH):
            try:
                async with asyncio.timeout(OPEN_TIMEOUT):
                    return await client.session.ws_connect(
                        url,
                        headers=bearer(token),
                        timeout=aiohttp.ClientWSTimeout(ws_close=5),
                    )
            except aiohttp.WSServerHandshakeError as err:
                raise handshake_error(err.status, LIVE_PATH) from err

    return await client.authorized(connect, label=LIVE_PATH)


async def websocket_messages(
    client: BuzznClient, meter_id: str
) -> AsyncGenerator[LiveMessage]:
    """Yield live messages from the plain WebSocket until the server closes it.

    TransportUnsupported when the server answers the upgrade with a page or an
    error (the reference backend), InvalidAuth when a fresh session is refused
    too, CannotConnect when the connection fails or breaks.
    """
    url = client.live_url(LIVE_PATH, {"meter_id": meter_id})
    websocket = await _open_websocket(client, url)
    async with websocket:
        while True:
            try:
                frame = await websocket.receive()
            except aiohttp.ClientError as err:
                raise CannotConnect(f"{LIVE_PATH}: {type(err).__name__}") from err
            if frame.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                yield decode_live(frame.data) or ALIVE
            elif frame.type is aiohttp.WSMsgType.ERROR:
                raise CannotConnect(f"{LIVE_PATH}: {websocket.exception()!r}")
            else:  # CLOSE, CLOSING, CLOSED
                _LOGGER.debug("%s: closed by the server", LIVE_PATH)
                return


async def socketio_messages(
    client: BuzznClient, meter_id: str
) -> AsyncGenerator[LiveMessage]:
    """Yield live messages from Socket.IO 2 (namespace `/live`, `live_data`).

    The errors of `transport.socketio.socketio_events`, e.g. PingTimeout (a
    CannotConnect) when the server stops answering pings.
    """
    url = client.live_url(
        SOCKETIO_PATH, {"EIO": 3, "transport": "websocket", "meter_id": meter_id}
    )
    events = socketio_events(
        client.session,
        url,
        namespace=NAMESPACE,
        event=EVENT,
        headers=await client.live_headers(),
        label=SOCKETIO_PATH,
    )
    try:
        async for payload in events:
            yield decode_live(payload) or ALIVE
    finally:
        await events.aclose()


__all__ = [
    "ALIVE",
    "EVENT",
    "NAMESPACE",
    "socketio_messages",
    "websocket_messages",
]
