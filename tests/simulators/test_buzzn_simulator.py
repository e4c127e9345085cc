"""The BUZZN broker simulator against the contract the client is written for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
import json
import re
from typing import Any

from aiohttp import (
    ClientPayloadError,
    ClientSession,
    ClientWebSocketResponse,
    WSMsgType,
    WSServerHandshakeError,
)
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from simulators import secrets
from simulators.__main__ import build_parser, control_command, fault_command
from simulators.buzzn import BuzznFault, BuzznSimulator, cli
from simulators.buzzn.data import Household, Producer

from .cli import running_cli

EMAIL = "erika@example.com"
PASSWORD = "buzzn-password"
METER = "b4234cd4bed143a6b9bd09e347e17d34"
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
STAMP_FRACTION = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")
APPLIANCES = {
    "Waschmaschine-1",
    "Spülmaschine-1",
    "Grundlast-1",
    "Durchlauferhitzer-1",
    "Kühlschrank-1",
}
SEED_ONLY = (
    ("GET", "/logout"),
    ("GET", "/hints"),
    ("POST", "/hint/mark-read/1"),
    ("GET", "/challenges"),
    ("GET", "/challenges/start/1"),
    ("GET", "/challenges/status"),
    ("POST", "/challenges/quit"),
    ("PUT", "/update-password"),
)


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A plain aiohttp session."""
    async with ClientSession() as client:
        yield client


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[BuzznSimulator]:
    """The document variant on loopback."""
    simulator = BuzznSimulator()
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def ref(socket_enabled: None) -> AsyncGenerator[BuzznSimulator]:
    """The reference variant on loopback."""
    simulator = BuzznSimulator(variant="reference")
    await simulator.start()
    yield simulator
    await simulator.stop()


async def login(
    session: ClientSession, sim: BuzznSimulator, user: str = EMAIL
) -> dict[str, str]:
    """Log in and return the Authorization header."""
    body = {"user": user, "password": sim.password}
    async with session.post(f"{sim.url}/login", json=body) as resp:
        assert resp.status == 200
        token = (await resp.json())["sessionToken"]
    return {"Authorization": f"Bearer {token}"}


async def call(
    session: ClientSession,
    sim: BuzznSimulator,
    path: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: Any = None,
) -> tuple[int, Any]:
    """Send a request; return the status and the JSON body (None when empty)."""
    async with session.request(
        method, f"{sim.url}{path}", headers=headers, json=body
    ) as resp:
        text = await resp.text()
        if resp.content_type == "text/html":
            return resp.status, text
        return resp.status, json.loads(text) if text else None


async def receive(ws: ClientWebSocketResponse) -> str:
    """The next text frame (within 2 s)."""
    return await asyncio.wait_for(ws.receive_str(), 2.0)


async def silent(ws: ClientWebSocketResponse) -> bool:
    """True when nothing arrives within 0.15 s."""
    try:
        await asyncio.wait_for(ws.receive(), 0.15)
    except TimeoutError:
        return True
    return False


async def live_ws(
    session: ClientSession, sim: BuzznSimulator, headers: dict[str, str]
) -> ClientWebSocketResponse:
    """Open /live and read the greeting."""
    ws = await session.ws_connect(f"{sim.url}/live?meter_id={METER}", headers=headers)
    greeting = json.loads(await receive(ws))
    assert re.fullmatch(r"Connected with sid [0-9a-f]+", greeting["data"])
    return ws


async def live_sio(
    session: ClientSession, sim: BuzznSimulator, meter: str = METER
) -> ClientWebSocketResponse:
    """Open Socket.IO, join /live; read up to the greeting and the ack."""
    ws = await session.ws_connect(
        f"{sim.url}/socket.io/?EIO=3&transport=websocket&meter_id={meter}"
    )
    opening = await receive(ws)
    assert opening.startswith("0{")
    info = json.loads(opening[1:])
    assert info["upgrades"] == []
    assert info["pingInterval"] == round(sim.ping_interval * 1000)
    assert info["pingTimeout"] == round(sim.ping_timeout * 1000)
    assert await receive(ws) == "40"
    await ws.send_str("40/live")
    frames = {await receive(ws), await receive(ws)}
    greeting = json.dumps(
        ["live_data", {"data": f"Connected with sid {info['sid']}"}],
        separators=(",", ":"),
    )
    assert frames == {"40/live", f"42/live,{greeting}"}
    return ws


