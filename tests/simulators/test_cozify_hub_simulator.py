"""The Cozify Hub simulator against the contract the client is written for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import errno
from typing import Any

from aiohttp import ClientConnectorError, ClientSession
from freezegun.api import FrozenDateTimeFactory
import jwt
import pytest

from simulators import secrets
from simulators.__main__ import build_parser, control_command, fault_command
from simulators.cozify_hub import CozifyFault, CozifySimulator, cli
from simulators.cozify_hub.home import device_id

EMAIL = "maija@example.com"


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A plain HTTP client session."""
    async with ClientSession() as client:
        yield client


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[CozifySimulator]:
    """Two hubs, a decoy and the cloud on loopback; commands act after 10 ms."""
    simulator = CozifySimulator(EMAIL, command_delay=0.01)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def call(
    session: ClientSession,
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> tuple[int, Any]:
    """Send one request; return the status and the JSON body (text if not JSON)."""
    async with session.request(method, url, headers=headers, **kwargs) as resp:
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.text()


async def login(session: ClientSession, sim: CozifySimulator) -> str:
    """Log in with a mailed code; return the cloud token."""
    await call(session, f"{sim.cloud_url}/user/requestlogin?email={EMAIL}", "POST")
    form = {"email": EMAIL, "password": str(sim.last_code)}
    async with session.post(f"{sim.cloud_url}/user/emaillogin", data=form) as resp:
        assert resp.status == 200
        text = await resp.text()
    assert text[0] == text[-1] == '"'
    return text.strip('"')


async def hub_keys(session: ClientSession, sim: CozifySimulator, token: str) -> Any:
    """GET user/hubkeys; return the answer body."""
    status, keys = await call(
        session, f"{sim.cloud_url}/user/hubkeys", headers={"Authorization": token}
    )
    assert status == 200
    return keys


async def hub_get(
    session: ClientSession, sim: CozifySimulator, path: str, key: str
) -> tuple[int, Any]:
    """GET a hub 0 API path on its LAN listener."""
    return await call(session, f"{sim.hub.url}{path}", headers={"Authorization": key})


async def test_login_codes_and_tokens(
    session: ClientSession, sim: CozifySimulator
) -> None:
    """Form and JSON logins; wrong, used and expired codes are refused."""
    url = sim.cloud_url
    assert await call(session, f"{url}/user/requestlogin", "POST") == (
        400,
        {"error": "email is required"},
    )
    assert await call(
        session, f"{url}/user/requestlogin?email=other@example.com", "POST"
    ) == (200, None)
    assert sim.codes_sent == 0
    codes: list[str] = []
    sim.on_code = codes.append
    token = await login(session, sim)
    assert codes == [sim.last_code]
    assert {EMAIL, token, codes[0]} <= secrets.known()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["email"] == EMAIL
    assert claims["exp"] - claims["iat"] == pytest.approx(28 * 86400, abs=1)
    # a code is single-use
    used = {"email": EMAIL, "password": codes[0]}
    status, _ = await call(session, f"{url}/user/emaillogin", "POST", data=used)
    assert status == 401
    # JSON body, e-mail in another case; an older code stays valid
    await call(session, f"{url}/user/requestlogin?email=MAIJA@example.com", "POST")
    await call(session, f"{url}/user/requestlogin?email={EMAIL}", "POST")
    first, second = codes[1:]
    wrong = {"email": EMAIL, "password": "abcdef"}
    status, text = await call(session, f"{url}/user/emaillogin", "POST", json=wrong)
    assert (status, text) == (401, "Invalid login")
    status, again = await call(
        session,
        f"{url}/user/emaillogin",
        "POST",
        json={"email": EMAIL, "password": first},
    )
    assert status == 200
    assert isinstance(again, str)
    assert again != token
    sim.expire_codes_now()
    status, _ = await call(
        session,
        f"{url}/user/emaillogin",
        "POST",
        data={"email": EMAIL, "password": second},
    )
    assert status == 401


async def test_code_lifetime(
    freezer: FrozenDateTimeFactory, session: ClientSession, socket_enabled: None
) -> None:
    """A code older than code_lifetime is refused."""
    sim = CozifySimulator(EMAIL, hubs=1, code_lifetime=60)
    await sim.start()
    try:
        await call(session, f"{sim.cloud_url}/user/requestlogin?email={EMAIL}", "POST")
        freezer.tick(61)
        form = {"email": EMAIL, "password": str(sim.last_code)}
        status, text = await call(
            session, f"{sim.cloud_url}/user/emaillogin", "POST", data=form
        )
        assert (status, text) == (401, "Code expired")
    finally:
        await sim.stop()


async def test_hubkeys_refresh_logout(
    session: ClientSession, sim: CozifySimulator
) -> None:
    """Hub keys for every hub, fresh each call; refresh, logout, revocation."""
    token = await login(session, sim)
    keys = await hub_keys(session, sim, token)
    assert list(keys) == [hub.hub_id for hub in sim.hubs]
    claims = jwt.decode(keys[sim.hub.hub_id], options={"verify_signature": False})
    assert (claims["hub_id"], claims["hub_name"], claims["role"]) == (
        sim.hub.hub_id,
        "Koti",
        32,
    )
    assert claims["exp"] - claims["iat"] == pytest.approx(7 * 86400, abs=1)
    assert set(keys.values()) <= secrets.known()
    assert (await hub_keys(session, sim, token)) != keys
    url = f"{sim.cloud_url}/user/hubkeys"
    for bad in (f"Bearer {token}", "nonsense", ""):
        assert (await call(session, url, headers={"Authorization": bad}))[0] == 401
    for method in ("GET", "POST"):
        status, fresh = await call(
            session,
            f"{sim.cloud_url}/user/refreshsession",
            method,
            headers={"Authorization": token},
        )
        assert status == 200
        assert fresh != token
    status, _ = await call(
        session, f"{sim.cloud_url}/user/logout", "PUT", headers={"Authorization": token}
    )
    assert status == 200
    assert (await call(session, url, headers={"Authorization": token}))[0] == 401
    sim.expire_cloud_tokens_now()
    status, _ = await call(
        session,
        f"{sim.cloud_url}/user/refreshsession",
        headers={"Authorization": fresh},
    )
    assert status == 401


async def test_lan_ip_forms_and_decoy(
    session: ClientSession, socket_enabled: None
) -> None:
    """lan_ip lists the decoy and the chosen hubs, as URLs or bare addresses."""
    sim = CozifySimulator(EMAIL, lan_hubs=(0, 1))
    bare = CozifySimulator(EMAIL, hubs=1, lan_ip_form="bare", lan_decoy=False)
    await sim.start()
    await bare.start()
    try:
        assert sim.decoy is not None
        status, listed = await call(session, f"{sim.cloud_url}/hub/lan_ip")
        assert (status, listed) == (
            200,
            [sim.decoy.url, sim.hubs[0].url, sim.hubs[1].url],
        )
        metas = [(await call(session, f"{url}/hub"))[1] for url in listed]
        assert [meta["type"] for meta in metas] == [
            "HAN_META_DATA",
            "HUB_META_DATA",
            "HUB_META_DATA",
        ]
        assert metas[1] == {
            "type": "HUB_META_DATA",
            "hubId": sim.hub.hub_id,
            "name": "Koti",
            "version": "1.14.9.124",
            "connected": True,
            "features": metas[1]["features"],
            "state": "claimed",
        }
        assert metas[2]["name"] == "Mökki"
        assert await call(session, f"{bare.cloud_url}/hub/lan_ip") == (
            200,
            ["127.0.0.1"],
        )
    finally:
        await sim.stop()
        await bare.stop()


async def test_hub_api_and_auth(session: ClientSession, sim: CozifySimulator) -> None:
    """Versioned calls need this hub's key (no Bearer); others get 401/404/410."""
    keys = await hub_keys(session, sim, await login(session, sim))
    key, other = keys[sim.hubs[0].hub_id], keys[sim.hubs[1].hub_id]
    assert await hub_get(session, sim, "/cc/1.14/hub/tz", key) == (
        200,
        "Europe/Helsinki",
    )
    for bad in (f"Bearer {key}", other, "junk"):
        assert (await hub_get(session, sim, "/cc/1.14/hub/tz", bad))[0] == 401
    assert (await hub_get(session, sim, "/cc/1.14/nothing", key))[0] == 404
    assert (await hub_get(session, sim, "/cc/1.8/devices", "junk"))[0] == 410
    status, devices = await hub_get(session, sim, "/cc/1.14/devices", key)
    assert status == 200
    assert devices == sim.hub.devices
    status, rooms = await hub_get(session, sim, "/cc/1.14/rooms", key)
    assert sorted(room["name"] for room in rooms.values()) == [
        "Eteinen",
        "Keittiö",
        "Kylpyhuone",
        "Makuuhuone",
        "Olohuone",
    ]
    status, scenes = await hub_get(session, sim, "/cc/1.14/scenes", key)
    assert {scene["name"]: scene["isOn"] for scene in scenes.values()} == {
        "Ilta": False,
        "Poissa": False,
        "Elokuvailta": False,
    }
    ilta = next(i for i, scene in scenes.items() if scene["name"] == "Ilta")
    status, _ = await call(
        session,
        f"{sim.hub.url}/cc/1.14/scenes/command",
        "PUT",
        headers={"Authorization": key},
        json=[{"id": ilta, "type": "CMD_SCENE_ON"}],
    )
    assert status == 200
    assert sim.hub.scenes[ilta]["isOn"] is True
    assert sim.hub.requests["GET /cc/{v}/hub/tz"] == 4
    # the raw bytes are UTF-8, not \u escapes
    async with session.get(f"{sim.hubs[1].url}/hub") as resp:
        assert "Mökki".encode() in await resp.read()


async def test_home_contents(sim: CozifySimulator) -> None:
    """Every kind of device is in Koti; Mökki has three."""
    records = sim.hub.devices.values()
    capabilities = set().union(*(r["capabilities"]["values"] for r in records))
    assert {
        "ON_OFF", "BRIGHTNESS", "COLOR_TEMP", "COLOR_HS", "ACTIVE_POWER", "MEASURE_POWER",
        "TEMPERATURE", "HUMIDITY", "BATTERY_U", "MOTION", "LUX", "CONTACT", "SMOKE",
        "MOISTURE", "CO", "CO2", "TWILIGHT", "ENERGY_SAVING_MODE", "DEVICE",
    } <= capabilities  # fmt: skip
    assert all("DEVICE" in r["capabilities"]["values"] for r in records)
    assert [r["name"] for r in records if not r["state"]["reachable"]] == [
        "Yöpöydän valo"
    ]
    assert "STATE_THERMOSTAT" in {r["state"]["type"] for r in records}
    assert sorted(r["name"] for r in sim.hubs[1].devices.values()) == [
        "Lämpöpatteri",
        "Mökin lämpötila",
        "Terassin valo",
    ]
    assert device_id(0, 1) in sim.hub.devices


async def test_poll_full_delta_and_removal(
    session: ClientSession, sim: CozifySimulator
) -> None:
    """ts=0 is full; then only changes, null for removed devices, unknown types."""
    key = (await hub_keys(session, sim, await login(session, sim)))[sim.hub.hub_id]
    status, first = await hub_get(session, sim, "/cc/1.14/hub/poll?ts=0", key)
    assert status == 200
    assert first["type"] == "POLL_DELTA"
    assert first["full"] is True
    deltas = {poll["type"]: poll for poll in first["polls"]}
    assert deltas["DEVICE_DELTA"]["devices"] == sim.hub.devices
    assert set(deltas) == {"DEVICE_DELTA", "ROOM_DELTA", "SCENE_DELTA", "ALARM_DELTA"}
    ts = first["timestamp"]
    status, quiet = await hub_get(session, sim, f"/cc/1.14/hub/poll?ts={ts}", key)
    assert quiet["full"] is False
    assert quiet["polls"] == [{"type": "ALARM_DELTA", "alarms": {}}]
    socket = sim.hub.device_named("Kahvinkeitin")
    gone = sim.hub.device_named("Joulukuusi")
    stamp = sim.hub.change(socket, activePower=15.5)
    assert stamp > quiet["timestamp"]
    sim.hub.remove_device(gone)
    room = next(iter(sim.hub.rooms))
    sim.hub.set_room(room, "Tupa")
    status, delta = await hub_get(
        session, sim, f"/cc/1.14/hub/poll?ts={quiet['timestamp']}", key
    )
    assert delta["full"] is False
    assert delta["polls"][0] == {
        "type": "DEVICE_DELTA",
        "devices": {socket: sim.hub.devices[socket], gone: None},
    }
    assert delta["polls"][1]["rooms"] == {room: sim.hub.rooms[room]}
    assert sim.hub.devices[socket]["state"]["activePower"] == 15.5
    assert sim.hub.devices[socket]["timestamp"] == stamp
    # adding it back makes the record show up again
    record = {**first["polls"][0]["devices"][gone]}
    sim.hub.add_device(record)
    status, back = await hub_get(
        session, sim, f"/cc/1.14/hub/poll?ts={delta['timestamp']}", key
    )
    assert list(back["polls"][0]["devices"]) == [gone]
    # a timestamp from the future is answered with everything
    status, future = await hub_get(
        session, sim, f"/cc/1.14/hub/poll?ts={back['timestamp'] + 10**9}", key
    )
    assert future["full"] is True


async def test_poll_under_frozen_clock(
    freezer: FrozenDateTimeFactory, session: ClientSession, socket_enabled: None
) -> None:
    """The hub clock moves on under a frozen clock; old ts give a full poll."""
    freezer.move_to("2026-01-15 12:00:00")
    sim = CozifySimulator(EMAIL, hubs=1, extra_delta=False, poll_as_list=False)
    await sim.start()
    try:
        key = (await hub_keys(session, sim, await login(session, sim)))[sim.hub.hub_id]
        _, first = await hub_get(session, sim, "/cc/1.14/hub/poll", key)
        assert first["full"] is True
        device = sim.hub.device_named("Ulko-ovi")
        sim.hub.change(device, open=True)
        _, delta = await hub_get(
            session, sim, f"/cc/1.14/hub/poll?ts={first['timestamp']}", key
        )
        assert delta["timestamp"] > first["timestamp"]
        assert delta["polls"] == [
            {"type": "DEVICE_DELTA", "devices": {device: sim.hub.devices[device]}}
        ]
        freezer.tick(601)
        _, late = await hub_get(
            session, sim, f"/cc/1.14/hub/poll?ts={delta['timestamp']}", key
        )
        assert late["full"] is True
        sim.hub.poll_as_list = True
        status, listed = await hub_get(session, sim, "/cc/1.14/hub/poll?ts=0", key)
        assert status == 200
        assert isinstance(listed, list)
        assert listed[0]["type"] == "DEVICE_DELTA"
    finally:
        await sim.stop()


async def test_key_expiry_and_hubkeys_again(
    freezer: FrozenDateTimeFactory, session: ClientSession, socket_enabled: None
) -> None:
    """An expired hub key gets 401 (LAN and relay); hubkeys hands out a new one."""
    sim = CozifySimulator(EMAIL, hubs=1, hub_key_lifetime=3600)
    await sim.start()
    try:
        token = await login(session, sim)
        key = (await hub_keys(session, sim, token))[sim.hub.hub_id]
        freezer.tick(3601)
        assert (await hub_get(session, sim, "/cc/1.14/hub/tz", key))[0] == 401
        relay = f"{sim.cloud_url}/hub/remote/cc/1.14/hub/tz"
        headers = {"Authorization": token, "X-Hub-Key": key}
        assert (await call(session, relay, headers=headers))[0] == 401
        key = (await hub_keys(session, sim, token))[sim.hub.hub_id]
        assert (await hub_get(session, sim, "/cc/1.14/hub/tz", key))[0] == 200
        sim.hub.expire_keys_now()
        assert (await hub_get(session, sim, "/cc/1.14/hub/tz", key))[0] == 401
    finally:
        await sim.stop()


async def test_relay(session: ClientSession, sim: CozifySimulator) -> None:
    """The relay forwards to the key's hub, also while its LAN listener is off."""
    token = await login(session, sim)
    keys = await hub_keys(session, sim, token)
    remote = f"{sim.cloud_url}/hub/remote"

    def headers(hub: int) -> dict[str, str]:
        return {"Authorization": token, "X-Hub-Key": keys[sim.hubs[hub].hub_id]}

    assert (await call(session, f"{remote}/hub", headers=headers(1)))[1][
        "name"
    ] == "Mökki"
    await sim.hub.go_offline()
    with pytest.raises(ClientConnectorError) as caught:
        await call(session, f"{sim.hub.url}/hub")
    assert caught.value.os_error.errno == errno.ECONNREFUSED
    status, poll = await call(
        session, f"{remote}/cc/1.14/hub/poll?ts=0", headers=headers(0)
    )
    assert (status, poll["full"]) == (200, True)
    assert sim.cloud.requests["GET /hub/remote/cc/{v}/hub/poll"] == 1
    assert sim.hub.requests["GET /cc/{v}/hub/poll"] == 0
    status, _ = await call(
        session,
        f"{remote}/cc/1.14/hub/tz",
        headers={**headers(0), "Authorization": "x"},
    )
    assert status == 401
    status, _ = await call(
        session, f"{remote}/cc/1.14/hub/tz", headers={**headers(0), "X-Hub-Key": "x"}
    )
    assert status == 401
    sim.set_fault(CozifyFault.RELAY_REFUSED)
    assert await call(session, f"{remote}/cc/1.14/hub/tz", headers=headers(0)) == (
        403,
        {"message": "remote access requires a subscription"},
    )
    sim.clear_fault("relay_refused")
    await sim.hub.come_back()
    sim.hub.update_software()
    assert (await call(session, f"{remote}/cc/1.14/hub/tz", headers=headers(0)))[
        0
    ] == 410
    assert (await hub_get(session, sim, "/cc/1.14/hub/tz", keys[sim.hub.hub_id]))[
        0
    ] == 410
    status, meta = await call(session, f"{remote}/hub", headers=headers(0))
    assert meta["version"] == "1.15.0.3"
    status, tz = await call(session, f"{remote}/cc/1.15/hub/tz", headers=headers(0))
    assert (status, tz) == (200, "Europe/Helsinki")


async def test_commands_apply_later(
    session: ClientSession, sim: CozifySimulator
) -> None:
    """A command answers [] at once; the device changes a moment later."""
    key = (await hub_keys(session, sim, await login(session, sim)))[sim.hub.hub_id]
    light = sim.hub.device_named("Olohuoneen värivalo")
    socket = sim.hub.device_named("Kahvinkeitin")
    commands = [
        {"id": socket, "type": "CMD_DEVICE_OFF"},
        {
            "id": light,
            "type": "CMD_DEVICE",
            "state": {"type": "STATE_LIGHT", "temperature": 9000, "brightness": None,
                      "transitionMsec": 400},
        },
    ]  # fmt: skip
    url = f"{sim.hub.url}/cc/1.14/devices/command"
    auth = {"Authorization": key}
    assert await call(session, url, "PUT", headers=auth, json=commands) == (200, [])
    assert sim.hub.devices[socket]["state"]["isOn"] is True
    await asyncio.sleep(0.05)
    socket_state = sim.hub.devices[socket]["state"]
    assert (socket_state["isOn"], socket_state["activePower"]) == (False, 0.0)
    light_state = sim.hub.devices[light]["state"]
    assert light_state["colorMode"] == "ct"
    assert light_state["temperature"] == light_state["maxTemperature"]
    assert (light_state["hue"], light_state["brightness"]) == (-1, 0.62)
    assert "transitionMsec" not in light_state or light_state["transitionMsec"] is None
    assert sim.hub.commands == commands
    bad = [{"id": socket, "type": "CMD_EXPLODE"}]
    assert (await call(session, url, "PUT", headers=auth, json=bad))[0] == 400


async def test_faults_and_control(session: ClientSession, sim: CozifySimulator) -> None:
    """Shared faults on cloud and hubs; the command line reaches them."""
    token = await login(session, sim)
    key = (await hub_keys(session, sim, token))[sim.hub.hub_id]
    sim.set_fault("http_error", status=500, path="/cc/1.14/devices")
    assert (await hub_get(session, sim, "/cc/1.14/devices", key))[0] == 500
    assert (await hub_get(session, sim, "/cc/1.14/rooms", key))[0] == 200
    sim.set_fault("http_error", status=502, path="/user/hubkeys")
    status, _ = await call(
        session, f"{sim.cloud_url}/user/hubkeys", headers={"Authorization": token}
    )
    assert status == 502
    sim.clear_faults()
    sim.set_fault(CozifyFault.GLITCH_COUNTER, mode="zero")
    _, poll = await hub_get(session, sim, "/cc/1.14/hub/poll?ts=0", key)
    assert poll["timestamp"] == 0
    sim.set_fault(CozifyFault.UNAUTHORIZED_ONCE)
    assert (await hub_get(session, sim, "/cc/1.14/hub/tz", key))[0] == 401
    assert (await hub_get(session, sim, "/cc/1.14/hub/tz", key))[0] == 200
    sim.set_fault(CozifyFault.MALFORMED_JSON)
    async with session.get(
        f"{sim.hub.url}/cc/1.14/devices", headers={"Authorization": key}
    ) as resp:
        with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
            await resp.json()
    sim.set_fault(CozifyFault.EXTRA_FIELDS)
    sim.clear_fault(CozifyFault.MALFORMED_JSON)
    _, devices = await hub_get(session, sim, "/cc/1.14/devices", key)
    assert all("zigbee" in record for record in devices.values())
    sim.set_fault(CozifyFault.LAN_UNREACHABLE)
    assert not sim.hub.online
    sim.clear_fault(CozifyFault.LAN_UNREACHABLE)
    assert sim.hub.online
    sim.clear_faults()
    # command line: set cloud_down through the hub, clear it through the decoy
    args = build_parser().parse_args(["fault", "--url", sim.hub.url, "cloud_down"])
    assert await asyncio.to_thread(fault_command, args) == 0
    assert not sim.cloud.online
    assert sim.decoy is not None
    args = build_parser().parse_args(["fault", "--url", sim.decoy.url, "--clear"])
    assert await asyncio.to_thread(fault_command, args) == 0
    assert sim.cloud.online
    assert sim.faults == {}
    args = build_parser().parse_args(["control", "--url", sim.hub.url, "tokens/expire"])
    assert await asyncio.to_thread(control_command, args) == 0
    assert (await hub_get(session, sim, "/cc/1.14/hub/tz", key))[0] == 401
    with pytest.raises(ValueError, match="unknown fault"):
        sim.set_fault("no_such_fault")


async def test_states_drift(socket_enabled: None) -> None:
    """With change_interval the hubs change some states every interval."""
    sim = CozifySimulator(EMAIL, change_interval=0.01)
    await sim.start()
    try:
        before = {key: dict(r["state"]) for key, r in sim.hub.devices.items()}
        await asyncio.sleep(0.1)
        after = {key: r["state"] for key, r in sim.hub.devices.items()}
        assert before != after
        unreachable = sim.hub.device_named("Yöpöydän valo")
        assert before[unreachable] == after[unreachable]
    finally:
        await sim.stop()


def test_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    """The sub-command's options reach the simulator; codes go to stdout."""
    args = build_parser().parse_args(
        ["cozify_hub", "--cloud-port", "0", "--hub-port", "0", "--hubs", "1",
         "--change-interval", "0", "--lan-ip-form", "bare", "--email", "a@b.fi",
         "--fault", "relay_refused", "--fault", "slow_response:seconds=1",
         "--fault", "command_refused:status=409", "--fault", "slow_command",
         "--strict-commands"]
    )  # fmt: skip
    assert cli.check_arguments(args) == [
        (CozifyFault.RELAY_REFUSED, {}),
        (CozifyFault.SLOW_RESPONSE, {"seconds": 1.0}),
        (CozifyFault.COMMAND_REFUSED, {"status": 409, "reason": "device busy"}),
        (CozifyFault.SLOW_COMMAND, {"seconds": 3.0}),
    ]
    sim = cli.simulator_from(args)
    assert sim.strict_commands is True
    assert (len(sim.hubs), sim.change_interval, sim.cloud.lan_ip_form) == (
        1,
        None,
        "bare",
    )
    assert sim.on_code is not None
    sim.on_code("123456")
    assert capsys.readouterr().out == "Cozify code for a@b.fi: 123456\n"
    defaults = build_parser().parse_args(["cozify_hub"])
    assert (defaults.cloud_port, defaults.hub_port, defaults.change_interval) == (
        8447,
        8893,
        5.0,
    )
    with pytest.raises(ValueError, match="--hubs"):
        cli.check_arguments(build_parser().parse_args(["cozify_hub", "--hubs", "0"]))


async def put(
    session: ClientSession, url: str, key: str, commands: list[dict[str, Any]]
) -> tuple[int, Any]:
    """PUT a command list to a hub URL (``.../devices/command`` or scenes)."""
    return await call(
        session, url, "PUT", headers={"Authorization": key}, json=commands
    )


async def poll_deltas(
    session: ClientSession, sim: CozifySimulator, key: str, ts: int
) -> tuple[int, dict[str, Any]]:
    """Poll hub 0 since ``ts``; return the new timestamp and the deltas by type."""
    _, poll = await hub_get(session, sim, f"/cc/1.14/hub/poll?ts={ts}", key)
    return poll["timestamp"], {delta["type"]: delta for delta in poll["polls"]}


async def settle(sim: CozifySimulator) -> None:
    """Wait until every accepted command has acted (and a little more)."""
    for _ in range(400):
        if not any(hub.pending for hub in sim.hubs):
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.01)


