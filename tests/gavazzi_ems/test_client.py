"""The EMS client as a library, against the simulated gateway over loopback."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta, timezone
import json
import time
from typing import Any

import aiohttp
from aiohttp import ClientSession, web
import pytest

from custom_components.energy_gateways.devices.gavazzi_ems import (
    client as client_module,
)
from custom_components.energy_gateways.devices.gavazzi_ems.client import (
    PAGE_SIZE,
    TOKEN_LIFETIME,
    EmsClient,
    token_expiry,
)
from custom_components.energy_gateways.devices.gavazzi_ems.models import (
    parse_date,
    parse_devices,
    parse_history,
    parse_loads,
    parse_realtime,
    parse_signals,
)
from custom_components.energy_gateways.transport.errors import (
    CannotConnect,
    DeviceBusy,
    InvalidAuth,
    InvalidResponse,
)
from simulators.gavazzi_ems import EmsFault, EmsSimulator

USERNAME = "api"
PASSWORD = "api-password"


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A plain aiohttp session, as any user of the library would bring."""
    async with ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[EmsSimulator]:
    """A simulated gateway over plain HTTP."""
    simulator = EmsSimulator(username=USERNAME, password=PASSWORD)
    await simulator.start(host="127.0.0.1", port=0, tls=False)
    yield simulator
    await simulator.stop()


@pytest.fixture
async def big_sim(socket_enabled: None) -> AsyncGenerator[EmsSimulator]:
    """A gateway with more signals than fit on two pages."""
    simulator = EmsSimulator(
        username=USERNAME, password=PASSWORD, extra_signals=2 * PAGE_SIZE + 100
    )
    await simulator.start(host="127.0.0.1", port=0, tls=False)
    yield simulator
    await simulator.stop()


@pytest.fixture
async def tls_sim(socket_enabled: None) -> AsyncGenerator[EmsSimulator]:
    """A simulated gateway over HTTPS with a self-signed certificate."""
    simulator = EmsSimulator(username=USERNAME, password=PASSWORD)
    await simulator.start(host="127.0.0.1", port=0, tls=True)
    yield simulator
    await simulator.stop()


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


@pytest.fixture
async def odd_server(socket_enabled: None) -> AsyncGenerator[str]:
    """A server answering things an EMS gateway should not send."""

    async def login(_: web.Request) -> web.Response:
        return web.json_response({"token": _jwt({"sub": "api"})})

    async def html(_: web.Request) -> web.Response:
        return web.Response(text="<html>hello</html>", content_type="text/html")

    async def empty(_: web.Request) -> web.Response:
        return web.json_response({})

    async def same_page(_: web.Request) -> web.Response:
        # ignores `page`: always the same full page
        signals = {str(uid): {"uid": uid, "si": 29} for uid in range(PAGE_SIZE)}
        return web.json_response({"signals": signals})

    app = web.Application()
    app.router.add_post("/v1/auth/login", login)
    app.router.add_get("/ver", empty)
    app.router.add_get("/v1/serial-number", empty)
    app.router.add_get("/v1/mac", html)
    app.router.add_get("/v1/signals", same_page)
    app.router.add_get("/v1/signals/realtime", empty)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


def _client(session: ClientSession, sim: EmsSimulator, **kwargs: Any) -> EmsClient:
    return EmsClient(session, sim.url, USERNAME, PASSWORD, **kwargs)


async def test_login_and_identity(session: ClientSession, sim: EmsSimulator) -> None:
    """The system endpoints and the configuration tree come back typed."""
    client = _client(session, sim)
    assert client.token_expires_at is None
    assert await client.get_api_version() == 1
    await client.login()
    expires_at = client.token_expires_at
    assert expires_at is not None
    assert abs(expires_at - (time.time() + sim.token_lifetime)) < 5
    assert PASSWORD not in repr(client)
    assert await client.get_serial_number() == "BX10000000"
    assert await client.get_mac() == "00:1A:2B:3C:4D:5E"
    assert await client.get_firmware() == "EMS_1.0.0.0.250101.000000"
    assert await client.get_part_number() == "EMS10AV5S1X"
    date = await client.get_date()
    assert date.tz == "+00:00 UTC"
    assert date.local is not None
    assert abs(date.local - datetime.now(UTC)) < timedelta(minutes=1)

    devices = await client.get_devices()
    assert sorted(devices) == [1, 30, 60, 90]
    assert devices[1].part_number == "EMS10AV5S1X"
    assert devices[30].label == "EM1"
    assert devices[30].system == "3P"
    loads = await client.get_loads()
    assert sorted(loads) == [2, 31, 61, 91]
    assert loads[2].device_uid == 1
    assert loads[2].protocol == "meterBus"
    assert loads[2].settings["ct"] == 10
    assert loads[31].protocol == "rtu"
    assert loads[2].enable
    assert sim.tokens_issued == 1


