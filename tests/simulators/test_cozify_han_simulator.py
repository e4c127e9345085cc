"""Fault injection of the Cozify HAN reader simulator, over real loopback sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

from aiohttp import (
    ClientConnectorError,
    ClientSession,
    ClientWebSocketResponse,
    WSMsgType,
)
import pytest

from simulators import secrets
from simulators.__main__ import build_parser
from simulators.cozify_han import HanFault, HanSimulator
from simulators.cozify_han.cli import check_arguments
from simulators.cozify_han.simulator import EXTRA_FIELDS, UNKNOWN_METER_FIELDS

COUNTERS = ("ic", "ec", "ric", "rec")
METER_KEYS = {"type", "ts", *COUNTERS, "p", "pi", "pe", "r", "ri", "re", "u", "i"}


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A plain aiohttp session."""
    async with ClientSession() as client:
        yield client


@pytest.fixture
async def han(socket_enabled: None) -> AsyncGenerator[HanSimulator]:
    """A simulated reader on loopback that pushes only when asked to."""
    simulator = HanSimulator(push_interval=None)
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


async def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait (in real time) until `condition` holds."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("condition not met")


async def get(session: ClientSession, sim: HanSimulator, path: str) -> tuple[int, Any]:
    """GET a path; return the status and the JSON body."""
    async with session.get(f"{sim.url}{path}") as resp:
        return resp.status, await resp.json()


async def assert_refused(url: str) -> None:
    """A new connection to `url` is refused (nothing listens on the port)."""
    async with ClientSession() as fresh:
        with pytest.raises(ClientConnectorError):
            async with fresh.get(f"{url}/han"):
                pass


async def connect_ws(
    session: ClientSession, sim: HanSimulator
) -> ClientWebSocketResponse:
    """Open /ws and read the initial burst (state, configuration, OTA, meter)."""
    ws = await session.ws_connect(f"{sim.url}/ws")
    types = [(await ws.receive_json(timeout=5))["type"] for _ in range(4)]
    assert types[-1] == "HAN_METER_MESSAGE"
    return ws


async def assert_stream_ends(ws: ClientWebSocketResponse) -> None:
    """The next thing on the WebSocket is its end (close frame or lost connection)."""
    message = await ws.receive(timeout=5)
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)


def counters(meter: dict[str, Any]) -> dict[str, float]:
    """The energy counters of a meter message as numbers."""
    return {name: float(str(meter[name])) for name in COUNTERS}


# ---- go_offline / come_back ----------------------------------------------------


async def test_go_offline_refuses_and_come_back_boots_on_same_port(
    session: ClientSession, han: HanSimulator
) -> None:
    """Offline: streams drop, connections are refused; back: same port, fresh boot."""
    han.set_fault(HanFault.HISTORY_GAP, start=0, end=60)
    han.set_configuration({"pa": "SE3"})
    han.offer_update("1.0.3.0")
    _, before = await get(session, han, "/meter")
    ws = await connect_ws(session, han)
    port, url = han.port, han.url
    await asyncio.sleep(0.3)  # some uptime to lose
    _, health = await get(session, han, "/health")
    assert health["uptime_ms"] >= 300

    await han.go_offline()
    assert han.offline
    assert not han.listening
    await assert_stream_ends(ws)
    assert han.stream_clients == 0
    await assert_refused(url)
    await han.go_offline()  # already offline: nothing changes
    assert han.offline

    await han.come_back()
    assert not han.offline
    assert han.listening
    assert (han.port, han.url) == (port, url)
    status, health = await get(session, han, "/health")
    assert status == 200
    assert health["uptime_ms"] < 300
    assert health["cpu_reset_reason"] == "RST_POWERON"
    _, state = await get(session, han, "/han")
    assert state["rebootReason"] == "POWER_ON"
    assert state["rebootPending"] is False
    # everything else survived the outage
    assert han.faults == {"history_gap": {"start": 0.0, "end": 60.0}}
    assert (await get(session, han, "/configuration"))[1]["pa"] == "SE3"
    _, ota = await get(session, han, "/ota")
    assert (ota["status"], ota["version"]) == ("UPDATE_AVAILABLE", "1.0.3.0")
    _, after = await get(session, han, "/meter")
    for name, value in counters(after).items():
        assert value >= counters(before)[name]
    ws = await connect_ws(session, han)
    await ws.close()
    await han.come_back()  # already back: nothing changes


async def test_offline_stops_the_push_and_interrupts_a_download(
    socket_enabled: None, session: ClientSession
) -> None:
    """No pushes while offline; a download cut by the outage fails as interrupted."""
    han = HanSimulator(push_interval=0.05)
    han.ota_step_seconds = 5.0
    await han.start(port=0)
    try:
        await eventually(lambda: han.meter_messages_sent >= 2)
        async with session.post(f"{han.url}/ota/download") as resp:
            assert resp.status == 200
        await han.go_offline()
        sent = han.meter_messages_sent
        assert han.push_meter()["type"] == "HAN_METER_MESSAGE"
        await asyncio.sleep(0.3)
        assert han.meter_messages_sent == sent
        await han.come_back()
        await eventually(lambda: han.meter_messages_sent > sent)
        _, ota = await get(session, han, "/ota")
        assert (ota["status"], ota["error"]) == ("FAILED", "interrupted")
    finally:
        await han.stop()


