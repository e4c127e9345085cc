"""The Carlo Gavazzi EMS simulator against the EMS Webapi 1.0.0 contract."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
import time
from typing import Any

from aiohttp import ClientSession, Fingerprint, ServerFingerprintMismatch
import pytest

from simulators.gavazzi_ems import EmsFault, EmsSimulator
from simulators.gavazzi_ems.data import Installation, is_counter, value

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