async def test_command_faults(session: ClientSession, sim: CozifySimulator) -> None:
    """command_refused answers 4xx with a reason (LAN and relay); slow_command waits."""
    token = await login(session, sim)
    key = (await hub_keys(session, sim, token))[sim.hub.hub_id]
    devices = f"{sim.hub.url}/cc/1.14/devices/command"
    scenes = f"{sim.hub.url}/cc/1.14/scenes/command"
    socket = sim.hub.device_named("Kahvinkeitin")
    off = [{"id": socket, "type": "CMD_DEVICE_OFF"}]
    ilta = [{"id": sim.hub.scene_named("Ilta"), "type": "CMD_SCENE_ON"}]
    sim.set_fault(CozifyFault.COMMAND_REFUSED)
    assert sim.faults == {"command_refused": {"status": 400, "reason": "device busy"}}
    assert await put(session, devices, key, off) == (400, {"message": "device busy"})
    assert await put(session, scenes, key, ilta) == (400, {"message": "device busy"})
    # through the relay the hub's answer is passed on
    sim.set_fault("command_refused", status=409, reason="zigbee network busy")
    relay = f"{sim.cloud_url}/hub/remote/cc/1.14/devices/command"
    headers = {"Authorization": token, "X-Hub-Key": key}
    assert await call(session, relay, "PUT", headers=headers, json=off) == (
        409,
        {"message": "zigbee network busy"},
    )
    await settle(sim)
    assert sim.hub.devices[socket]["state"]["isOn"] is True
    assert not any(scene["isOn"] for scene in sim.hub.scenes.values())
    assert sim.hub.commands == [*off, *ilta, *off]  # received, refused
    # relay_refused also refuses PUT calls
    sim.clear_fault(CozifyFault.COMMAND_REFUSED)
    sim.set_fault(CozifyFault.RELAY_REFUSED)
    status, _ = await call(session, relay, "PUT", headers=headers, json=off)
    assert status == 403
    sim.clear_faults()
    for params, message in (
        ({"status": 503}, "between 400 and 499"),
        ({"reason": ""}, "reason"),
        ({"colour": 1}, "takes no parameter"),
    ):
        with pytest.raises(ValueError, match=message):
            sim.set_fault("command_refused", **params)
    sim.set_fault(CozifyFault.SLOW_COMMAND)
    assert sim.faults == {"slow_command": {"seconds": 3.0}}
    sim.set_fault(CozifyFault.SLOW_COMMAND, seconds=0.15)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await put(session, devices, key, off) == (200, [])
    assert loop.time() - started >= 0.15
    assert sim.hub.devices[socket]["state"]["isOn"] is True  # command_delay later
    assert sim.hub.pending == 1
    await settle(sim)
    assert sim.hub.devices[socket]["state"]["isOn"] is False
    # relayed while the LAN listener is off: still slow, still applied
    await sim.hub.go_offline()
    sim.set_fault(CozifyFault.SLOW_COMMAND, seconds=0.05)
    on = [{"id": socket, "type": "CMD_DEVICE_ON"}]
    started = loop.time()
    assert await call(session, relay, "PUT", headers=headers, json=on) == (200, [])
    assert loop.time() - started >= 0.05
    await settle(sim)
    assert sim.hub.devices[socket]["state"]["isOn"] is True
    await sim.hub.come_back()
    # the command line reaches the new faults
    args = build_parser().parse_args(
        ["fault", "--url", sim.hub.url, "command_refused", "--param", "status=422"]
    )
    assert await asyncio.to_thread(fault_command, args) == 0
    assert sim.faults["command_refused"] == {"status": 422, "reason": "device busy"}


