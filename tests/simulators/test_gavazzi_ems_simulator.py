"""The Carlo Gavazzi EMS simulator against the EMS Webapi 1.0.0 contract."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import contextlib
from datetime import timedelta
import errno
import hashlib
import json
import logging
import os
from pathlib import Path
import signal as signals
import socket
import ssl
import time
from typing import Any
from unittest import mock

from aiohttp import (
    ClientConnectorError,
    ClientPayloadError,
    ClientSession,
    Fingerprint,
    ServerFingerprintMismatch,
)
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from simulators import secrets
from simulators.__main__ import build_parser
from simulators.gavazzi_ems import EmsFault, EmsSimulator, cli as ems_cli
from simulators.gavazzi_ems.cli import check_arguments
from simulators.gavazzi_ems.data import Installation, is_counter, value
from simulators.gavazzi_ems.security import (
    load_certificate,
    reuse_or_create_certificate,
)

CREDENTIALS = {"username": "api", "password": "api-password"}


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A plain aiohttp session."""
    async with ClientSession() as client:
        yield client


@pytest.fixture
async def ems(socket_enabled: None) -> AsyncGenerator[EmsSimulator]:
    """A simulator on loopback with 30 extra signals (121 in all)."""
    simulator = EmsSimulator(extra_signals=30)
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


async def login(session: ClientSession, sim: EmsSimulator) -> dict[str, str]:
    """Log in and return the Authorization header."""
    async with session.post(f"{sim.url}/v1/auth/login", json=CREDENTIALS) as resp:
        assert resp.status == 200
        token = (await resp.json())["token"]
    return {"Authorization": f"Bearer {token}"}


async def get(
    session: ClientSession, sim: EmsSimulator, path: str, headers: dict[str, str]
) -> tuple[int, Any]:
    """GET a path; return the status and the JSON body."""
    async with session.get(f"{sim.url}{path}", headers=headers) as resp:
        return resp.status, await resp.json()


async def test_public_and_system_endpoints(
    session: ClientSession, ems: EmsSimulator
) -> None:
    """/ver needs no token; the system endpoints answer the documented keys."""
    assert await get(session, ems, "/ver", {}) == (200, {"api_ver": 1})
    headers = await login(session, ems)
    assert await get(session, ems, "/v1/serial-number", headers) == (
        200,
        {"sn": "BX10000000"},
    )
    assert (await get(session, ems, "/v1/mac", headers))[1] == {
        "mac": "00:1A:2B:3C:4D:5E"
    }
    assert (await get(session, ems, "/v1/firmware", headers))[1]["fw"].startswith(
        "EMS_"
    )
    assert (await get(session, ems, "/v1/part-number", headers))[1] == {
        "pn": "EMS10AV5S1X"
    }
    status, date = await get(session, ems, "/v1/date", headers)
    assert status == 200
    assert date["tz"] == "+00:00 UTC"
    assert len(date["date"]) == 19


async def test_login_and_token_expiry(
    session: ClientSession, ems: EmsSimulator
) -> None:
    """Wrong credentials, missing or bad tokens and expired tokens get 401."""
    bad = {"username": "api", "password": "wrong"}
    async with session.post(f"{ems.url}/v1/auth/login", json=bad) as resp:
        assert resp.status == 401
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer not.a.jwt"},
    ):
        assert (await get(session, ems, "/v1/mac", headers))[0] == 401
    ems.token_lifetime = 1
    headers = await login(session, ems)
    assert (await get(session, ems, "/v1/mac", headers))[0] == 200
    await asyncio.sleep(1.1)
    assert (await get(session, ems, "/v1/mac", headers))[0] == 401
    # /history/last documents no 401 but still needs the token
    assert (await get(session, ems, "/v1/signals/history/last", headers))[0] == 401
    ems.token_lifetime = 1800
    headers = await login(session, ems)
    assert (await get(session, ems, "/v1/mac", headers))[0] == 200
    ems.set_fault(EmsFault.EXPIRE_TOKENS)
    assert (await get(session, ems, "/v1/mac", headers))[0] == 401
    ems.clear_faults()
    assert (await get(session, ems, "/v1/mac", headers))[0] == 200
    assert ems.tokens_issued == 2


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/v1/signals", "signals"),
        ("/v1/signals/realtime", "realtime"),
        ("/v1/signals/history/last", "history"),
    ],
)
async def test_pagination_returns_every_record_once(
    session: ClientSession, ems: EmsSimulator, path: str, key: str
) -> None:
    """Paging with a small limit visits every signal exactly once."""
    headers = await login(session, ems)
    _, everything = await get(session, ems, path, headers)
    assert len(everything[key]) == 4 * 22 + 30
    seen: list[str] = []
    page = 1
    while True:
        status, body = await get(session, ems, f"{path}?limit=25&page={page}", headers)
        assert status == 200
        seen += list(body[key])
        if len(body[key]) < 25:
            break
        page += 1
    assert page == 5
    assert sorted(seen, key=int) == sorted(everything[key], key=int)
    assert len(seen) == len(set(seen))