async def test_pagination_reads_every_record_once(
    session: ClientSession, big_sim: EmsSimulator
) -> None:
    """Signals and realtime values span three pages; each is read once."""
    client = _client(session, big_sim)
    expected = {signal.uid for signal in big_sim.installation.visible_signals()}
    assert 2 * PAGE_SIZE < len(expected) < 3 * PAGE_SIZE

    signals = await client.get_signals()
    assert set(signals) == expected
    assert big_sim.requests["/v1/signals"] == 3
    voltage = next(s for s in signals.values() if s.si == 29)
    assert voltage.sir == 29
    assert voltage.enable
    assert voltage.load_uid == 2
    assert voltage.device_uid == 1

    realtime = await client.get_realtime()
    assert set(realtime) == expected
    assert big_sim.requests["/v1/signals/realtime"] == 3
    sample = realtime[voltage.uid]
    assert sample.valid
    assert sample.si == 29
    assert sample.value is not None
    assert 200 < sample.value < 260
    assert sample.reserved == 0
    assert sample.timestamp is not None
    assert abs(sample.timestamp - datetime.now(UTC)) < timedelta(minutes=1)

    # a filter of known UIDs is read in exactly the pages it needs
    some = sorted(expected)[:5]
    assert set(await client.get_realtime(some)) == set(some)
    assert big_sim.requests["/v1/signals/realtime"] == 4
    assert big_sim.tokens_issued == 1


async def test_history_pages_and_seconds(
    session: ClientSession, sim: EmsSimulator
) -> None:
    """History rows span pages (pages count rows); `t` and `p` are epoch s."""
    client = _client(session, sim)
    uids = sorted(signal.uid for signal in sim.installation.visible_signals())[:12]
    end = datetime.now(UTC)
    start = end - timedelta(hours=24)
    history = await client.get_history(uids, start, end)
    assert sim.requests["/v1/signals/history"] == 2  # 12 x 96 rows > 1000
    assert set(history) == set(uids)
    for uid, rows in history.items():
        times = [row.timestamp for row in rows]
        assert len(times) == len(set(times)) >= 95
        assert times == sorted(times)  # type: ignore[type-var]
        assert all(row.uid == uid for row in rows)
    row = history[uids[0]][-1]
    assert row.timestamp is not None
    assert row.period_end is not None
    assert row.period_end - row.timestamp == timedelta(seconds=1)
    assert start - timedelta(minutes=15) <= row.timestamp <= end
    assert row.value is not None
    assert row.maximum is not None
    assert row.minimum is not None
    assert row.minimum <= row.maximum
    assert row.delta is not None


async def test_token_refreshed_before_expiry(
    session: ClientSession, sim: EmsSimulator
) -> None:
    """A token with less than 60 s left is replaced before the request."""
    sim.token_lifetime = 300
    offset = 0.0
    client = _client(session, sim, clock=lambda: time.time() + offset)
    await client.get_serial_number()
    first_expiry = client.token_expires_at
    assert sim.tokens_issued == 1

    offset = 200.0  # 100 s left: keep the token
    await client.get_serial_number()
    assert sim.tokens_issued == 1

    offset = 250.0  # 50 s left: log in again first
    await client.get_serial_number()
    assert sim.tokens_issued == 2
    assert sim.requests["/v1/auth/login"] == 2
    assert sim.requests["/v1/serial-number"] == 3  # no request was refused
    assert client.token_expires_at is not None
    assert first_expiry is not None
    assert client.token_expires_at >= first_expiry