async def test_device_command_semantics(
    session: ClientSession, sim: CozifySimulator
) -> None:
    """Partial states; read-only keys ignored (strict: refused); 404 and 400 answers."""
    key = (await hub_keys(session, sim, await login(session, sim)))[sim.hub.hub_id]
    url = f"{sim.hub.url}/cc/1.14/devices/command"
    ct = sim.hub.device_named("Olohuoneen kattovalo")
    before = dict(sim.hub.devices[ct]["state"])
    ask = {
        "type": "STATE_LIGHT", "brightness": 0.4, "isOn": None, "lastSeen": 1,
        "reachable": False, "minTemperature": 1000.0, "hue": 2.0, "transitionMsec": 800,
    }  # fmt: skip
    command = {"id": ct, "type": "CMD_DEVICE", "state": ask}
    assert await put(session, url, key, [command]) == (200, [])
    await settle(sim)
    state = sim.hub.devices[ct]["state"]
    assert state["brightness"] == 0.4
    # null, read-only and unsupported keys (a CT-only light has no hue) unchanged
    for same in ("isOn", "reachable", "minTemperature", "hue", "colorMode"):
        assert state[same] == before[same], same
    assert state["lastSeen"] > before["lastSeen"]  # just seen, not 1
    assert state["transitionMsec"] is None  # write-only: never stored
    assert sim.hub.commands[-1]["state"]["transitionMsec"] == 800
    assert sim.hub.transitions == [(ct, 800)]
    # unknown device, wrong state type, wrong value kind
    unknown = {"id": "nope", "type": "CMD_DEVICE_ON"}
    assert await put(session, url, key, [unknown]) == (
        404,
        {"message": "unknown device"},
    )
    socket_state = {"type": "STATE_SOCKET", "isOn": False}
    status, body = await put(
        session, url, key, [{"id": ct, "type": "CMD_DEVICE", "state": socket_state}]
    )
    assert status == 400
    assert "STATE_SOCKET" in body["message"]
    status, body = await put(
        session,
        url,
        key,
        [{"id": ct, "type": "CMD_DEVICE", "state": {"brightness": "high"}}],
    )
    assert (status, body) == (400, {"message": "brightness must be a number"})
    # strict: read-only and unsupported keys refused, the whole list unapplied
    sim.strict_commands = True
    assert sim.hub.strict_commands
    assert sim.hubs[1].strict_commands
    socket = sim.hub.device_named("Kahvinkeitin")
    refused = [
        {"id": socket, "type": "CMD_DEVICE_OFF"},
        {"id": ct, "type": "CMD_DEVICE", "state": {"lastSeen": 5, "isOn": False}},
    ]
    assert await put(session, url, key, refused) == (
        400,
        {"message": "read-only key: lastSeen"},
    )
    hue = [{"id": ct, "type": "CMD_DEVICE", "state": {"hue": 1.0}}]
    assert await put(session, url, key, hue) == (
        400,
        {"message": "unsupported key: hue"},
    )
    await settle(sim)
    assert sim.hub.devices[socket]["state"]["isOn"] is True
    assert sim.hub.transitions == [(ct, 800)]
    # an unreachable device accepts the command but does not change
    asleep = sim.hub.device_named("Yöpöydän valo")
    assert await put(session, url, key, [{"id": asleep, "type": "CMD_DEVICE_ON"}]) == (
        200,
        [],
    )
    await settle(sim)
    assert sim.hub.devices[asleep]["state"]["isOn"] is False
    strict = CozifySimulator(EMAIL, hubs=1, strict_commands=True)
    assert strict.hub.strict_commands