def sio_data(frame: str) -> dict[str, Any]:
    """The live object of a ``42/live,["live_data",{"data": "..."}]`` frame."""
    assert frame.startswith("42/live,")
    name, payload = json.loads(frame[len("42/live,") :])
    assert name == "live_data"
    decoded: dict[str, Any] = json.loads(payload["data"])
    return decoded


def check_live(message: dict[str, Any]) -> None:
    """The live object has the contract's shape and plausible values."""
    assert set(message) == {"date", "group_production", "group_users"}
    assert abs(message["date"] / 1000 - datetime.now(UTC).timestamp()) < 5
    assert isinstance(message["group_production"], int)
    assert [user["id"] for user in message["group_users"]] == [1, 2, 3]
    assert message["group_users"][0]["meter_id"] == METER
    for user in message["group_users"]:
        assert 1e15 < user["consumption"] < 4e15
        assert 150_000 <= user["power"] <= 3_000_000


# ---- REST: document variant ------------------------------------------------------


async def test_login_profile_logout(
    session: ClientSession, sim: BuzznSimulator
) -> None:
    """Login gives a JWT-looking token; profile GET/PUT; logout ends the session."""
    async with session.post(
        f"{sim.url}/login", json={"user": EMAIL, "password": PASSWORD}
    ) as resp:
        body = await resp.json()
    assert set(body) == {"sessionToken"}
    token = body["sessionToken"]
    assert token.startswith("eyJ")
    assert token.count(".") == 2
    assert {token, EMAIL, PASSWORD, sim.password_token} <= secrets.known()
    assert sim.logins == 1
    for user, password in ((EMAIL, "wrong"), (EMAIL.upper(), PASSWORD)):
        status, error = await call(
            session,
            sim,
            "/login",
            method="POST",
            body={"user": user, "password": password},
        )
        assert status == 401
        assert set(error) == {"errorName", "errorDescription"}
    assert (await call(session, sim, "/login", method="POST", body=[]))[0] == 400
    sim.set_fault("account_inactive")
    body = {"user": EMAIL, "password": PASSWORD}
    assert (await call(session, sim, "/login", method="POST", body=body))[0] == 403
    sim.clear_fault("account_inactive")

    headers = {"Authorization": f"Bearer {token}"}
    status, profile = await call(session, sim, "/profile", headers)
    assert status == 200
    assert profile == {
        "id": 1,
        "name": "Mustermann",
        "firstName": "Erika",
        "nick": "erika",
        "mail": EMAIL,
        "flatSize": 60.0,
        "inhabitants": 2,
        "groupAddress": "Musterstraße 1",
        "meterId": METER,
        "avatar": profile["avatar"],
        "registration_date": "2020-01-15 10:01:10.123456",
        "baseline_state": "READY",
    }
    assert profile["avatar"].startswith("iVBORw0KGgo")
    change = {"flatSize": 72, "inhabitants": 3, "nick": "eri"}
    assert await call(session, sim, "/profile", headers, "PUT", change) == (200, {})
    assert (sim.profile["flatSize"], sim.profile["inhabitants"]) == (72.0, 3)
    for bad in (
        {"flatSize": 0},
        {"flatSize": 1001},
        {"inhabitants": 21},
        {"inhabitants": 2.5},
        {"nick": ""},
        {"unknown": 1},
        [1],
    ):
        status, error = await call(session, sim, "/profile", headers, "PUT", bad)
        assert status == 400
        assert "errorName" in error
    status, pictures = await call(
        session, sim, "/assets/group-profile-pictures", headers
    )
    assert status == 200
    assert [picture["id"] for picture in pictures] == [1, 2, 3]
    assert await call(session, sim, "/logout", headers) == (200, {})
    status, error = await call(session, sim, "/profile", headers)
    assert status == 401
    assert set(error) == {"errorName", "errorDescription"}
    # a malformed token is a 401 too in the document variant
    bad = {"Authorization": "Bearer nonsense"}
    assert (await call(session, sim, "/profile", bad))[0] == 401
    assert (await call(session, sim, "/profile"))[0] == 401
    status, error = await call(session, sim, "/nothing", headers)
    assert (status, error["errorName"]) == (404, "NotFound")