async def test_unauthorized_logs_in_once_more(
    session: ClientSession, sim: EmsSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token the gateway rejects is replaced and the request retried once."""
    client = _client(session, sim)
    await client.login()
    sim.set_fault(EmsFault.EXPIRE_TOKENS)
    issue = sim.issue_token

    def issue_and_recover(lifetime: float | None = None) -> str:
        sim.clear_fault(EmsFault.EXPIRE_TOKENS)
        return issue(lifetime)

    monkeypatch.setattr(sim, "issue_token", issue_and_recover)
    assert await client.get_serial_number() == "BX10000000"
    assert sim.requests["/v1/serial-number"] == 2
    assert sim.requests["/v1/auth/login"] == 2


async def test_second_unauthorized_raises_invalid_auth(
    session: ClientSession, sim: EmsSimulator
) -> None:
    """When the fresh token is refused too, the credentials are the problem."""
    client = _client(session, sim)
    await client.login()
    sim.set_fault(EmsFault.EXPIRE_TOKENS)
    with pytest.raises(InvalidAuth) as err:
        await client.get_mac()
    assert sim.requests["/v1/mac"] == 2
    assert sim.requests["/v1/auth/login"] == 2
    assert PASSWORD not in str(err.value)


async def test_wrong_password(session: ClientSession, sim: EmsSimulator) -> None:
    """Refused credentials raise InvalidAuth without leaking the password."""
    client = EmsClient(session, sim.url, USERNAME, "wrong-secret")
    with pytest.raises(InvalidAuth) as err:
        await client.get_serial_number()
    assert "wrong-secret" not in str(err.value)
    assert "wrong-secret" not in repr(err.value.__cause__)
    assert client.token_expires_at is None
    assert sim.requests["/v1/serial-number"] == 0


async def test_concurrent_requests_share_one_login(
    session: ClientSession, sim: EmsSimulator
) -> None:
    """Requests started together wait for one login."""
    client = _client(session, sim)
    mac, firmware = await asyncio.gather(client.get_mac(), client.get_firmware())
    assert mac == sim.mac
    assert firmware == sim.firmware
    assert sim.tokens_issued == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, CannotConnect), (503, DeviceBusy), (404, InvalidResponse)],
)
async def test_http_errors(
    session: ClientSession,
    sim: EmsSimulator,
    status: int,
    error: type[Exception],
) -> None:
    """HTTP failures map to the integration's errors."""
    client = _client(session, sim)
    sim.set_fault(EmsFault.HTTP_ERROR, status=status, path="/v1/devices")
    with pytest.raises(error):
        await client.get_devices()
    assert isinstance(error(), CannotConnect) == (status >= 500)


async def test_unreachable_and_slow(
    session: ClientSession, sim: EmsSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused connection or a timeout is CannotConnect."""
    client = _client(session, sim)
    await client.login()
    monkeypatch.setattr(
        client_module, "REQUEST_TIMEOUT", aiohttp.ClientTimeout(total=0.05)
    )
    sim.set_fault(EmsFault.SLOW_RESPONSE, seconds=5.0)
    with pytest.raises(CannotConnect, match="timed out"):
        await client.get_mac()
    url = sim.url
    await sim.stop()
    with pytest.raises(CannotConnect):
        await EmsClient(session, url, USERNAME, PASSWORD).login()


async def test_malformed_realtime_values_are_none(
    session: ClientSession, sim: EmsSimulator
) -> None:
    """Garbage values become unknown, never 0."""
    client = _client(session, sim)
    sim.set_fault(EmsFault.MALFORMED_VALUES)
    realtime = await client.get_realtime()
    assert len(realtime) == len(sim.installation.visible_signals())
    assert all(sample.value is None for sample in realtime.values())
    assert all(sample.timestamp is not None for sample in realtime.values())


async def test_https_with_pinned_fingerprint(
    session: ClientSession, tls_sim: EmsSimulator
) -> None:
    """The pinned certificate works; another fingerprint fails."""
    assert tls_sim.certificate_sha256 is not None
    pin = aiohttp.Fingerprint(bytes.fromhex(tls_sim.certificate_sha256))
    client = _client(session, tls_sim, ssl=pin)
    assert await client.get_serial_number() == "BX10000000"

    wrong = aiohttp.Fingerprint(bytes(32))
    with pytest.raises(CannotConnect):
        await _client(session, tls_sim, ssl=wrong).login()


async def test_odd_answers(session: ClientSession, odd_server: str) -> None:
    """Answers outside the API document raise InvalidResponse."""
    clock = 1_000_000.0
    client = EmsClient(session, odd_server, USERNAME, PASSWORD, clock=lambda: clock)
    with pytest.raises(InvalidResponse):
        await client.get_api_version()
    await client.login()  # a JWT without `exp`: assume 30 minutes
    assert client.token_expires_at == clock + TOKEN_LIFETIME
    with pytest.raises(InvalidResponse, match="no sn"):
        await client.get_serial_number()
    with pytest.raises(InvalidResponse, match="not JSON"):
        await client.get_mac()
    with pytest.raises(InvalidResponse, match="ignores paging"):
        await client.get_signals()
    with pytest.raises(InvalidResponse, match="not a map"):
        await client.get_realtime()


async def test_login_without_token(
    socket_enabled: None, session: ClientSession
) -> None:
    """A login answer without a token is InvalidResponse."""

    async def login(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/v1/auth/login", login)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        client = EmsClient(
            session, f"http://127.0.0.1:{runner.addresses[0][1]}", USERNAME, PASSWORD
        )
        with pytest.raises(InvalidResponse, match="no token"):
            await client.login()
    finally:
        await runner.cleanup()


def test_token_expiry() -> None:
    """`exp` is read without checking the signature; garbage gives None."""
    assert token_expiry(_jwt({"exp": 1_700_000_000})) == 1_700_000_000
    assert token_expiry(_jwt({"sub": "api"})) is None
    assert token_expiry("not-a-jwt") is None
    assert token_expiry("a.%%%.c") is None
    assert token_expiry(f"a.{base64.urlsafe_b64encode(b'[1]').decode()}.c") is None


def test_parsers_never_raise() -> None:
    """Malformed payloads give empty maps or None fields."""
    for parse in (parse_devices, parse_loads, parse_signals, parse_realtime):
        assert parse(None) == {}
        assert parse({"x": 1}) == {}
        assert parse([]) == {}
    assert parse_history("garbage") == {}

    devices = parse_devices({"devices": {"7": {"label": 5}, "x": {"a": 1}, "8": []}})
    assert list(devices) == [7]
    assert devices[7].label is None
    assert devices[7].part_number is None

    loads = parse_loads({"loads": {"2": {"uid": 2, "enable": False, "tcp": {}}}})
    assert loads[2].protocol is None
    assert loads[2].settings == {}
    assert not loads[2].enable

    signals = parse_signals({"signals": {"5": {"uid": "5", "si": "x", "enable": 1}}})
    assert signals[5].si is None
    assert signals[5].enable  # only a real false disables

    realtime = parse_realtime(
        {
            "realtime": {
                "1": {"uid": 1, "si": 29, "v": 230.4, "t": 1752493029975, "s": 0},
                "2": {"uid": 2, "v": "231.5", "t": "bad", "s": 1, "r": 7},
            }
        }
    )
    assert realtime[1].value is None  # not valid
    assert not realtime[1].valid
    assert realtime[1].timestamp == datetime(2025, 7, 14, 11, 37, 9, 975000, UTC)
    assert realtime[2].value == 231.5
    assert realtime[2].timestamp is None
    assert realtime[2].reserved == 7

    history = parse_history(
        {
            "history": {
                "3": [
                    {"uid": 3, "t": 1735689659, "p": 1735689660, "v": 10.5, "d": 0},
                    {"uid": 3, "t": None, "v": "x"},
                    "garbage",
                ],
                "4": {"not": "a list"},
                "y": [],
            }
        }
    )
    assert list(history) == [3]
    rows = history[3]
    assert len(rows) == 2
    assert rows[0].timestamp is None  # rows without a time sort first
    assert rows[1].timestamp == datetime(2025, 1, 1, 0, 0, 59, tzinfo=UTC)
    assert rows[1].period_end == datetime(2025, 1, 1, 0, 1, tzinfo=UTC)
    assert rows[1].delta == 0
    assert rows[1].maximum is None


def test_parse_date() -> None:
    """The local date becomes aware when the offset is readable."""
    date = parse_date({"date": "2025-01-01 12:00:00", "tz": "+01:00 CET"})
    assert date.local == datetime(2025, 1, 1, 12, tzinfo=timezone(timedelta(hours=1)))
    west = parse_date({"date": "2025-01-01 12:00:00", "tz": "-0530"})
    assert west.local is not None
    assert west.local.utcoffset() == -timedelta(hours=5, minutes=30)
    naive = parse_date({"date": "2025-01-01 12:00:00", "tz": "CET"})
    assert naive.local is not None
    assert naive.local.tzinfo is None
    assert parse_date({"date": "2025-01-01 12:00:00", "tz": "+99:00"}).local
    assert parse_date({"date": "yesterday"}).local is None
    assert parse_date(None).tz is None