async def test_thermostat_target(session: ClientSession, sim: CozifySimulator) -> None:
    """targetTemp (or targetTemperature) is clamped; the room and demand follow."""
    key = (await hub_keys(session, sim, await login(session, sim)))[sim.hub.hub_id]
    url = f"{sim.hub.url}/cc/1.14/devices/command"
    trv = sim.hub.device_named("Makuuhuoneen termostaatti")
    state = sim.hub.devices[trv]["state"]

    async def target(value: float, name: str = "targetTemp") -> None:
        thermostat = {"type": "STATE_THERMOSTAT", name: value}
        command = {"id": trv, "type": "CMD_DEVICE", "state": thermostat}
        assert await put(session, url, key, [command]) == (200, [])
        await settle(sim)

    await target(35)
    assert state["targetTemp"] == 30.0
    await target(3, "targetTemperature")
    assert state["targetTemp"] == 5.0
    assert "targetTemperature" not in state
    assert state["heatingDemand"] == 0.0
    await target(24.5)
    assert state["targetTemp"] == 24.5
    assert state["heatingDemand"] > 0
    start = state["temperature"]
    for _ in range(6):
        sim.hub.drift()
        if state["temperature"] < state["targetTemp"]:
            assert state["heatingDemand"] > 0
    assert state["temperature"] > start + 2
    await target(5)
    for _ in range(3):
        sim.hub.drift()
        assert state["heatingDemand"] == 0.0
    assert state["temperature"] < 22