async def test_passwords(session: ClientSession, sim: BuzznSimulator) -> None:
    """/set-password needs the user token; /update-password at least 8 characters."""
    body = {"password": "new-password-1", "token": "wrong"}
    status, error = await call(session, sim, "/set-password", None, "POST", body)
    assert (status, error["errorName"]) == (400, "InvalidToken")
    body = {"password": "short", "token": sim.password_token}
    assert (await call(session, sim, "/set-password", None, "POST", body))[0] == 400
    body = {"password": "new-password-1", "token": sim.password_token}
    assert await call(session, sim, "/set-password", None, "POST", body) == (200, {})
    assert sim.password == "new-password-1"
    headers = await login(session, sim)
    body = {"password": "short"}
    assert (await call(session, sim, "/update-password", headers, "PUT", body))[
        0
    ] == 400
    body = {"password": "new-password-2"}
    assert await call(session, sim, "/update-password", headers, "PUT", body) == (
        200,
        {},
    )
    assert sim.password == "new-password-2"
    sim.change_password("new-password-3")
    assert (await call(session, sim, "/profile", headers))[0] == 401
    async with session.post(
        f"{sim.url}/_sim/password", json={"password": "new-password-4"}
    ) as resp:
        assert resp.status == 200
    await login(session, sim)
    assert "new-password-4" in secrets.known()


async def test_hints_and_challenges(
    session: ClientSession, sim: BuzznSimulator
) -> None:
    """Hints (3 with an id), mark-read, challenges with start, status and quit."""
    headers = await login(session, sim)
    status, hints = await call(session, sim, "/hints", headers)
    assert status == 200
    assert len(hints) == 4
    assert [hint.get("id") for hint in hints] == [1, 2, 3, None]
    for hint in hints:
        assert {"icon", "headline", "description"} <= set(hint)
    async with session.post(f"{sim.url}/hint/mark-read/2", headers=headers) as resp:
        assert resp.status == 202
    status, error = await call(session, sim, "/hint/mark-read/9", headers, "POST")
    assert (status, set(error)) == (404, {"errorName", "errorDescription"})
    assert sim.hints_read == {2}
    hints = (await call(session, sim, "/hints", headers))[1]
    assert [hint.get("id") for hint in hints] == [1, 3, None]

    status, challenges = await call(session, sim, "/challenges", headers)
    assert status == 200
    assert [challenge["id"] for challenge in challenges] == [1, 2, 3]
    for challenge in challenges:
        assert set(challenge) == {"id", "name", "description", "total", "succeeded"}
        assert challenge["succeeded"] < challenge["total"]
    assert await call(session, sim, "/challenges/status", headers) == (204, None)
    assert (await call(session, sim, "/challenges/start/7", headers))[0] == 404
    assert await call(session, sim, "/challenges/start/2", headers) == (200, {})
    assert sim.challenge_running == 2
    status, running = await call(session, sim, "/challenges/status", headers)
    assert status == 200
    assert running["id"] == 2
    assert running["status"] == "running"
    assert 86390 <= running["expiresAt"] <= 86400
    assert 0 < running["progress"] <= 1
    ended = sim.challenge_status(sim.challenge_started + 86401)
    assert ended is not None
    assert (ended["status"], ended["expiresAt"]) == ("failed", 0)
    body = {"id": 1}
    assert (await call(session, sim, "/challenges/quit", headers, "POST", body))[
        0
    ] == 404
    assert (await call(session, sim, "/challenges/quit", headers, "POST", {}))[0] == 400
    body = {"id": 2}
    assert await call(session, sim, "/challenges/quit", headers, "POST", body) == (
        200,
        {},
    )
    assert sim.challenge_running is None
    sim.set_fault("no_challenges")
    assert await call(session, sim, "/challenges", headers) == (204, None)