async def test_go_offline_with_duration_comes_back_by_itself(
    session: ClientSession, han: HanSimulator
) -> None:
    """go_offline(duration) returns after that many seconds, on the same port."""
    url = han.url
    await han.go_offline(0.2)
    await assert_refused(url)
    await eventually(lambda: not han.offline)
    assert han.url == url
    assert (await get(session, han, "/health"))[0] == 200
    with pytest.raises(ValueError, match="duration"):
        await han.go_offline(-1.0)


async def test_reboot_and_stop_while_offline(han: HanSimulator) -> None:
    """A reboot needs power; a reboot cut by an outage ends with the power-on."""
    han.reboot(None)
    await han.go_offline()
    han.finish_reboot()  # no power: still down
    assert han.rebooting
    with pytest.raises(RuntimeError):
        han.reboot(1.0)
    await han.come_back()
    assert not han.rebooting
    assert han.state["rebootReason"] == "POWER_ON"
    await han.go_offline()
    await han.stop()  # stopping an offline simulator is fine
    assert not han.offline


# ---- reboots ------------------------------------------------------------------


async def test_reboot_answers_503_and_restarts_uptime(
    session: ClientSession, han: HanSimulator
) -> None:
    """A plain reboot answers 503 meanwhile; afterwards uptime starts again."""
    await asyncio.sleep(0.3)
    han.reboot(None)
    assert (await get(session, han, "/health"))[0] == 503
    han.finish_reboot()
    status, health = await get(session, han, "/health")
    assert status == 200
    assert health["uptime_ms"] < 300
    assert health["cpu_reset_reason"] == "RST_SW"


async def test_reboot_refusing_connections(
    session: ClientSession, han: HanSimulator
) -> None:
    """rebootPending is pushed, then the port refuses until the reader is back."""
    port = han.port
    assert (await get(session, han, "/han"))[0] == 200  # a keep-alive connection
    ws = await connect_ws(session, han)
    await asyncio.sleep(0.3)
    han.reboot(None, refuse_connections=True)
    assert not han.listening
    state = await ws.receive_json(timeout=5)
    assert (state["type"], state["rebootPending"]) == ("HAN_STATE_MESSAGE", True)
    await assert_stream_ends(ws)
    await assert_refused(han.url)
    han.finish_reboot()
    await eventually(lambda: not han.rebooting)
    assert han.listening
    assert han.port == port
    status, health = await get(session, han, "/health")
    assert status == 200
    assert health["uptime_ms"] < 300
    assert health["cpu_reset_reason"] == "RST_SW"
    assert (await get(session, han, "/han"))[1]["rebootPending"] is False


async def test_reboot_refusing_connections_ends_after_duration(
    session: ClientSession, han: HanSimulator
) -> None:
    """With a duration the refusing reboot ends by itself (a loop timer)."""
    han.reboot(0.2, refuse_connections=True)
    await assert_refused(han.url)
    await eventually(lambda: not han.rebooting)
    assert (await get(session, han, "/han"))[0] == 200


async def test_http_reboot_refuses_when_configured(
    session: ClientSession, han: HanSimulator
) -> None:
    """POST /reboot is answered, then refused, with reboot_refuses_connections."""
    han.reboot_refuses_connections = True
    han.reboot_duration = None
    async with session.post(f"{han.url}/reboot") as resp:
        assert resp.status == 200
        assert (await resp.json())["message"] == "reboot:ok"
    await assert_refused(han.url)
    han.finish_reboot()
    await eventually(lambda: not han.rebooting)