async def test_scenes_apply_states(
    session: ClientSession, sim: CozifySimulator
) -> None:
    """A scene sets its devices (polls show them), one scene on at a time."""
    key = (await hub_keys(session, sim, await login(session, sim)))[sim.hub.hub_id]
    url = f"{sim.hub.url}/cc/1.14/scenes/command"
    hub = sim.hub
    ilta, poissa, elokuva = (
        hub.scene_named(name) for name in ("Ilta", "Poissa", "Elokuvailta")
    )
    ct, hs, tree = (
        hub.device_named(name)
        for name in ("Olohuoneen kattovalo", "Olohuoneen värivalo", "Joulukuusi")
    )
    hall, asleep = hub.device_named("Eteisen valo"), hub.device_named("Yöpöydän valo")
    ts, _ = await poll_deltas(session, sim, key, 0)
    assert await put(session, url, key, [{"id": ilta, "type": "CMD_SCENE_ON"}]) == (
        200,
        [],
    )
    assert hub.scenes[ilta]["isOn"] is True
    await settle(sim)
    for light in (ct, hs):
        state = hub.devices[light]["state"]
        assert (state["isOn"], state["brightness"]) == (True, 0.3)
        assert (state["colorMode"], state["temperature"]) == ("ct", 2700.0)
    ts, deltas = await poll_deltas(session, sim, key, ts)
    assert deltas["SCENE_DELTA"]["scenes"] == {ilta: hub.scenes[ilta]}
    assert set(deltas["DEVICE_DELTA"]["devices"]) == {ct, hs}
    # another scene turns the first off
    await put(session, url, key, [{"id": elokuva, "type": "CMD_SCENE_ON"}])
    assert (hub.scenes[ilta]["isOn"], hub.scenes[elokuva]["isOn"]) == (False, True)
    await settle(sim)
    colour = hub.devices[hs]["state"]
    assert colour["colorMode"] == "hs"
    assert colour["hue"] == pytest.approx(4.1888)
    assert (colour["saturation"], colour["temperature"]) == (1.0, -1)
    assert hub.devices[ct]["state"]["isOn"] is False
    assert hub.devices[hall]["state"]["isOn"] is False
    ts, deltas = await poll_deltas(session, sim, key, ts)
    assert set(deltas["SCENE_DELTA"]["scenes"]) == {ilta, elokuva}
    assert {ct, hs, hall} <= set(deltas["DEVICE_DELTA"]["devices"])
    assert asleep not in deltas["DEVICE_DELTA"]["devices"]  # unreachable
    # Poissa: every light and the Christmas tree off
    hub.change(tree, isOn=True)
    await put(session, url, key, [{"id": poissa, "type": "CMD_SCENE_ON"}])
    await settle(sim)
    assert hub.devices[tree]["state"]["isOn"] is False
    assert hub.devices[hs]["state"]["isOn"] is False
    # off: only the scene's isOn
    hub.change(tree, isOn=True)
    await put(session, url, key, [{"id": poissa, "type": "CMD_SCENE_OFF"}])
    await settle(sim)
    assert not any(scene["isOn"] for scene in hub.scenes.values())
    assert hub.devices[tree]["state"]["isOn"] is True
    assert await put(session, url, key, [{"id": "nope", "type": "CMD_SCENE_ON"}]) == (
        404,
        {"message": "unknown scene"},
    )
    # Mökki's scene; set_scene does what CMD_SCENE_ON does
    cottage = sim.hubs[1]
    cottage.change(cottage.device_named("Lämpöpatteri"), isOn=False)
    cottage.set_scene(cottage.scene_named("Saapuminen"), True)
    await settle(sim)
    assert cottage.devices[cottage.device_named("Lämpöpatteri")]["state"]["isOn"]
    assert (
        cottage.devices[cottage.device_named("Terassin valo")]["state"]["brightness"]
        == 1.0
    )