async def test_histories_follow_the_clock(
    freezer: FrozenDateTimeFactory, session: ClientSession, socket_enabled: None
) -> None:
    """History, disaggregation and global challenge values at a frozen time."""
    freezer.move_to("2026-03-10 12:47:10.5")
    sim = BuzznSimulator()
    await sim.start()
    try:
        headers = await login(session, sim)
        status, history = await call(
            session, sim, "/individual-consumption-history", headers
        )
        assert status == 200
        assert set(history) == {"energy", "power"}
        assert list(history["energy"]) == [
            "2026-03-10 00:00:04.123456",
            "2026-03-10 12:47:10.500000",
        ]
        first, latest = history["energy"].values()
        assert 1e15 < first < latest < 4e15
        assert all(isinstance(value, int) for value in history["energy"].values())
        powers = history["power"]
        assert len(powers) == 51  # 00:15 ... 12:45
        assert next(iter(powers)) == "2026-03-10 00:15:00"
        assert list(powers)[-1] == "2026-03-10 12:45:00"
        assert all(STAMP.fullmatch(key) for key in powers)
        assert all(150_000 <= value <= 3_000_000 for value in powers.values())
        assert all(isinstance(value, float) for value in powers.values())
        # readings and 15-min averages agree: Wh between = average power x time
        energy_wh = (latest - first) / 1e7
        mean_w = sum(powers.values()) / len(powers) / 1000
        assert abs(energy_wh - mean_w * 12.75) / energy_wh < 0.02

        week_ago = int(datetime(2026, 3, 3, 9, tzinfo=UTC).timestamp())
        status, old = await call(
            session, sim, f"/individual-consumption-history?begin={week_ago}", headers
        )
        assert status == 200
        assert list(old["energy"])[1] == "2026-03-03 23:59:55.500000"
        assert len(old["power"]) == 96
        for begin in (week_ago - 4 * 86400, week_ago + 8 * 86400):
            path = f"/individual-consumption-history?begin={begin}"
            assert await call(session, sim, path, headers) == (206, {})
        path = "/individual-consumption-history?begin=yesterday"
        assert (await call(session, sim, path, headers))[0] == 400

        status, group = await call(session, sim, "/group-consumption-history", headers)
        assert status == 200
        assert set(group) == {
            "consumed_energy",
            "consumed_power",
            "group_users",
            "produced_first_meter_energy",
            "produced_first_meter_power",
            "produced_second_meter_energy",
            "produced_second_meter_power",
        }
        assert set(group["group_users"]) == {"1", "2", "3"}
        assert group["group_users"]["1"] == history
        night = group["produced_first_meter_power"]["2026-03-10 03:00:00"]
        noon = group["produced_first_meter_power"]["2026-03-10 12:00:00"]
        assert night == 0
        assert noon > 5_000_000

        status, parts = await call(session, sim, "/individual-disaggregation", headers)
        assert status == 200
        keys = list(parts)
        assert keys[0] == "2026-03-08 00:15:00"
        assert keys[-1] == "2026-03-10 12:45:00"
        assert len(keys) == 2 * 96 + 51
        assert all(set(entry) == APPLIANCES for entry in parts.values())
        assert all(200e6 < entry["Grundlast-1"] < 260e6 for entry in parts.values())
        begin = int(datetime(2026, 3, 10, 12, tzinfo=UTC).timestamp())
        status, group_parts = await call(
            session, sim, f"/group-disaggregation?begin={begin}", headers
        )
        assert list(group_parts) == [
            "2026-03-10 12:15:00",
            "2026-03-10 12:30:00",
            "2026-03-10 12:45:00",
        ]
        assert group_parts["2026-03-10 12:15:00"]["Grundlast-1"] > 600e6
        sim.set_fault("new_appliance")
        status, parts = await call(session, sim, "/individual-disaggregation", headers)
        assert ["Trockner-1" in entry for entry in parts.values()][-5:] == [
            False,
            True,
            True,
            True,
            True,
        ]

        status, saving = await call(
            session, sim, "/individual-global-challenge", headers
        )
        assert status == 200
        assert list(saving["saving"]) == ["2026-03-10 12:45:00"]
        assert 1e12 < saving["saving"]["2026-03-10 12:45:00"] < 1e13
        assert saving["baseline"] == 53011346257574
        status, community = await call(session, sim, "/community-global-challenge")
        assert status == 200
        assert 8e13 < next(iter(community.values())) < 9e13
        status, capita = await call(session, sim, "/per-capita-consumption", headers)
        assert status == 200
        assert 1400 < next(iter(capita.values())) < 1600

        sim.set_fault("no_history")
        for path in (
            "/individual-consumption-history",
            "/group-consumption-history",
            "/individual-disaggregation",
            "/group-disaggregation",
            "/individual-global-challenge",
            "/community-global-challenge",
            "/per-capita-consumption",
        ):
            assert await call(session, sim, path, headers) == (206, {}), path

        # counters grow with the clock
        sim.clear_faults()
        before = sim.live_message()["group_users"][0]["consumption"]
        freezer.tick(timedelta(seconds=20))
        assert sim.live_message()["group_users"][0]["consumption"] > before
    finally:
        await sim.stop()


