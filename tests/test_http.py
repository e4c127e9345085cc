"""The shared HTTP helpers: address normalising and error mapping."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import aiohttp
from aiohttp import web
import pytest

from custom_components.energy_gateways.transport.errors import (
    CannotConnect,
    DeviceBusy,
    EndpointGone,
    InvalidAuth,
    InvalidResponse,
)
from custom_components.energy_gateways.transport.http import (
    base_url,
    bearer,
    read_nothing,
    request,
    request_json,
    ssl_value,
    status_error,
)

TIMEOUT = aiohttp.ClientTimeout(total=5)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("192.168.1.7", "https://192.168.1.7"),
        (" meter.local:8443 ", "https://meter.local:8443"),
        ("https://meter.local:8443/", "https://meter.local:8443"),
        ("HTTPS://Meter.Local/api", "https://meter.local"),
        ("http://10.0.0.1", "http://10.0.0.1"),
        ("fe80::1", "https://[fe80::1]"),
        ("[fe80::1]:8443", "https://[fe80::1]:8443"),
        ("https://[2001:db8::5]/", "https://[2001:db8::5]"),
        ("", None),
        ("host:99999", None),
        ("ftp://host", None),
    ],
)
def test_base_url(raw: str, expected: str | None) -> None:
    """What people type becomes scheme://host[:port]."""
    assert base_url(raw) == expected


def test_base_url_https_only() -> None:
    """A caller can refuse other schemes."""
    assert base_url("http://host", schemes=("https",)) is None
    assert base_url("host", schemes=("https",)) == "https://host"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, InvalidAuth),
        (503, DeviceBusy),
        (404, EndpointGone),
        (410, EndpointGone),
        (400, InvalidResponse),
        (500, CannotConnect),
        (302, CannotConnect),
    ],
)
def test_status_error(status: int, error: type[Exception]) -> None:
    """Each unexpected status maps to one error class."""
    err = status_error(status, "/x")
    assert type(err) is error
    assert str(err).startswith("/x: ")


def test_small_helpers() -> None:
    """No header without a token; None means verify."""
    assert bearer(None) is None
    assert bearer("") is None
    assert bearer("abc") == {"Authorization": "Bearer abc"}
    assert ssl_value(None) is True
    assert ssl_value(False) is False


@pytest.fixture
async def server(socket_enabled: None) -> AsyncGenerator[str]:
    """Answers a JSON object, plain text, an empty 204 and a cut-short body."""

    async def json_ok(_: web.Request) -> web.Response:
        return web.json_response({"a": 1})

    async def text(_: web.Request) -> web.Response:
        return web.Response(text="<html>")

    async def empty(_: web.Request) -> web.Response:
        return web.Response(status=204)

    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b'{"a": ')
        assert request.transport is not None
        request.transport.close()
        return response

    app = web.Application()
    app.router.add_get("/json", json_ok)
    app.router.add_get("/text", text)
    app.router.add_post("/empty", empty)
    app.router.add_get("/cut", cut)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_requests_and_mapped_failures(server: str) -> None:
    """Answers are read or mapped; an unexpected 2xx is refused unless allowed."""
    async with aiohttp.ClientSession() as session:
        assert await request_json(
            session, "GET", f"{server}/json", label="/json", client_timeout=TIMEOUT
        ) == {"a": 1}
        with pytest.raises(InvalidResponse, match="/text: not JSON"):
            await request_json(
                session, "GET", f"{server}/text", label="/text", client_timeout=TIMEOUT
            )
        with pytest.raises(InvalidResponse, match="cut short"):
            await request_json(
                session, "GET", f"{server}/cut", label="/cut", client_timeout=TIMEOUT
            )
        with pytest.raises(CannotConnect, match="HTTP 204"):
            await request_json(
                session,
                "POST",
                f"{server}/empty",
                label="/empty",
                client_timeout=TIMEOUT,
            )
        await request(
            session,
            "POST",
            f"{server}/empty",
            label="/empty",
            read=read_nothing,
            ok=range(200, 300),
            client_timeout=TIMEOUT,
        )
        with pytest.raises(EndpointGone):
            await request_json(
                session, "GET", f"{server}/nope", label="/nope", client_timeout=TIMEOUT
            )