async def test_control_reboot_refusing_connections(
    session: ClientSession, han: HanSimulator
) -> None:
    """/_sim/reboot?refuse_connections=1 needs a duration and ends by itself."""
    for query in ("duration=none&refuse_connections=1", "refuse_connections=maybe"):
        async with session.post(f"{han.url}/_sim/reboot?{query}") as resp:
            assert resp.status == 400
    assert not han.rebooting
    async with session.post(
        f"{han.url}/_sim/reboot?duration=0.3&refuse_connections=true"
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["refuse_connections"] is True
    await assert_refused(han.url)
    await eventually(lambda: not han.rebooting)
    assert (await get(session, han, "/_sim/status"))[1]["rebooting"] is False


# ---- unknown fields --------------------------------------------------------------


async def test_malformed_unknown_fields(
    session: ClientSession, han: HanSimulator
) -> None:
    """unknown_fields: a valid reading plus unknown top-level keys and an object."""
    ws = await connect_ws(session, han)
    han.send_malformed("unknown_fields")
    message = await ws.receive_json(timeout=5)
    assert set(message) >= METER_KEYS
    assert message["type"] == "HAN_METER_MESSAGE"
    assert all(float(str(message[name])) > 0 for name in COUNTERS)
    unknown = set(message) - METER_KEYS
    assert unknown == set(UNKNOWN_METER_FIELDS)
    assert any(isinstance(message[key], dict) for key in unknown)
    async with session.post(f"{han.url}/_sim/malformed/unknown_fields") as resp:
        assert resp.status == 200
    assert set(await ws.receive_json(timeout=5)) - METER_KEYS == unknown
    await ws.close()


async def test_extra_fields_on_rest_answers(
    session: ClientSession, han: HanSimulator
) -> None:
    """EXTRA_FIELDS adds unknown keys to REST JSON objects; known keys keep values."""
    paths = ("/meter/id", "/definitions", "/firmware", "/configuration", "/update")
    plain = {path: (await get(session, han, path))[1] for path in paths}
    async with session.post(f"{han.url}/_sim/fault/extra_fields") as resp:
        assert resp.status == 200
    for path in paths:
        status, body = await get(session, han, path)
        assert status == 200
        assert body == plain[path] | EXTRA_FIELDS, path
    _, meter = await get(session, han, "/meter")
    assert set(meter) == METER_KEYS | set(EXTRA_FIELDS)
    _, state = await get(session, han, "/han")
    assert state["serial"] == "HAN12345678"
    assert set(EXTRA_FIELDS) <= set(state)
    # an error answer is a JSON object too; control answers stay as they are
    han.set_fault(HanFault.HTTP_ERROR, path="/health")
    status, error = await get(session, han, "/health")
    assert status == 503
    assert error == {"success": False, "message": "unable to process request"} | (
        EXTRA_FIELDS
    )
    assert not set(EXTRA_FIELDS) & set((await get(session, han, "/_sim/status"))[1])
    async with session.get(f"{han.url}/telegram") as resp:
        assert (await resp.text()).startswith("/KFM")
    han.clear_faults()
    assert await get(session, han, "/meter/id") == (200, plain["/meter/id"])


async def test_extra_fields_on_pushed_messages(
    session: ClientSession, han: HanSimulator
) -> None:
    """EXTRA_FIELDS adds the keys to the burst and every pushed message."""
    han.set_fault(HanFault.EXTRA_FIELDS)
    ws = await session.ws_connect(f"{han.url}/ws")
    for _ in range(4):
        assert set(EXTRA_FIELDS) <= set(await ws.receive_json(timeout=5))
    sent = han.push_meter()
    received = await ws.receive_json(timeout=5)
    assert received == sent
    assert set(received) == METER_KEYS | set(EXTRA_FIELDS)
    han.set_state(online=False)
    state = await ws.receive_json(timeout=5)
    assert state["online"] is False
    assert set(EXTRA_FIELDS) <= set(state)
    han.clear_fault(HanFault.EXTRA_FIELDS)
    han.push_meter()
    assert set(await ws.receive_json(timeout=5)) == METER_KEYS
    await ws.close()


# ---- secrets ----------------------------------------------------------------------


async def test_issued_tokens_and_wifi_passwords_are_remembered(
    session: ClientSession, han: HanSimulator
) -> None:
    """Every issued token and every WiFi password seen goes to the secrets registry."""
    assert han.wifi_password in secrets.known()
    assert han.issue_token() in secrets.known()
    _, token = await get(session, han, "/auth/token")
    assert token["accessToken"] in secrets.known()

    setup = {"s": True, "ss": "Koti", "sp": "setup-secret-1"}
    async with session.post(f"{han.url}/setup", json=setup) as resp:
        assert resp.status == 200
    rejected = {"s": False, "ss": "Koti", "sp": "rejected-secret-2"}
    async with session.post(f"{han.url}/setup", json=rejected) as resp:
        assert resp.status == 400
    config = {"w": {"p": "config-secret-3", "z": 99}}  # rejected: bad channel
    async with session.post(f"{han.url}/configuration", json=config) as resp:
        assert resp.status == 400
    han.set_configuration({"w": {"p": "control-secret-4"}})
    assert han.wifi_password == "control-secret-4"
    for secret in (
        "setup-secret-1",
        "rejected-secret-2",
        "config-secret-3",
        "control-secret-4",
    ):
        assert secret in secrets.known()


# ---- command line ---------------------------------------------------------------


def test_command_line_knows_the_new_options() -> None:
    """--fault extra_fields and --refuse-while-rebooting are accepted."""
    args = build_parser().parse_args(
        ["cozify_han", "--fault", "extra_fields", "--refuse-while-rebooting"]
    )
    assert args.refuse_while_rebooting is True
    assert check_arguments(args) == [(HanFault.EXTRA_FIELDS, {})]