async def test_sessions_expire_with_the_clock(
    freezer: FrozenDateTimeFactory, session: ClientSession, socket_enabled: None
) -> None:
    """Tokens end after session_lifetime; expire_sessions_now and /_sim end all."""
    sim = BuzznSimulator()
    await sim.start()
    try:
        headers = await login(session, sim)
        freezer.tick(timedelta(seconds=3599))
        assert (await call(session, sim, "/profile", headers))[0] == 200
        freezer.tick(timedelta(seconds=2))
        status, error = await call(session, sim, "/profile", headers)
        assert (status, error["errorName"]) == (401, "SessionExpired")
        headers = await login(session, sim)
        sim.expire_sessions_now()
        assert (await call(session, sim, "/hints", headers))[0] == 401
        headers = await login(session, sim)
        async with session.post(f"{sim.url}/_sim/tokens/expire") as resp:
            assert resp.status == 200
        assert (await call(session, sim, "/hints", headers))[0] == 401
    finally:
        await sim.stop()


# ---- REST: reference variant -----------------------------------------------------


async def test_reference_variant(
    freezer: FrozenDateTimeFactory, session: ClientSession, socket_enabled: None
) -> None:
    """Lower-cased user, expiredTimestamp, 404 for seed-only paths, other errors."""
    freezer.move_to("2026-03-10 12:00:00")
    ref = BuzznSimulator(variant="reference")
    await ref.start()
    try:
        body = {"user": EMAIL.upper(), "password": PASSWORD}
        status, answer = await call(session, ref, "/login", None, "POST", body)
        assert status == 200
        assert answer["expiredTimestamp"] == datetime.now(UTC).timestamp() + 900
        headers = {"Authorization": f"Bearer {answer['sessionToken']}"}
        body = {"user": EMAIL, "password": "wrong"}
        status, error = await call(session, ref, "/login", None, "POST", body)
        assert (status, set(error)) == (401, {"name", "description"})
        for method, path in SEED_ONLY:
            status, page = await call(session, ref, path, headers, method, {})
            assert status == 404, path
            assert "Not Found" in page
        assert (await call(session, ref, "/profile", headers))[0] == 200
        assert (await call(session, ref, "/individual-disaggregation", headers))[
            0
        ] == 200
        status, error = await call(session, ref, "/profile", headers, "PUT", {"x": 1})
        assert (status, set(error)) == (400, {"name", "description"})
        assert await call(session, ref, "/profile") == (
            401,
            {"msg": "Missing Authorization Header"},
        )
        bad = {"Authorization": "Bearer abc"}
        assert await call(session, ref, "/profile", bad) == (
            422,
            {"msg": "Not enough segments"},
        )
        forged = {"Authorization": f"Bearer {answer['sessionToken']}x"}
        assert (await call(session, ref, "/profile", forged))[0] == 422
        freezer.tick(timedelta(seconds=901))
        assert await call(session, ref, "/profile", headers) == (
            401,
            {"msg": "Token has expired"},
        )
        # /live is no WebSocket here
        assert await call(session, ref, "/live") == (400, {"name": "No meter id"})
        status, page = await call(session, ref, f"/live?meter_id={METER}")
        assert status == 200
        assert page.startswith("<!DOCTYPE html>")
        with pytest.raises(WSServerHandshakeError):
            await session.ws_connect(
                f"{ref.url}/live?meter_id={METER}", headers=headers
            )
        ws = await live_sio(session, ref)
        ref.push_now()
        check_live(sio_data(await receive(ws)))
        await ws.close()
    finally:
        await ref.stop()


# ---- live ------------------------------------------------------------------------


