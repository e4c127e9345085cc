"""Asyncio client for the Cozify HAN reader's local API.

Plain HTTP on the LAN, no credentials for reads. Live data arrives over a
WebSocket (`/ws`) or server-sent events (`/sse`, older firmware `/events`); REST
polling of `/meter` is the last resort. Raises only the integration's own errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
import json
import logging
from typing import Any

import aiohttp

from ...transport.errors import (
    CannotConnect,
    DeviceBusy,
    Forbidden,
    InvalidAuth,
    InvalidResponse,
    Rejected,
    TransportUnsupported,
)
from ...transport.sse import SseDecoder
from .models import (
    SECRET_MASK,
    CompactData,
    Configuration,
    ConfigurationResult,
    Definitions,
    Firmware,
    HanInfo,
    HanMessage,
    Health,
    History,
    HistoryPeriod,
    MessageType,
    MeterIdentity,
    MeterReading,
    OtaState,
    Prices,
    WifiScan,
    parse_compact_data,
    parse_configuration,
    parse_configuration_result,
    parse_definitions,
    parse_firmware,
    parse_health,
    parse_history,
    parse_info,
    parse_meter,
    parse_meter_identity,
    parse_ota,
    parse_prices,
    parse_stream_message,
    parse_wifi_scan,
)

_LOGGER = logging.getLogger(__name__)

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)
# A firmware image is a few MB over a slow WiFi link.
UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=300)
# Streams stay open for days: only connecting is bounded, the watchdog does the rest.
STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10)
# Opening a stream (connect and upgrade answer) takes milliseconds on a LAN.
STREAM_OPEN_TIMEOUT = 5.0
# The reader's small HTTP server has few sockets, and a keep-alive connection left
# in the pool when it reboots is dead: a stream opened on it would wait for an
# answer that never comes. So REST requests do not keep their connection.
_CLOSE = {"Connection": "close"}
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

    async def _request(
        self, path: str, method: str = "GET", **kwargs: Any
    ) -> aiohttp.ClientResponse:
        """Send a request; map every failure to the integration's errors."""
        try:
            response = await self._session.request(
                method,
                self.base_url + path,
                timeout=kwargs.pop("timeout", REQUEST_TIMEOUT),
                allow_redirects=False,
                headers={**_CLOSE, **kwargs.pop("headers", {})},
                **kwargs,
            )
        except TimeoutError as err:
            raise CannotConnect(f"{path}: timed out") from err
        except aiohttp.ClientError as err:
            raise CannotConnect(f"{path}: {err}") from err
        if response.status == 200:
            return response
        if method != "GET" and response.status == 400:
            # A refused write explains itself in the body; reads get 400 only
            # from firmware that lacks the endpoint.
            raise Rejected(await _reason(response))
        response.release()
        if response.status == 503:
            raise DeviceBusy(f"{path}: device busy (503)")
        if response.status == 401:
            raise InvalidAuth(f"{path}: token rejected (401)")
        if response.status == 403:
            raise Forbidden(f"{path}: permission denied (403)")
        if response.status in _NOT_OFFERED:
            raise TransportUnsupported(f"{path}: HTTP {response.status}")
        raise CannotConnect(f"{path}: HTTP {response.status}")

    async def _read[T](
        self,
        path: str,
        read: Callable[[aiohttp.ClientResponse], Awaitable[T]],
        method: str = "GET",
        **kwargs: Any,
    ) -> T:
        """Request `path` and read its body with `read`."""
        response = await self._request(path, method, **kwargs)
        try:
            return await read(response)
        except aiohttp.ClientPayloadError as err:
            raise InvalidResponse(f"{path}: the answer was cut short") from err
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CannotConnect(f"{path}: {err}") from err

    async def _get_json(self, path: str, method: str = "GET", **kwargs: Any) -> Any:
        try:
            payload = await self._read(
                path, lambda r: r.json(content_type=None), method, **kwargs
            )
        except ValueError as err:
            raise InvalidResponse(f"{path}: not JSON") from err
        if isinstance(payload, dict) and isinstance(payload.get("type"), str):
            self.last_payloads[payload["type"]] = payload
        return payload

    async def _get_parsed[T](
        self,
        path: str,
        parse: Callable[[Any], T | None],
        method: str = "GET",
        **kwargs: Any,
    ) -> T:
        parsed = parse(await self._get_json(path, method, **kwargs))
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

    async def get_data(self) -> CompactData:
        """Read the compact snapshot (for its estimated costs)."""
        return await self._get_parsed("/data", parse_compact_data)

    async def get_telegram(self) -> str:
        """Read the last valid meter telegram as text."""
        return await self._read("/telegram", lambda r: r.text(errors="replace"))

    async def get_raw(self) -> bytes:
        """Read the reader's raw input buffer (up to 4096 bytes)."""
        return await self._read("/raw", lambda r: r.read())

    # -- configuration and WiFi -------------------------------------------

    async def get_definitions(self) -> Definitions:
        """Read the currencies, price areas and time zones the reader accepts."""
        return await self._get_parsed("/definitions", parse_definitions)

    async def set_configuration(
        self, changes: Mapping[str, Any]
    ) -> ConfigurationResult:
        """Write part of the configuration, e.g. `{"m": {"f": 35}}`.

        Keys holding the read-back mask "***" are left out, so a masked secret is
        never written back. Raises Rejected when the reader refuses the change.
        """
        result = parse_configuration_result(
            await self._get_json("/configuration", "POST", json=_unmasked(changes))
        )
        if not result.success:
            raise Rejected(result.message or "configuration refused")
        return result

    async def start_wifi_scan(self) -> WifiScan:
        """Start a WiFi scan; the reader's WiFi link may drop while it runs."""
        return await self._get_parsed(
            "/scan", parse_wifi_scan, headers={"X-Scan-Start": "1"}
        )

    async def get_wifi_scan(self) -> WifiScan:
        """Read the state of the WiFi scan, with the networks once it succeeded."""
        return await self._get_parsed("/scan", parse_wifi_scan)

    async def setup_wifi(self, ssid: str, password: str) -> None:
        """Make the reader join `ssid`; the password goes into no log or error."""
        answer = await self._get_json(
            "/setup", "POST", json={"s": True, "ss": ssid, "sp": password}
        )
        if isinstance(answer, dict) and answer.get("success") is False:
            raise Rejected(str(answer.get("message") or "WiFi set-up refused"))

    async def get_history(self, period: HistoryPeriod) -> History:
        """Read one history period (not kept for diagnostics: it is large)."""
        path = f"/history/{period}"
        try:
            payload = await self._read(path, lambda r: r.json(content_type=None))
        except ValueError as err:
            raise InvalidResponse(f"{path}: not JSON") from err
        history = parse_history(payload)
        if history is None:
            raise InvalidResponse(f"{path}: unexpected payload")
        return history

    # -- firmware and device actions ---------------------------------------

    async def ota_download(self) -> OtaState:
        """Ask the reader to download the firmware on offer."""
        return await self._get_parsed("/ota/download", parse_ota, "POST")

    async def ota_activate(self) -> OtaState:
        """Activate the staged image; the reader reboots."""
        return await self._get_parsed("/ota/activate", parse_ota, "POST")

    async def ota_clear(self) -> OtaState:
        """Acknowledge a failed update."""
        return await self._get_parsed("/ota/clear", parse_ota, "POST")

    async def reboot(self) -> None:
        """Restart the reader; the stream drops and returns by itself."""
        await self._get_json("/reboot", "POST")

    async def upload_firmware(self, image: bytes, filename: str) -> OtaState | None:
        """Upload a firmware image; None when only the legacy endpoint exists.

        `POST /ota` stages the image and needs a bearer token, fetched right
        before the upload (it lives 300 s) and fetched once more on a 401.
        Readers without `/ota` get the legacy `POST /update`, which installs
        and reboots by itself.
        """
        for attempt in (1, 2):
            token = await self._get_json("/auth/token")
            access_token = token.get("accessToken") if isinstance(token, dict) else None
            if not isinstance(access_token, str):
                raise InvalidResponse("/auth/token: no access token")
            try:
                return await self._get_parsed(
                    "/ota",
                    parse_ota,
                    "POST",
                    data=_image_form(image, filename),
                    headers={"Authorization": f"Bearer {access_token}"},
                    timeout=UPLOAD_TIMEOUT,
                )
            except Forbidden:
                raise
            except InvalidAuth:
                if attempt == 2:
                    raise
            except TransportUnsupported:
                break
        await self._get_json(
            "/update", "POST", data=_image_form(image, filename), timeout=UPLOAD_TIMEOUT
        )
        return None

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
            async with asyncio.timeout(STREAM_OPEN_TIMEOUT):
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
                async with asyncio.timeout(STREAM_OPEN_TIMEOUT):
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


def _unmasked(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the keys holding the secret mask, and objects left empty by that."""
    body: dict[str, Any] = {}
    for key, value in changes.items():
        if isinstance(value, Mapping):
            value = _unmasked(value)
            if not value:
                continue
        elif value == SECRET_MASK:
            continue
        body[key] = value
    return body


def _image_form(image: bytes, filename: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field(
        "filename", image, filename=filename, content_type="application/octet-stream"
    )
    return form


async def _reason(response: aiohttp.ClientResponse) -> str:
    """Return the reason a device gives for refusing a request."""
    try:
        body = await response.json(content_type=None)
    except aiohttp.ClientError, TimeoutError, ValueError:
        return f"HTTP {response.status}"
    finally:
        response.release()
    if isinstance(body, dict):
        for key in ("message", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
    return f"HTTP {response.status}"


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = ["HanClient", "MessageType", "Transport"]