async def test_history_pages_count_rows(
    session: ClientSession, ems: EmsSimulator
) -> None:
    """History pages hold ``limit`` rows; together they hold every row once."""
    headers = await login(session, ems)
    end = (int(time.time()) // 900 * 900) * 1000
    start = end - 3 * 3600 * 1000
    query = f"uids=3,17,18&start={start}&end={end}"
    _, full = await get(session, ems, f"/v1/signals/history?{query}", headers)
    rows = [row for signal_rows in full["history"].values() for row in signal_rows]
    assert len(rows) == 3 * 13
    paged: list[tuple[int, int]] = []
    for page in range(1, 6):
        _, body = await get(
            session, ems, f"/v1/signals/history?{query}&limit=10&page={page}", headers
        )
        paged += [(row["uid"], row["p"]) for r in body["history"].values() for row in r]
    assert sorted(paged) == sorted((row["uid"], row["p"]) for row in rows)
    assert all(row["t"] == row["p"] - 1 for row in rows)
    assert all(start // 1000 <= row["p"] <= end // 1000 for row in rows)
    status, single = await get(
        session, ems, f"/v1/signals/17/history?start={start}&end={end}", headers
    )
    assert status == 200
    assert isinstance(single, list)
    assert single == full["history"]["17"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/devices?uids=1,x",
        "/v1/devices?protocol=modbus",
        "/v1/loads?protocol=RTU",
        "/v1/signals?limit=0",
        "/v1/signals?limit=abc",
        "/v1/signals/realtime?page=0",
        "/v1/signals/history?start=yesterday",
        "/v1/signals/history?start=2000&end=1000",
        "/v1/signals/history/last?uids=,",
        "/v1/signals/abc",
    ],
)
async def test_malformed_parameters_400(
    session: ClientSession, ems: EmsSimulator, path: str
) -> None:
    """Malformed query or path parameters answer 400."""
    headers = await login(session, ems)
    assert (await get(session, ems, path, headers))[0] == 400


@pytest.mark.parametrize(
    "path",
    [
        "/v1/devices/999",
        "/v1/devices/2",
        "/v1/devices/999/loads",
        "/v1/devices/999/signals",
        "/v1/devices/999/signals/realtime",
        "/v1/devices/999/signals/history",
        "/v1/devices/999/signals/history/last",
        "/v1/loads/1",
        "/v1/loads/999/signals",
        "/v1/loads/999/signals/realtime",
        "/v1/loads/999/signals/history",
        "/v1/loads/999/signals/history/last",
        "/v1/signals/999",
        "/v1/signals/999/realtime",
        "/v1/signals/999/history",
        "/v1/signals/999/history/last",
    ],
)
async def test_unknown_uid_404(
    session: ClientSession, ems: EmsSimulator, path: str
) -> None:
    """Unknown UIDs (or a UID of another kind) answer 404."""
    headers = await login(session, ems)
    assert (await get(session, ems, path, headers))[0] == 404


async def test_filters_and_tree(session: ClientSession, ems: EmsSimulator) -> None:
    """``uids`` and ``protocol`` filter; maps are keyed by UID strings."""
    headers = await login(session, ems)
    _, devices = await get(session, ems, "/v1/devices", headers)
    assert set(devices["devices"]) == {"1", "30", "60", "90"}
    assert devices["devices"]["1"]["partNumber"] == "EMS10AV5S1X"
    _, body = await get(session, ems, "/v1/devices?uids=1,60,999", headers)
    assert set(body["devices"]) == {"1", "60"}
    _, body = await get(session, ems, "/v1/devices?protocol=rtu", headers)
    assert set(body["devices"]) == {"30"}
    _, body = await get(session, ems, "/v1/loads?protocol=P1", headers)
    assert set(body["loads"]) == {"91"}
    assert body["loads"]["91"]["did"] == 90
    _, body = await get(session, ems, "/v1/loads?protocol=virtual", headers)
    assert body == {"loads": {}}
    _, body = await get(session, ems, "/v1/loads?uids=2&protocol=meterBus", headers)
    assert body["loads"]["2"]["meterBus"]["main"] is True
    assert body["loads"]["2"]["tcp"] == {}
    _, body = await get(session, ems, "/v1/signals?uids=3,4", headers)
    assert body["signals"]["3"] == {
        "uid": 3,
        "si": 29,
        "sir": 29,
        "enable": True,
        "lid": 2,
        "did": 1,
    }
    _, body = await get(session, ems, "/v1/signals/realtime?uids=3", headers)
    sample = body["realtime"]["3"]
    assert sample["si"] == 29
    assert 220 < sample["v"] < 240
    assert sample["s"] == 1
    assert abs(sample["t"] / 1000 - time.time()) < 5
    _, body = await get(session, ems, "/v1/devices/30/loads", headers)
    assert set(body["loads"]) == {"31"}
    _, body = await get(session, ems, "/v1/loads/31/signals/realtime", headers)
    assert len(body["realtime"]) == 22
    _, body = await get(session, ems, "/v1/devices/30/signals", headers)
    assert {s["lid"] for s in body["signals"].values()} == {31}
    _, body = await get(session, ems, "/v1/signals/3/history/last", headers)
    assert set(body) == {"uid", "t", "p", "v", "d", "max", "min"}


async def test_devices_appear_and_disappear(
    session: ClientSession, ems: EmsSimulator
) -> None:
    """Device faults change the tree; clearing them restores it."""
    headers = await login(session, ems)
    ems.set_fault(EmsFault.DEVICE_DISAPPEARS, uid=30)
    _, body = await get(session, ems, "/v1/devices", headers)
    assert "30" not in body["devices"]
    assert (await get(session, ems, "/v1/signals/32", headers))[0] == 404
    ems.set_fault(EmsFault.DEVICE_APPEARS)
    _, body = await get(session, ems, "/v1/devices?protocol=tcp", headers)
    assert len(body["devices"]) == 2
    ems.clear_faults()
    _, body = await get(session, ems, "/v1/devices", headers)
    assert set(body["devices"]) == {"1", "30", "60", "90"}
    uid = ems.add_device("EM9", protocol="virtual")
    _, body = await get(session, ems, f"/v1/devices/{uid}/signals", headers)
    assert len(body["signals"]) == 22
    ems.remove_device(uid)
    assert (await get(session, ems, f"/v1/devices/{uid}", headers))[0] == 404


async def test_error_slow_and_malformed_faults(
    session: ClientSession, ems: EmsSimulator
) -> None:
    """HTTP errors, delays and garbage values on request."""
    headers = await login(session, ems)
    ems.set_fault(EmsFault.HTTP_ERROR, status=500, path="/v1/signals")
    assert (await get(session, ems, "/v1/signals", headers))[0] == 500
    assert (await get(session, ems, "/v1/devices", headers))[0] == 200
    ems.clear_fault(EmsFault.HTTP_ERROR)
    ems.set_fault("slow_response", seconds=0.3)
    started = time.monotonic()
    assert (await get(session, ems, "/ver", {}))[0] == 200
    assert time.monotonic() - started >= 0.3
    ems.clear_fault("slow_response")
    ems.set_fault(EmsFault.MALFORMED_VALUES)
    _, body = await get(session, ems, "/v1/signals/realtime", headers)
    values = [sample["v"] for sample in body["realtime"].values()]
    assert not any(isinstance(v, float) for v in values)
    assert None in values
    with pytest.raises(ValueError, match="unknown fault"):
        ems.set_fault("nope")
    with pytest.raises(ValueError, match="status"):
        ems.set_fault(EmsFault.HTTP_ERROR, status=200)
    async with session.post(f"{ems.url}/_sim/fault/http_error", json={}) as resp:
        assert resp.status == 200
    assert (await get(session, ems, "/ver", {}))[0] == 503
    async with session.delete(f"{ems.url}/_sim/fault") as resp:
        assert await resp.json() == {}


async def test_counters_are_monotonic(
    session: ClientSession, ems: EmsSimulator
) -> None:
    """Energy counters never decrease, in history and over a simulated week."""
    headers = await login(session, ems)
    _, body = await get(
        session, ems, "/v1/devices/1/signals/history?limit=9000", headers
    )
    counters = [s for s in Installation().visible_signals() if is_counter(s)]
    assert len(counters) == 4 * 8
    for uid in ("17", "18", "19", "24"):
        rows = body["history"][uid]
        assert len(rows) >= 96
        assert all(row["d"] >= 0 for row in rows)
        assert [row["v"] for row in rows] == sorted(row["v"] for row in rows)
    installation = Installation()
    now = time.time()
    for signal in counters:
        load = installation.load_of(signal)
        readings = [value(load, signal, now + step * 337) for step in range(1800)]
        assert readings == sorted(readings)
    _, first = await get(session, ems, "/v1/signals/realtime?uids=17,18", headers)
    await asyncio.sleep(1.05)
    _, second = await get(session, ems, "/v1/signals/realtime?uids=17,18", headers)
    for uid in ("17", "18"):
        assert second["realtime"][uid]["v"] >= first["realtime"][uid]["v"]
        assert second["realtime"][uid]["t"] > first["realtime"][uid]["t"]


async def test_https_with_pinned_fingerprint(
    session: ClientSession, socket_enabled: None
) -> None:
    """``tls=True`` serves HTTPS with a certificate matching the fingerprint."""
    sim = EmsSimulator()
    await sim.start(host="127.0.0.1", port=0, tls=True)
    try:
        assert sim.url.startswith("https://")
        assert sim.certificate_sha256 is not None
        assert sim.certificate_path is not None
        cert_dir = Path(sim.certificate_path).parent
        assert cert_dir.is_dir()
        pin = Fingerprint(bytes.fromhex(sim.certificate_sha256))
        async with session.get(f"{sim.url}/ver", ssl=pin) as resp:
            assert await resp.json() == {"api_ver": 1}
        wrong = Fingerprint(bytes(32))
        with pytest.raises(ServerFingerprintMismatch):
            async with session.get(f"{sim.url}/ver", ssl=wrong):
                pass
    finally:
        await sim.stop()
    assert not cert_dir.exists()
    assert sim.certificate_path is None


async def test_certificate_kept_in_cert_dir(
    session: ClientSession, tmp_path: Path
) -> None:
    """``cert_dir`` keeps the certificate across restarts; it is made when missing."""
    cert_dir = tmp_path / "certs"
    sim = EmsSimulator()
    await sim.start(host="127.0.0.1", port=0, tls=True, cert_dir=cert_dir)
    first = sim.certificate_sha256
    assert first is not None
    assert sim.certificate_path == cert_dir / "ems.crt"
    assert (cert_dir / "ems.key").stat().st_mode & 0o077 == 0
    await sim.stop()
    # stop() leaves the certificate where it was asked to keep it
    assert (cert_dir / "ems.crt").is_file()
    assert (cert_dir / "ems.key").is_file()

    again = EmsSimulator()
    await again.start(host="127.0.0.1", port=0, tls=True, cert_dir=str(cert_dir))
    try:
        assert again.certificate_sha256 == first
        pin = Fingerprint(bytes.fromhex(first))
        async with session.get(f"{again.url}/ver", ssl=pin) as resp:
            assert await resp.json() == {"api_ver": 1}
        # a rotation lasts until stop() and leaves the kept certificate alone
        await again.rotate_certificate()
        assert again.certificate_sha256 != first
        assert again.certificate_path is not None
        assert again.certificate_path.parent != cert_dir
    finally:
        await again.stop()

    # reused only when it covers the host; a broken key makes a new one
    assert load_certificate(cert_dir, "127.0.0.1") is not None
    assert load_certificate(cert_dir, "localhost") is not None
    assert load_certificate(cert_dir, "192.0.2.1") is None
    assert load_certificate(tmp_path / "missing", "127.0.0.1") is None
    _, fingerprint = reuse_or_create_certificate(cert_dir, "192.0.2.1")
    assert fingerprint != first
    assert load_certificate(cert_dir, "192.0.2.1") == (mock.ANY, fingerprint)
    (cert_dir / "ems.key").write_text("not a key")
    broken = EmsSimulator()
    await broken.start(host="127.0.0.1", port=0, tls=True, cert_dir=cert_dir)
    await broken.stop()
    assert broken.certificate_sha256 not in (None, first, fingerprint)
    assert (cert_dir / "ems.key").stat().st_mode & 0o077 == 0


def test_cert_dir_on_the_command_line(tmp_path: Path) -> None:
    """``--cert-dir`` reaches the arguments and needs ``--tls``."""
    args = build_parser().parse_args(
        ["gavazzi_ems", "--tls", "--cert-dir", str(tmp_path)]
    )
    assert args.cert_dir == tmp_path
    assert check_arguments(args) == []
    bad = build_parser().parse_args(["gavazzi_ems", "--cert-dir", str(tmp_path)])
    with pytest.raises(ValueError, match="--tls"):
        check_arguments(bad)


async def test_stop_leaves_no_task(session: ClientSession) -> None:
    """After stop() no task of the simulator is left and the port is closed."""
    before = asyncio.all_tasks()
    sim = EmsSimulator()
    await sim.start(host="127.0.0.1", port=0)
    headers = await login(session, sim)
    assert (await get(session, sim, "/v1/signals/realtime", headers))[0] == 200
    sim.set_fault(EmsFault.SLOW_RESPONSE, seconds=30)
    pending = asyncio.ensure_future(get(session, sim, "/ver", {}))
    await asyncio.sleep(0.1)
    await sim.stop()
    await sim.stop()  # idempotent
    # the delayed request ends with stop() (answered or cut off), it never hangs
    assert pending.done()
    await asyncio.gather(pending, return_exceptions=True)
    await asyncio.sleep(0)
    left = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert not left
    assert sim.requests["/v1/signals/realtime"] == 1


async def test_expire_tokens_now(socket_enabled: None) -> None:
    """Tokens issued before expire_tokens_now() get 401; a new login works."""
    ems = EmsSimulator()
    await ems.start()
    try:
        async with ClientSession() as session:
            headers = await login(session, ems)
            assert (await get(session, ems, "/v1/mac", headers))[0] == 200
            async with session.post(f"{ems.url}/_sim/tokens/expire") as response:
                assert response.status == 200
            assert (await get(session, ems, "/v1/mac", headers))[0] == 401
            headers = await login(session, ems)
            assert (await get(session, ems, "/v1/mac", headers))[0] == 200
    finally:
        await ems.stop()


# ---- fault matrix: protocol-level faults -----------------------------------

REALTIME_PATHS = [
    "/v1/signals/realtime",
    "/v1/signals/3/realtime",
    "/v1/devices/30/signals/realtime",
    "/v1/loads/31/signals/realtime",
]


def counter_uids(sim: EmsSimulator) -> set[int]:
    """UIDs of the energy counters the simulator shows."""
    return {s.uid for s in sim.installation.visible_signals() if is_counter(s)}


async def raw_get(sim: EmsSimulator, path: str, headers: dict[str, str]) -> bytes:
    """GET over a bare socket; return everything received until the server hangs up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{key}: {text}" for key, text in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return data


async def test_unauthorized_once(session: ClientSession, ems: EmsSimulator) -> None:
    """The next request with a valid token gets 401 once; the login is not hit."""
    headers = await login(session, ems)
    ems.set_fault(EmsFault.UNAUTHORIZED_ONCE)
    headers = await login(session, ems)  # the login does not consume it
    assert "/ver" not in ems.faults
    assert (await get(session, ems, "/ver", {}))[0] == 200
    assert await get(session, ems, "/v1/mac", {}) == (
        401,
        {"error": "missing or invalid token"},
    )  # an invalid token does not consume it either
    assert ems.faults == {"unauthorized_once": {}}
    assert await get(session, ems, "/v1/mac", headers) == (
        401,
        {"error": "token expired"},
    )
    assert ems.faults == {}
    assert (await get(session, ems, "/v1/mac", headers))[0] == 200
    async with session.post(f"{ems.url}/_sim/fault/unauthorized_once") as resp:
        assert resp.status == 200
    assert (await get(session, ems, "/v1/signals/realtime", headers))[0] == 401
    assert (await get(session, ems, "/v1/signals/realtime", headers))[0] == 200


@pytest.mark.parametrize("path", REALTIME_PATHS)
async def test_malformed_json(
    session: ClientSession, ems: EmsSimulator, path: str
) -> None:
    """Realtime answers are a JSON-typed 200 whose body does not parse."""
    headers = await login(session, ems)
    ems.set_fault(EmsFault.MALFORMED_JSON)
    async with session.get(f"{ems.url}{path}", headers=headers) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        text = await resp.text()
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        assert text.startswith("{")
    # other answers stay valid
    assert (await get(session, ems, "/v1/signals?uids=3", headers))[0] == 200
    ems.clear_fault(EmsFault.MALFORMED_JSON)
    assert (await get(session, ems, path, headers))[0] == 200


@pytest.mark.parametrize("path", REALTIME_PATHS)
async def test_truncated_body(
    session: ClientSession,
    ems: EmsSimulator,
    path: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The full Content-Length is announced, half the body sent, then a hang-up."""
    caplog.set_level(logging.DEBUG)
    headers = await login(session, ems)
    ems.set_fault(EmsFault.TRUNCATED_BODY)
    async with session.get(f"{ems.url}{path}", headers=headers) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        with pytest.raises(ClientPayloadError):
            await resp.read()
    raw = await raw_get(ems, path, headers)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    assert length // 2 == len(body) > 0
    assert body.startswith(b"{")
    ems.clear_fault(EmsFault.TRUNCATED_BODY)
    assert (await get(session, ems, path, headers))[0] == 200
    await asyncio.sleep(0)
    # no traceback or warning from aiohttp or asyncio
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


async def test_extra_fields(session: ClientSession, ems: EmsSimulator) -> None:
    """Unknown keys at top level and in records; one realtime record too many."""
    headers = await login(session, ems)
    _, plain_signals = await get(session, ems, "/v1/signals", headers)
    _, plain_device = await get(session, ems, "/v1/devices/30", headers)
    ems.set_fault(EmsFault.EXTRA_FIELDS)
    _, signals = await get(session, ems, "/v1/signals", headers)
    assert signals["schema"] == 2
    assert abs(signals["generated"] - time.time()) < 5
    assert set(signals["signals"]) == set(plain_signals["signals"])
    for uid, record in signals["signals"].items():
        assert record["q"] == "good-ext"
        assert isinstance(record["x_future"], dict)
        assert {k: record[k] for k in plain_signals["signals"][uid]} == (
            plain_signals["signals"][uid]
        )
    _, device = await get(session, ems, "/v1/devices/30", headers)
    assert device.items() >= plain_device.items()
    assert {"schema", "generated", "q", "x_future"} <= set(device)
    _, realtime = await get(session, ems, "/v1/signals/realtime", headers)
    assert "99999" not in signals["signals"]
    assert set(realtime["realtime"]) == set(signals["signals"]) | {"99999"}
    unknown = realtime["realtime"]["99999"]
    assert unknown["uid"] == 99999
    assert isinstance(unknown["v"], float)
    assert unknown["q"] == "good-ext"
    assert realtime["realtime"]["3"]["si"] == 29
    # the extra record is on page 1 only, so a paged read ends
    _, page2 = await get(session, ems, "/v1/signals/realtime?limit=100&page=2", headers)
    assert len(page2["realtime"]) == 4 * 22 + 30 - 100
    assert "99999" not in page2["realtime"]
    _, owner = await get(session, ems, "/v1/loads/31/signals/realtime", headers)
    assert len(owner["realtime"]) == 23
    _, rows = await get(session, ems, "/v1/signals/3/history", headers)
    assert rows
    assert all(row["q"] == "good-ext" and row["uid"] == 3 for row in rows)
    _, history = await get(session, ems, "/v1/signals/history?uids=3", headers)
    assert history["schema"] == 2
    assert all("x_future" in row for row in history["history"]["3"])
    status, error = await get(session, ems, "/v1/signals/999", headers)
    assert status == 404
    assert error["error"] == "resource not found"
    assert error["schema"] == 2
    async with session.post(f"{ems.url}/v1/auth/login", json=CREDENTIALS) as resp:
        assert {"token", "schema", "generated"} <= set(await resp.json())
    ems.clear_faults()
    assert await get(session, ems, "/v1/signals", headers) == (200, plain_signals)


async def test_numbers_as_strings(session: ClientSession, ems: EmsSimulator) -> None:
    """Realtime ``v`` and ``t`` are numeric strings; UIDs stay numbers."""
    headers = await login(session, ems)
    ems.set_fault(EmsFault.NUMBERS_AS_STRINGS)
    _, body = await get(session, ems, "/v1/signals/realtime", headers)
    for key, record in body["realtime"].items():
        assert record["uid"] == int(key)
        assert isinstance(record["v"], str)
        assert isinstance(record["t"], str)
        float(record["v"])
        assert abs(int(record["t"]) / 1000 - time.time()) < 5
        assert isinstance(record["si"], int)
    _, single = await get(session, ems, "/v1/signals/3/realtime", headers)
    assert 220 < float(single["v"]) < 240
    ems.clear_faults()
    _, body = await get(session, ems, "/v1/signals/3/realtime", headers)
    assert isinstance(body["v"], float)
    assert isinstance(body["t"], int)


async def test_missing_field(session: ClientSession, ems: EmsSimulator) -> None:
    """Counters and the main meter's total active power come without ``v``."""
    headers = await login(session, ems)
    ems.set_fault("missing_field")
    _, body = await get(session, ems, "/v1/signals/realtime", headers)
    without = {
        int(uid) for uid, record in body["realtime"].items() if "v" not in record
    }
    assert without == counter_uids(ems) | {12}
    assert ems.installation.devices[1].loads[0].signals[9].si == 38  # UID 12
    for record in body["realtime"].values():
        assert {"uid", "si", "t", "s", "r"} <= set(record)
    _, single = await get(session, ems, "/v1/signals/12/realtime", headers)
    assert "v" not in single
    assert single["uid"] == 12
    ems.clear_faults()
    _, single = await get(session, ems, "/v1/signals/12/realtime", headers)
    assert "v" in single


async def test_glitch_counter(session: ClientSession, ems: EmsSimulator) -> None:
    """One realtime answer has every counter at 0, or ``amount`` below the last."""
    headers = await login(session, ems)
    counters = counter_uids(ems)
    path = "/v1/signals/realtime"
    ems.set_fault(EmsFault.GLITCH_COUNTER)
    # an answer without counters does not use it up
    _, voltage = await get(session, ems, "/v1/signals/3/realtime", headers)
    assert voltage["v"] > 200
    assert "glitch_counter" in ems.faults
    _, body = await get(session, ems, path, headers)
    assert {int(u) for u, r in body["realtime"].items() if r["v"] == 0} >= counters
    assert ems.faults == {}
    _, before = await get(session, ems, path, headers)
    assert before["realtime"]["17"]["v"] > 0
    async with session.post(
        f"{ems.url}/_sim/fault/glitch_counter",
        json={"mode": "backwards", "amount": 2.5},
    ) as resp:
        assert (await resp.json())["glitch_counter"] == {
            "mode": "backwards",
            "amount": 2.5,
        }
    _, glitched = await get(session, ems, path, headers)
    _, after = await get(session, ems, path, headers)
    for uid in map(str, counters):
        previous = before["realtime"][uid]["v"]
        assert glitched["realtime"][uid]["v"] == pytest.approx(previous - 2.5)
        assert after["realtime"][uid]["v"] >= previous
    # measurements are untouched
    assert glitched["realtime"]["3"]["v"] > 200
    with pytest.raises(ValueError, match="mode"):
        ems.set_fault(EmsFault.GLITCH_COUNTER, mode="sideways")
    with pytest.raises(ValueError, match="amount"):
        ems.set_fault(EmsFault.GLITCH_COUNTER, amount=0)
    with pytest.raises(ValueError, match="takes no parameter"):
        ems.set_fault(EmsFault.MISSING_FIELD, uid=3)


@pytest.mark.parametrize("status", [404, 410])
async def test_api_gone(session: ClientSession, ems: EmsSimulator, status: int) -> None:
    """``http_error`` with ``path=/v1`` takes the whole API away; /ver stays."""
    headers = await login(session, ems)
    ems.set_fault(EmsFault.HTTP_ERROR, status=status, path="/v1")
    assert (await get(session, ems, "/v1/signals/realtime", headers))[0] == status
    async with session.post(f"{ems.url}/v1/auth/login", json=CREDENTIALS) as resp:
        assert resp.status == status
    assert await get(session, ems, "/ver", {}) == (200, {"api_ver": 1})
    async with session.get(f"{ems.url}/_sim/status") as resp:
        assert resp.status == 200


def test_new_faults_on_the_command_line() -> None:
    """``--fault`` accepts the new faults with their parameters."""
    args = build_parser().parse_args(
        [
            "gavazzi_ems",
            "--fault",
            "glitch_counter:mode=backwards,amount=2",
            "--fault",
            "unauthorized-once",
            "--fault",
            "TRUNCATED_BODY",
        ]
    )
    assert check_arguments(args) == [
        (EmsFault.GLITCH_COUNTER, {"mode": "backwards", "amount": 2.0}),
        (EmsFault.UNAUTHORIZED_ONCE, {}),
        (EmsFault.TRUNCATED_BODY, {}),
    ]
    bad = build_parser().parse_args(
        ["gavazzi_ems", "--fault", "glitch_counter:mode=up"]
    )
    with pytest.raises(ValueError, match="mode"):
        check_arguments(bad)


# ---- connection-level life cycle -------------------------------------------


async def assert_refused(session: ClientSession, sim: EmsSimulator) -> None:
    """A new connection to the simulator is refused."""
    with pytest.raises(ClientConnectorError) as caught:
        async with session.get(f"{sim.url}/ver"):
            pass
    assert caught.value.os_error.errno == errno.ECONNREFUSED


async def test_go_offline_and_come_back(
    session: ClientSession, ems: EmsSimulator
) -> None:
    """Offline refuses connections; back on the same port with new tokens only."""
    headers = await login(session, ems)
    port, url = ems.port, ems.url
    ems.set_fault(EmsFault.SLOW_RESPONSE, seconds=0.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", ems.port)
    # one request, so the server holds it as a keep-alive connection
    writer.write(b"GET /ver HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert (await reader.readuntil(b'{"api_ver": 1}')).startswith(b"HTTP/1.1 200")
    assert ems.online
    assert ems.boots == 1
    await ems.go_offline()
    assert not ems.online
    # the open connection is closed, new ones are refused
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    await assert_refused(session, ems)
    await ems.come_back()
    assert ems.online
    assert (ems.port, ems.url) == (port, url)
    assert ems.boots == 2
    assert ems.uptime < 5
    # state is kept, tokens are not
    assert ems.faults == {"slow_response": {"seconds": 0.0}}
    assert await get(session, ems, "/v1/mac", headers) == (
        401,
        {"error": "invalid token signature"},
    )
    headers = await login(session, ems)
    _, status = await get(session, ems, "/_sim/status", {})
    assert status["boots"] == 2
    assert status["tokens_issued"] == 2
    assert (await get(session, ems, "/v1/devices", headers))[0] == 200
    await ems.come_back()  # no-op while online
    assert ems.boots == 2


async def test_reboot_and_control_endpoint(
    session: ClientSession, ems: EmsSimulator
) -> None:
    """reboot() is offline for ``duration`` seconds; /_sim/reboot answers first."""
    headers = await login(session, ems)
    ems.reboot(0.3)
    assert ems.rebooting
    await assert_refused(session, ems)
    await asyncio.sleep(0.5)
    assert not ems.rebooting
    assert (await get(session, ems, "/ver", {}))[0] == 200
    assert (await get(session, ems, "/v1/mac", headers))[0] == 401
    async with session.post(f"{ems.url}/_sim/reboot?duration=0.3") as resp:
        assert await resp.json() == {"rebooting": True, "duration": 0.3}
    assert ems.rebooting
    await assert_refused(session, ems)
    await asyncio.sleep(0.5)
    assert (await get(session, ems, "/ver", {}))[0] == 200
    assert ems.boots == 3
    async with session.post(f"{ems.url}/_sim/reboot?duration=soon") as resp:
        assert resp.status == 400
    with pytest.raises(ValueError, match="duration"):
        ems.reboot(-1)
    # go_offline during a reboot calls the come-back off
    ems.reboot(0.1)
    await ems.go_offline()
    await asyncio.sleep(0.3)
    assert not ems.online
    assert not ems.rebooting
    await ems.come_back()
    assert (await get(session, ems, "/ver", {}))[0] == 200


async def test_reboot_follows_a_frozen_clock(
    freezer: FrozenDateTimeFactory, hass: HomeAssistant, socket_enabled: None
) -> None:
    """The come-back is a loop timer: async_fire_time_changed runs it."""
    sim = EmsSimulator()
    await sim.start()
    try:
        async with ClientSession() as session:
            sim.reboot(10)
            freezer.tick(timedelta(seconds=5))
            async_fire_time_changed(hass)
            await assert_refused(session, sim)
            assert sim.rebooting
            freezer.tick(timedelta(seconds=6))
            async_fire_time_changed(hass)
            assert not sim.rebooting
            assert sim.online
            assert (await get(session, sim, "/ver", {}))[0] == 200
    finally:
        await sim.stop()


async def test_stop_while_offline_or_rebooting(socket_enabled: None) -> None:
    """stop() also works offline and during a reboot; no task or timer is left."""
    before = asyncio.all_tasks()
    sim = EmsSimulator()
    await sim.start()
    await sim.go_offline()
    await sim.stop()
    sim = EmsSimulator()
    await sim.start()
    sim.reboot(0.1)
    await sim.stop()
    await asyncio.sleep(0.2)
    assert not sim.online
    assert not asyncio.all_tasks() - before - {asyncio.current_task()}
    with pytest.raises(RuntimeError):
        await sim.come_back()


async def test_change_password(session: ClientSession, ems: EmsSimulator) -> None:
    """The old password and every issued token stop working."""
    headers = await login(session, ems)
    token = headers["Authorization"].removeprefix("Bearer ")
    assert {"api-password", token} <= secrets.known()
    ems.change_password("new-password-1")
    assert "new-password-1" in secrets.known()
    async with session.post(f"{ems.url}/v1/auth/login", json=CREDENTIALS) as resp:
        assert resp.status == 401
    assert (await get(session, ems, "/v1/mac", headers))[0] == 401
    new = {"username": "api", "password": "new-password-1"}
    async with session.post(f"{ems.url}/v1/auth/login", json=new) as resp:
        assert resp.status == 200
        assert (await resp.json())["token"] in secrets.known()
    async with session.post(
        f"{ems.url}/_sim/password", json={"password": "new-password-2"}
    ) as resp:
        assert await resp.json() == {"changed": True}
    async with session.post(f"{ems.url}/v1/auth/login", json=new) as resp:
        assert resp.status == 401
    async with session.post(f"{ems.url}/_sim/password", json={}) as resp:
        assert resp.status == 400
    assert ems.issue_token() in secrets.known()
    with pytest.raises(ValueError, match="password"):
        ems.change_password("")


async def test_rotate_certificate(session: ClientSession, socket_enabled: None) -> None:
    """New connections get the new certificate; open ones are closed."""
    sim = EmsSimulator()
    await sim.start(host="127.0.0.1", port=0, tls=True)
    try:
        old_pin = Fingerprint(bytes.fromhex(str(sim.certificate_sha256)))
        old_path = sim.certificate_path
        async with session.get(f"{sim.url}/ver", ssl=old_pin) as resp:
            assert resp.status == 200
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", sim.port, ssl=insecure
        )
        # one request, so the server holds it as a keep-alive connection
        writer.write(b"GET /ver HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = await reader.readuntil(b'{"api_ver": 1}')
        assert answer.startswith(b"HTTP/1.1 200")
        await sim.rotate_certificate()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        assert sim.certificate_path is not None
        assert sim.certificate_path != old_path
        assert sim.certificate_path.is_file()
        new_pin = Fingerprint(bytes.fromhex(str(sim.certificate_sha256)))
        assert new_pin.fingerprint != old_pin.fingerprint
        with pytest.raises(ServerFingerprintMismatch):
            async with session.get(f"{sim.url}/ver", ssl=old_pin):
                pass
        async with session.get(f"{sim.url}/ver", ssl=new_pin) as resp:
            assert resp.status == 200
        pem = sim.certificate_path.read_text()
        der = ssl.PEM_cert_to_DER_cert(pem)
        assert hashlib.sha256(der).hexdigest() == sim.certificate_sha256
        # a come-back keeps the (rotated) certificate
        await sim.go_offline()
        await sim.come_back()
        async with session.get(f"{sim.url}/ver", ssl=new_pin) as resp:
            assert resp.status == 200
        async with session.post(f"{sim.url}/_sim/certificate", ssl=new_pin) as resp:
            rotated = (await resp.json())["certificate_sha256"]
        assert rotated == sim.certificate_sha256 != new_pin.fingerprint.hex()
        latest = Fingerprint(bytes.fromhex(rotated))
        async with session.get(f"{sim.url}/ver", ssl=latest) as resp:
            assert resp.status == 200
    finally:
        await sim.stop()


async def test_rotate_certificate_needs_tls(
    session: ClientSession, ems: EmsSimulator
) -> None:
    """Without TLS there is no certificate to rotate."""
    with pytest.raises(RuntimeError, match="TLS"):
        await ems.rotate_certificate()
    async with session.post(f"{ems.url}/_sim/certificate") as resp:
        assert resp.status == 409


@pytest.mark.skipif(not hasattr(signals, "SIGUSR1"), reason="no SIGUSR1")
async def test_sigusr1_toggles_offline(socket_enabled: None) -> None:
    """The command line goes offline and comes back on SIGUSR1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = build_parser().parse_args(["gavazzi_ems", "--port", str(port)])
    stop = asyncio.Event()
    runner = asyncio.create_task(ems_cli.run(args, stop))
    url = f"http://127.0.0.1:{port}/ver"
    try:
        async with ClientSession() as session:
            for _ in range(100):
                with contextlib.suppress(ClientConnectorError):
                    async with session.get(url) as resp:
                        assert resp.status == 200
                        break
                await asyncio.sleep(0.02)
            # never send it without the handler: the default ends the process
            assert signals.getsignal(signals.SIGUSR1) not in (
                signals.SIG_DFL,
                signals.SIG_IGN,
                None,
            )
            os.kill(os.getpid(), signals.SIGUSR1)
            await asyncio.sleep(0.2)
            with pytest.raises(ClientConnectorError):
                async with session.get(url):
                    pass
            os.kill(os.getpid(), signals.SIGUSR1)
            await asyncio.sleep(0.2)
            async with session.get(url) as resp:
                assert resp.status == 200
    finally:
        stop.set()
        await runner