async def test_live_websocket(session: ClientSession, sim: BuzznSimulator) -> None:
    """Greeting, then wrapped messages; unwrapped with wrap_data False."""
    headers = await login(session, sim)
    with pytest.raises(WSServerHandshakeError) as caught:
        await session.ws_connect(f"{sim.url}/live?meter_id={METER}")
    assert caught.value.status == 401
    assert await call(session, sim, "/live", headers) == (400, {"name": "No meter id"})
    assert (await call(session, sim, f"/live?meter_id={METER}", headers))[0] == 400
    ws = await live_ws(session, sim, headers)
    assert sim.live_clients == 1
    sim.push_now()
    frame = json.loads(await receive(ws))
    assert set(frame) == {"data"}
    message = json.loads(frame["data"])
    check_live(message)
    assert sim.messages_sent == 1
    assert sim.sent_log[0][1] == message["date"]
    # an unknown meter id gets the greeting only
    other = await session.ws_connect(
        f"{sim.url}/live?meter_id=unknown", headers=headers
    )
    assert "Connected" in json.loads(await receive(other))["data"]
    sim.push_now()
    await receive(ws)
    assert await silent(other)
    await other.close()
    sim.wrap_data = False
    sim.push_now()
    check_live(json.loads(await receive(ws)))
    await ws.close()
    for _ in range(20):
        if sim.live_clients == 0:
            break
        await asyncio.sleep(0.01)
    assert sim.live_clients == 0


async def test_live_socketio(socket_enabled: None, session: ClientSession) -> None:
    """Handshake, ping/pong, data; no data once pings stop; 41/live leaves."""
    sim = BuzznSimulator(ping_interval=0.2, ping_timeout=0.5, ping_grace=0.1)
    await sim.start()
    try:
        base = f"{sim.url}/socket.io/?EIO=3&meter_id={METER}&transport="
        assert (await call(session, sim, "/socket.io/?EIO=3&transport=polling"))[
            0
        ] == 400
        with pytest.raises(WSServerHandshakeError):
            await session.ws_connect(base + "polling")
        ws = await live_sio(session, sim)
        await ws.send_str("2probe")
        assert await receive(ws) == "3probe"
        sim.push_now()
        check_live(sio_data(await receive(ws)))
        await ws.send_str("2")
        assert await receive(ws) == "3"
        await asyncio.sleep(0.35)  # more than ping_interval + grace without a ping
        sim.push_now()
        assert await silent(ws)
        await ws.send_str("2")
        assert await receive(ws) == "3"
        sim.push_now()
        assert await silent(ws)  # dropped for good, the socket stays open
        await ws.close()

        ws = await live_sio(session, sim)
        await ws.send_str("40/other")
        assert (await receive(ws)).startswith("44/other")
        await ws.send_str("garbage")
        await ws.send_str("4x")
        await ws.send_str("41/live")
        await ws.send_str("2")
        assert await receive(ws) == "3"  # the frames before it are handled
        sim.push_now()
        assert await silent(ws)
        await ws.send_str("1")
        closing = await asyncio.wait_for(ws.receive(), 2)
        assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    finally:
        await sim.stop()


async def test_live_timer_follows_a_frozen_clock(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    session: ClientSession,
    socket_enabled: None,
) -> None:
    """Messages come every live_interval (a loop timer)."""
    sim = BuzznSimulator(live_interval=20.0)
    await sim.start()
    try:
        ws = await live_ws(session, sim, await login(session, sim))
        freezer.tick(timedelta(seconds=21))
        async_fire_time_changed(hass)
        first = json.loads(json.loads(await receive(ws))["data"])
        freezer.tick(timedelta(seconds=20))
        async_fire_time_changed(hass)
        second = json.loads(json.loads(await receive(ws))["data"])
        assert second["date"] - first["date"] == 20_000
        assert (
            second["group_users"][0]["consumption"]
            > first["group_users"][0]["consumption"]
        )
        await ws.close()
    finally:
        await sim.stop()


async def test_live_faults(session: ClientSession, sim: BuzznSimulator) -> None:
    """Value faults, empty messages, stalls and dropped streams on both transports."""
    headers = await login(session, sim)
    ws = await live_ws(session, sim, headers)
    sio = await live_sio(session, sim)

    async def both() -> tuple[Any, Any]:
        sim.push_now()
        return json.loads(json.loads(await receive(ws))["data"]), sio_data(
            await receive(sio)
        )

    good, _ = await both()
    sim.set_fault("member_without_readings")
    sim.set_fault("missing_field")
    for message in await both():
        assert "power" not in message["group_users"][0]
        assert message["group_users"][1]["consumption"] is None
        assert message["group_users"][1]["power"] is None
    sim.clear_faults()
    sim.set_fault("glitch_counter", mode="zero")
    assert (await both())[0]["group_users"][0]["consumption"] == 0
    sim.set_fault("glitch_counter", mode="backwards", amount=1000)
    last_good = sim.live_message()["group_users"][0]["consumption"]
    glitched = (await both())[0]["group_users"][0]["consumption"]
    assert good["group_users"][0]["consumption"] <= glitched + 1000 < last_good
    sim.clear_faults()
    sim.set_fault("extra_fields")
    sim.set_fault("numbers_as_strings")
    message, _ = await both()
    assert message["version"] == "2.1"
    assert isinstance(message["date"], str)
    assert isinstance(message["group_users"][0]["power"], str)
    sim.clear_faults()
    sim.set_fault("empty_live")
    sim.push_now()
    assert json.loads(await receive(ws)) == {"data": "{}"}
    assert json.loads((await receive(sio))[len("42/live,") :]) == [
        "live_data",
        {"data": "{}"},
    ]
    sim.clear_faults()
    sim.set_fault("stall_stream")
    sim.push_now()
    await sio.send_str("2")
    assert await silent(ws)
    assert await silent(sio)
    sim.clear_fault("stall_stream")
    sent = sim.messages_sent
    sim.set_fault("drop_streams")
    assert sim.faults == {}
    for socket in (ws, sio):
        closing = await asyncio.wait_for(socket.receive(), 2)
        assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert sim.messages_sent == sent


async def test_http_faults(session: ClientSession, sim: BuzznSimulator) -> None:
    """http_error, slow_response, unauthorized_once, malformed_json, truncated_body."""
    headers = await login(session, sim)
    sim.set_fault("http_error", status=500, path="/profile")
    status, error = await call(session, sim, "/profile", headers)
    assert (status, set(error)) == (500, {"errorName", "errorDescription"})
    assert (await call(session, sim, "/hints", headers))[0] == 200
    sim.clear_fault("http_error")
    sim.set_fault("slow_response", seconds=0.2)
    started = asyncio.get_running_loop().time()
    assert (await call(session, sim, "/profile", headers))[0] == 200
    assert asyncio.get_running_loop().time() - started >= 0.19
    sim.clear_fault("slow_response")
    sim.set_fault("unauthorized_once")
    assert (await call(session, sim, "/profile", headers))[0] == 401
    assert (await call(session, sim, "/profile", headers))[0] == 200
    sim.set_fault("extra_fields")
    sim.set_fault("numbers_as_strings")
    profile = (await call(session, sim, "/profile", headers))[1]
    assert profile["flatSize"] == "60.0"
    assert "newsletter" in profile
    history = (await call(session, sim, "/individual-consumption-history", headers))[1]
    assert "temperature" in history
    assert all(isinstance(v, str) for v in history["energy"].values())
    sim.clear_faults()
    sim.set_fault("malformed_json")
    async with session.get(f"{sim.url}/challenges", headers=headers) as resp:
        assert resp.status == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(await resp.text())
    assert (await call(session, sim, "/profile", headers))[0] == 200
    sim.clear_faults()
    sim.set_fault("truncated_body")
    with pytest.raises(ClientPayloadError):
        async with session.get(
            f"{sim.url}/per-capita-consumption", headers=headers
        ) as r:
            await r.read()
    sim.clear_faults()
    with pytest.raises(ValueError, match="unknown fault"):
        sim.set_fault("no_such_fault")
    with pytest.raises(ValueError, match="mode"):
        sim.set_fault("glitch_counter", mode="sideways")
    with pytest.raises(ValueError, match="takes no parameter"):
        sim.set_fault(BuzznFault.STALL_STREAM, seconds=1)
    with pytest.raises(ValueError, match="variant"):
        BuzznSimulator(variant="other")
    with pytest.raises(ValueError, match="live_interval"):
        BuzznSimulator(live_interval=0)


async def test_offline_reboot_and_control(
    session: ClientSession, sim: BuzznSimulator
) -> None:
    """go_offline/come_back keep the port; a fresh boot forgets tokens; /_sim works."""
    headers = await login(session, sim)
    ws = await live_ws(session, sim, headers)
    await sim.go_offline()
    closing = await asyncio.wait_for(ws.receive(), 2)
    assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)
    await sim.come_back()
    assert sim.boots == 2
    assert (await call(session, sim, "/profile", headers))[0] == 401
    headers = await login(session, sim)
    async with session.post(f"{sim.url}/_sim/fault/empty_live", json={}) as resp:
        assert await resp.json() == {"empty_live": {}}
    async with session.get(f"{sim.url}/_sim/status") as resp:
        status = await resp.json()
    assert status["faults"] == {"empty_live": {}}
    assert status["variant"] == "document"
    async with session.delete(f"{sim.url}/_sim/fault") as resp:
        assert await resp.json() == {}
    ws = await live_ws(session, sim, headers)
    async with session.post(f"{sim.url}/_sim/push") as resp:
        assert await resp.json() == {"pushed": 1}
    check_live(json.loads(json.loads(await receive(ws))["data"]))
    async with session.post(f"{sim.url}/_sim/drop_streams") as resp:
        assert await resp.json() == {"dropped": 1}
    closing = await asyncio.wait_for(ws.receive(), 2)
    assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert "/profile" in sim.requests
    assert not any(path.startswith("/_sim") for path in sim.requests)
    ws = await live_sio(session, sim)  # left open: stop() ends it at once
    started = asyncio.get_running_loop().time()
    await sim.stop()
    assert asyncio.get_running_loop().time() - started < 0.5
    await asyncio.wait_for(ws.receive(), 2)
    await ws.close()


def test_data_model() -> None:
    """Counters are the integral of the power; production is 0 at night."""
    household = Household(1.0, 2e15)
    now = 1_773_144_000.0
    assert household.counter(now + 60) > household.counter(now)
    average = household.average_mw(now, now + 900)
    units = household.counter(now + 900) - household.counter(now)
    assert abs(units / 1e7 * 4 - average / 1000) < 1
    producer = Producer(8000.0, 1e14)
    midnight = now - now % 86400
    assert producer.power_w(midnight + 3 * 3600) == 0
    assert producer.power_w(midnight + 12 * 3600) == pytest.approx(8000.0)
    assert producer.counter(midnight + 3600) == producer.counter(midnight)
    assert producer.counter(midnight + 86400) > producer.counter(midnight)


def test_command_line() -> None:
    """The sub-command's options reach the simulator."""
    args = build_parser().parse_args(
        [
            "buzzn",
            "--variant",
            "reference",
            "--live-interval",
            "5",
            "--no-wrap-data",
            "--fault",
            "http_error:status=500",
        ]
    )
    assert cli.check_arguments(args) == [
        (BuzznFault.HTTP_ERROR, {"status": 500, "path": "/"})
    ]
    sim = cli.simulator_from(args)
    assert (sim.variant, sim.live_interval, sim.wrap_data, sim.session_lifetime) == (
        "reference",
        5.0,
        False,
        900.0,
    )
    for bad in (["--live-interval", "0"], ["--session-lifetime", "-1"]):
        with pytest.raises(ValueError, match="must be positive"):
            cli.check_arguments(build_parser().parse_args(["buzzn", *bad]))


async def test_cli_run_and_remote_control(socket_enabled: None) -> None:
    """run() serves until stopped; ``fault`` and ``control`` reach it."""
    # short values: the start log shows them, and remembered ones would count as leaks
    args = build_parser().parse_args(
        ["buzzn", "--port", "0", "--email", "e@x.y", "--password", "pw123",
         "--fault", "no_history"]
    )  # fmt: skip
    async with running_cli(BuzznSimulator, cli.run, args) as sim:
        url = sim.url
        fault = build_parser().parse_args(
            ["fault", "--url", url, "glitch_counter", "--param", "mode=backwards"]
        )
        assert await asyncio.to_thread(fault_command, fault) == 0
        assert sim.faults == {
            "no_history": {},
            "glitch_counter": {"mode": "backwards", "amount": 10_000_000_000},
        }
        control = build_parser().parse_args(["control", "--url", url, "tokens/expire"])
        assert await asyncio.to_thread(control_command, control) == 0
