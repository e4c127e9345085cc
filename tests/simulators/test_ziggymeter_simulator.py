"""The ZiggyMeter simulator against the contract the client is written for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import timedelta
import errno
import json
from pathlib import Path
import re
from typing import Any

from aiohttp import (
    ClientConnectorError,
    ClientError,
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
from simulators.__main__ import build_parser, control_command, fault_command
from simulators.tls import colon_fingerprint
from simulators.ziggymeter import ZiggyFault, ZiggySimulator, cli, ota_image
from simulators.ziggymeter.data import House

from .cli import running_cli

API = "/api/v1/system"
CREDENTIALS = {"username": "admin", "password": "ziggy-password"}
PHASE_KEYS = ("voltage_l{}_v", "current_l{}_a", "power_l{}_w")


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A session that accepts the simulator's self-signed certificate."""
    async with ClientSession() as client:
        yield client


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[ZiggySimulator]:
    """A USB-powered simulator on loopback."""
    simulator = ZiggySimulator(ota_limit=32768, reboot_seconds=0.2)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def login(
    session: ClientSession, sim: ZiggySimulator, path: str = f"{API}/login"
) -> dict[str, str]:
    """Log in and return the Authorization header."""
    async with session.post(f"{sim.url}{path}", json=CREDENTIALS, ssl=False) as resp:
        assert resp.status == 200
        body = await resp.json()
    return {"Authorization": f"Bearer {body['token']}"}


async def get(
    session: ClientSession, sim: ZiggySimulator, path: str, headers: dict[str, str]
) -> tuple[int, Any]:
    """GET a path; return the status and the JSON body."""
    async with session.get(f"{sim.url}{path}", headers=headers, ssl=False) as resp:
        return resp.status, await resp.json(content_type=None)


async def status(session: ClientSession, sim: ZiggySimulator) -> dict[str, Any]:
    """Log in and return the status payload."""
    code, body = await get(session, sim, f"{API}/status", await login(session, sim))
    assert code == 200
    return body


async def assert_refused(session: ClientSession, sim: ZiggySimulator) -> None:
    """A new connection to the simulator is refused."""
    with pytest.raises(ClientConnectorError) as caught:
        async with session.get(f"{sim.url}{API}/version", ssl=False):
            pass
    assert caught.value.os_error.errno == errno.ECONNREFUSED


async def test_login_logout_version(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """Login returns an opaque token; logout ends it; version needs it."""
    pin = Fingerprint(bytes.fromhex(str(sim.certificate_sha256)))
    async with session.post(f"{sim.url}{API}/login", json=CREDENTIALS, ssl=pin) as r:
        body = await r.json()
    assert re.fullmatch(r"[A-Za-z0-9]{40}", body["token"])
    assert body["expires_in_secs"] in (3599, 3600)
    assert {body["token"], "ziggy-password"} <= secrets.known()
    with pytest.raises(ServerFingerprintMismatch):
        async with session.get(f"{sim.url}{API}/version", ssl=Fingerprint(bytes(32))):
            pass
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert await get(session, sim, f"{API}/version", headers) == (
        200,
        {
            "firmware": {
                "version": "1.0.320",
                "date": "Jan  3 2026",
                "time": "11:50:00",
            },
            "frontend": {
                "version": "1.0.320",
                "date": "Jan  3 2026",
                "time": "11:36:31",
            },
            "build_number": 320,
            "upgrade_url": "https://fw.ziggymeter.com/",
        },
    )
    async with session.post(f"{sim.url}{API}/logout", headers=headers, ssl=False) as r:
        assert r.status == 200
        assert await r.read() == b""
    assert (await get(session, sim, f"{API}/version", headers))[0] == 401
    for bad in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic x"}):
        assert await get(session, sim, f"{API}/status", bad) == (
            401,
            {"error": "unauthorized"},
        )
    wrong = {"username": "admin", "password": "nope"}
    async with session.post(f"{sim.url}/login", json=wrong, ssl=False) as r:
        assert r.status == 401
        assert "error" in await r.json()
    for data in (b"{", b"[]", b'{"username": 1}'):
        async with session.post(f"{sim.url}/login", data=data, ssl=False) as r:
            assert r.status == 400
    assert await get(session, sim, "/nothing", {}) == (404, {"error": "Not Found"})
    assert (sim.logins, sim.logouts) == (1, 1)
    assert sim.requests[f"{API}/version"] == 2
    sim.change_password("another-password")
    async with session.post(f"{sim.url}/login", json=CREDENTIALS, ssl=False) as r:
        assert r.status == 401


@pytest.mark.parametrize(
    ("option", "served", "missing"),
    [("api", f"{API}/login", "/login"), ("legacy", "/login", f"{API}/login")],
)
async def test_login_paths(
    session: ClientSession, socket_enabled: None, option: str, served: str, missing: str
) -> None:
    """Only the configured login path answers; the other is 404."""
    sim = ZiggySimulator(login_paths=option)
    await sim.start()
    try:
        async with session.post(
            f"{sim.url}{missing}", json=CREDENTIALS, ssl=False
        ) as r:
            assert r.status == 404
        headers = await login(session, sim, served)
        assert (await get(session, sim, f"{API}/status", headers))[0] == 200
    finally:
        await sim.stop()
    with pytest.raises(ValueError, match="login_paths"):
        ZiggySimulator(login_paths="other")


async def test_token_expiry_follows_the_clock(
    freezer: FrozenDateTimeFactory, session: ClientSession
) -> None:
    """Tokens end after token_lifetime (time.time()); expire_tokens_now ends all."""
    sim = ZiggySimulator(token_lifetime=60)
    await sim.start()
    try:
        async with session.post(f"{sim.url}/login", json=CREDENTIALS, ssl=False) as r:
            assert (await r.json())["expires_in_secs"] == 60
        headers = await login(session, sim)
        freezer.tick(timedelta(seconds=59))
        assert (await get(session, sim, f"{API}/status", headers))[0] == 200
        freezer.tick(timedelta(seconds=2))
        assert (await get(session, sim, f"{API}/status", headers))[0] == 401
        headers = await login(session, sim)
        sim.expire_tokens_now()
        assert (await get(session, sim, f"{API}/status", headers))[0] == 401
        headers = await login(session, sim)
        async with session.post(f"{sim.url}/_sim/tokens/expire", ssl=False) as r:
            assert r.status == 200
        assert (await get(session, sim, f"{API}/status", headers))[0] == 401
    finally:
        await sim.stop()


async def test_status_shape_and_consistency(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """The documented keys, per-phase sums, units in range."""
    body = await status(session, sim)
    assert set(body) == {"battery", "wifi", "uptime_s", "temperature_c", "meter"}
    assert body["battery"] == {"percent": 100, "voltage": 3.2, "source": "usb"}
    assert body["wifi"]["ssid"] == "home-net"
    assert body["wifi"]["ip"] == "192.168.1.77"
    assert -64 <= body["wifi"]["rssi"] <= -58
    assert 0 <= body["uptime_s"] < 5
    assert 23 <= body["temperature_c"] <= 25
    meter = body["meter"]
    phases = [f.format(n) for n in (1, 2, 3) for f in PHASE_KEYS]
    assert set(meter) == {
        "energy_import_kwh",
        "energy_export_kwh",
        "power_w",
        "power_import_w",
        "power_export_w",
        "last_reading",
        *phases,
    }
    assert all(isinstance(meter[key], float) for key in set(meter) - {"last_reading"})
    powers = [meter[f"power_l{n}_w"] for n in (1, 2, 3)]
    assert meter["power_import_w"] == pytest.approx(sum(p for p in powers if p > 0))
    assert meter["power_export_w"] == pytest.approx(-sum(p for p in powers if p < 0))
    assert meter["power_w"] == pytest.approx(sum(powers))
    assert meter["last_reading"] % 10 == 0
    assert meter["energy_import_kwh"] == pytest.approx(sim.energy_import_kwh, abs=1e-3)
    assert meter["energy_export_kwh"] == pytest.approx(sim.energy_export_kwh, abs=1e-3)
    for n in (1, 2, 3):
        assert 225 <= meter[f"voltage_l{n}_v"] <= 235
        expected = abs(meter[f"power_l{n}_w"]) / meter[f"voltage_l{n}_v"]
        assert meter[f"current_l{n}_a"] == pytest.approx(expected, abs=0.02)


def test_house_over_a_day() -> None:
    """Counters grow at every reading; midday exports; night does not."""
    house = House(3)
    start = 1767225600  # a midnight (UTC)
    previous = house.energy(start)
    exported = []
    for moment in range(start + 10, start + 86400 + 10, 10):
        now = house.energy(moment)
        assert now[0] > previous[0]
        assert now[1] >= previous[1]
        reading = house.reading(moment)
        assert reading.net_w == pytest.approx(sum(reading.phases))
        exported.append(reading.export_w > 0)
        previous = now
    assert exported[6 * 360] is False
    assert exported[13 * 360] is True
    assert house.energy(start + 86400)[0] - house.energy(start)[0] == pytest.approx(
        house.day_import_kwh
    )
    assert House(1, solar=False).reading(start + 13 * 3600).export_w == 0
    with pytest.raises(ValueError, match="phases"):
        House(2)


async def test_values_follow_the_clock(
    freezer: FrozenDateTimeFactory, session: ClientSession
) -> None:
    """last_reading steps every 10 s, counters never fall, battery drains."""
    freezer.move_to("2026-01-03 12:00:03")
    sim = ZiggySimulator(power="battery", awake_seconds=1e6)
    await sim.start()
    try:
        headers = await login(session, sim)
        first = (await get(session, sim, f"{API}/status", headers))[1]
        assert first["battery"]["source"] == "battery"
        assert first["battery"]["percent"] == 87
        assert 2.9 <= first["battery"]["voltage"] <= 3.1
        assert first["meter"]["power_export_w"] > 0  # midday
        freezer.tick(timedelta(seconds=5))
        same = (await get(session, sim, f"{API}/status", headers))[1]
        assert same["meter"]["last_reading"] == first["meter"]["last_reading"]
        assert same["uptime_s"] == first["uptime_s"] + 5
        freezer.tick(timedelta(hours=8))
        later = await status(session, sim)
        assert later["meter"]["last_reading"] == first["meter"]["last_reading"] + 28800
        for key in ("energy_import_kwh", "energy_export_kwh"):
            assert later["meter"][key] > first["meter"][key]
        assert later["battery"]["percent"] == 85
        sim.set_power("usb")
        assert (await status(session, sim))["battery"] == {
            "percent": 100,
            "voltage": 3.2,
            "source": "usb",
        }
    finally:
        await sim.stop()


async def test_variants(session: ClientSession, socket_enabled: None) -> None:
    """Single phase without export, extra keys, integers, an identifier."""
    sim = ZiggySimulator(
        phases=1, export=False, extra_keys=True, integers=True, identifier="ZG-0001"
    )
    await sim.start()
    try:
        body = await status(session, sim)
    finally:
        await sim.stop()
    meter = body["meter"]
    assert not [key for key in meter if "_l2_" in key or "_l3_" in key]
    assert "energy_export_kwh" not in meter
    assert "power_export_w" not in meter
    assert {"voltage_l1_v", "current_l1_a", "power_l1_w"} <= set(meter)
    assert meter["power_w"] == meter["power_import_w"] == meter["power_l1_w"]
    for key in ("energy_import_kwh", "voltage_l1_v", "power_w"):
        assert type(meter[key]) is int
    assert type(body["temperature_c"]) is int
    assert body["serial"] == "ZG-0001"
    assert body["fw_crc"] == 12345
    assert body["diag"] == {"resets": 3, "heap_free_b": 41000}
    assert isinstance(meter["frequency_hz"], int)
    assert body["wifi"]["channel"] == 6
    assert isinstance(body["zigbee_enabled"], bool)
    assert isinstance(meter["tariffs"], list)
    assert isinstance(body["wifi"]["bssid"], str)


async def test_status_faults(session: ClientSession, sim: ZiggySimulator) -> None:
    """Every fault that changes the status answer."""
    headers = await login(session, sim)
    path = f"{API}/status"
    good = (await get(session, sim, path, headers))[1]
    sim.set_fault(ZiggyFault.EXTRA_FIELDS)
    extra = (await get(session, sim, path, headers))[1]
    assert extra["fw_crc"] == 12345
    assert "frequency_hz" in extra["meter"]
    sim.set_fault("numbers_as_strings")
    strings = (await get(session, sim, path, headers))[1]
    assert isinstance(strings["meter"]["voltage_l1_v"], str)
    float(strings["meter"]["voltage_l1_v"])
    assert strings["battery"]["source"] == "usb"
    assert isinstance(strings["battery"]["percent"], str)
    assert strings["zigbee_enabled"] is False
    sim.clear_faults()
    sim.set_fault(ZiggyFault.MISSING_FIELD)
    missing = (await get(session, sim, path, headers))[1]
    assert "power_w" not in missing["meter"]
    assert "percent" not in missing["battery"]
    sim.clear_fault(ZiggyFault.MISSING_FIELD)
    sim.set_fault(ZiggyFault.GLITCH_COUNTER, mode="backwards", amount=2)
    for _ in range(2):
        glitched = (await get(session, sim, path, headers))[1]
        assert glitched["meter"]["energy_import_kwh"] == pytest.approx(
            missing["meter"]["energy_import_kwh"] - 2
        )
    sim.set_fault(ZiggyFault.GLITCH_COUNTER)
    assert (await get(session, sim, path, headers))[1]["meter"][
        "energy_import_kwh"
    ] == 0
    sim.clear_faults()
    after = (await get(session, sim, path, headers))[1]
    assert after["meter"]["energy_import_kwh"] >= good["meter"]["energy_import_kwh"]
    sim.set_fault(ZiggyFault.MALFORMED_JSON)
    async with session.get(f"{sim.url}{path}", headers=headers, ssl=False) as r:
        assert r.status == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(await r.text())
    sim.clear_faults()
    sim.set_fault(ZiggyFault.TRUNCATED_BODY)
    with pytest.raises(ClientPayloadError):
        async with session.get(f"{sim.url}{path}", headers=headers, ssl=False) as r:
            await r.read()
    sim.clear_faults()
    with pytest.raises(ValueError, match="takes no parameter"):
        sim.set_fault(ZiggyFault.MISSING_FIELD, x=1)
    with pytest.raises(ValueError, match="mode"):
        sim.set_fault(ZiggyFault.GLITCH_COUNTER, mode="sideways")


async def test_request_faults(session: ClientSession, sim: ZiggySimulator) -> None:
    """http_error, slow_response and unauthorized_once, also via /_sim/fault."""
    headers = await login(session, sim)
    async with session.post(
        f"{sim.url}/_sim/fault/http_error",
        json={"status": 500, "path": f"{API}/status"},
        ssl=False,
    ) as r:
        assert await r.json() == {
            "http_error": {"status": 500, "path": f"{API}/status"}
        }
    assert (await get(session, sim, f"{API}/status", headers))[0] == 500
    assert (await get(session, sim, f"{API}/version", headers))[0] == 200
    async with session.delete(f"{sim.url}/_sim/fault", ssl=False) as r:
        assert await r.json() == {}
    async with session.post(f"{sim.url}/_sim/fault/nope", ssl=False) as r:
        assert r.status == 400
    sim.set_fault(ZiggyFault.SLOW_RESPONSE, seconds=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await get(session, sim, f"{API}/version", headers))[0] == 200
    assert loop.time() - started >= 0.3
    sim.clear_fault("slow_response")
    sim.set_fault(ZiggyFault.UNAUTHORIZED_ONCE)
    assert (await get(session, sim, f"{API}/version", headers))[0] == 401
    assert (await get(session, sim, f"{API}/version", headers))[0] == 200
    assert sim.faults == {}


async def paced(data: bytes, rate: float, block: int = 1024) -> AsyncIterator[bytes]:
    """Yield ``data`` in blocks at ``rate`` bytes/s."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for offset in range(0, len(data), block):
        await asyncio.sleep(max(0.0, start + offset / rate - loop.time()))
        yield data[offset : offset + block]


async def upload(
    session: ClientSession,
    sim: ZiggySimulator,
    headers: dict[str, str],
    body: Any,
    size: int | None,
) -> tuple[int, str]:
    """POST an OTA body; return the status and text."""
    extra = {} if size is None else {"Content-Length": str(size)}
    async with session.post(
        f"{sim.url}{API}/ota",
        data=body,
        headers={**headers, **extra, "Content-Type": "application/octet-stream"},
        ssl=False,
    ) as r:
        return r.status, await r.text()


async def test_ota_paced_upload_reboots_into_new_version(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """Paced at the limit: 200 OK, then a reboot into the image's version."""
    headers = await login(session, sim)
    image = ota_image(321, "1.0.321", 32 * 1024)
    assert image.startswith(b"ZIGGYOTA build=321 version=1.0.321\n")
    assert len(image) == 32 * 1024
    assert image == ota_image(321, "1.0.321", 32 * 1024)
    result = await upload(session, sim, headers, paced(image, 32768), len(image))
    assert result == (200, "OK")
    record = sim.uploads[-1]
    assert record.accepted
    assert record.size == record.content_length == len(image)
    assert record.measured_rate is not None
    assert 20000 < record.measured_rate < 36000
    assert record.ended >= record.started
    await asyncio.sleep(0.55)
    assert sim.rebooting
    await assert_refused(session, sim)
    await asyncio.sleep(0.3)
    assert sim.online
    assert (sim.firmware_version, sim.build_number, sim.boots) == ("1.0.321", 321, 2)
    assert (await get(session, sim, f"{API}/version", headers))[0] == 401
    headers = await login(session, sim)
    _, version = await get(session, sim, f"{API}/version", headers)
    assert version["firmware"]["version"] == "1.0.321"
    assert version["build_number"] == 321
    assert (await status(session, sim))["uptime_s"] < 5
    # an image without the header: the next build
    plain = bytes(3000)
    assert await upload(session, sim, headers, plain, len(plain)) == (200, "OK")
    assert sim.uploads[-1].measured_rate is None
    await asyncio.sleep(0.8)
    assert (sim.firmware_version, sim.build_number) == ("1.0.322", 322)


async def test_ota_refused(session: ClientSession, sim: ZiggySimulator) -> None:
    """A burst is refused at once with 400; no length is 411; ota_refuse is 500."""
    headers = await login(session, sim)
    image = ota_image(400, "1.2.400", 64 * 1024)
    assert await upload(session, sim, headers, image, len(image)) == (
        400,
        "upload rate exceeded",
    )
    record = sim.uploads[-1]
    assert (record.accepted, record.reason) == (False, "rate")

    async def burst_after_pacing() -> AsyncIterator[bytes]:
        async for block in paced(image[:8192], 32768):
            yield block
        yield image[8192:]

    try:
        code, text = await upload(
            session, sim, headers, burst_after_pacing(), len(image)
        )
    except ClientError:  # the server may hang up before the client reads
        code, text = 400, "upload rate exceeded"
    assert (code, text) == (400, "upload rate exceeded")
    assert sim.uploads[-1].reason == "rate"
    assert await upload(session, sim, headers, paced(image[:2048], 1e6), None) == (
        411,
        "length required",
    )
    sim.set_fault(ZiggyFault.OTA_REFUSE)
    code, _ = await upload(session, sim, headers, image[:100], 100)
    assert code == 500
    assert sim.uploads[-1].reason == "ota_refuse"
    assert [u.accepted for u in sim.uploads] == [False] * 4
    assert sim.build_number == 320
    assert (await get(session, sim, f"{API}/ota", {}))[0] in (401, 405)


async def test_battery_duty_cycle_follows_a_frozen_clock(
    freezer: FrozenDateTimeFactory, hass: HomeAssistant, session: ClientSession
) -> None:
    """Awake 20 s, asleep 280 s, driven by loop timers; tokens survive sleep."""
    sim = ZiggySimulator(power="battery")
    await sim.start()
    try:
        headers = await login(session, sim)
        assert sim.awake
        freezer.tick(timedelta(seconds=21))
        async_fire_time_changed(hass)
        assert not sim.awake
        assert not sim.online
        await assert_refused(session, sim)
        freezer.tick(timedelta(seconds=281))
        async_fire_time_changed(hass)
        assert sim.awake
        _, body = await get(session, sim, f"{API}/status", headers)
        assert body["uptime_s"] >= 300
        assert sim.boots == 1
        sim.sleep_now()
        await assert_refused(session, sim)
        sim.wake_now()
        assert (await get(session, sim, f"{API}/status", headers))[0] == 200
        sim.set_power("usb")
        freezer.tick(timedelta(seconds=600))
        async_fire_time_changed(hass)
        assert sim.awake
        assert (await get(session, sim, f"{API}/status", headers))[0] == 200
        # on USB sleep_now lasts until wake_now (or the given seconds)
        sim.sleep_now(seconds=30)
        freezer.tick(timedelta(seconds=31))
        async_fire_time_changed(hass)
        assert sim.awake
        sim.sleep_now()
        await sim.come_back()  # only wakes: no new boot
        assert sim.boots == 1
        assert (await get(session, sim, f"{API}/status", headers))[0] == 200
        with pytest.raises(ValueError, match="power"):
            sim.set_power("mains")
    finally:
        await sim.stop()


async def test_offline_reboot_and_controls(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """go_offline/come_back and reboot drop tokens; /_sim controls answer first."""
    headers = await login(session, sim)
    await sim.go_offline()
    assert not sim.online
    await assert_refused(session, sim)
    sim.sleep_now()  # ignored while unplugged
    await sim.come_back()
    assert sim.boots == 2
    assert (await get(session, sim, f"{API}/status", headers))[0] == 401
    headers = await login(session, sim)
    sim.reboot(0.2)
    await assert_refused(session, sim)
    await asyncio.sleep(0.4)
    assert sim.boots == 3
    assert (await get(session, sim, f"{API}/status", headers))[0] == 401
    headers = await login(session, sim)
    async with session.post(f"{sim.url}/_sim/sleep?seconds=0.2", ssl=False) as r:
        assert await r.json() == {"asleep": True, "seconds": 0.2}
    await assert_refused(session, sim)
    await asyncio.sleep(0.4)
    assert (await get(session, sim, f"{API}/status", headers))[0] == 200
    async with session.post(f"{sim.url}/_sim/power?source=battery", ssl=False) as r:
        assert await r.json() == {"power": "battery", "awake": True}
    async with session.post(f"{sim.url}/_sim/power?source=x", ssl=False) as r:
        assert r.status == 400
    async with session.post(f"{sim.url}/_sim/wake", ssl=False) as r:
        assert (await r.json())["awake"] is True
    async with session.post(f"{sim.url}/_sim/sleep?seconds=x", ssl=False) as r:
        assert r.status == 400
    _, control = await get(session, sim, "/_sim/status", {})
    assert control["power"] == "battery"
    assert control["boots"] == 3
    assert control["certificate_sha256"] == sim.certificate_sha256
    assert sim.requests.get("/_sim/status") is None
    old = sim.certificate_sha256
    await sim.rotate_certificate()
    assert sim.certificate_sha256 != old
    assert sim.certificate_path is not None
    assert sim.certificate_path.name.startswith("ziggymeter-")
    pin = Fingerprint(bytes.fromhex(str(sim.certificate_sha256)))
    async with session.get(f"{sim.url}{API}/version", ssl=pin) as r:
        assert r.status == 401


async def test_cert_dir_keeps_the_certificate(
    session: ClientSession, tmp_path: Path
) -> None:
    """ziggymeter.crt/.key in cert_dir are reused across restarts."""
    first = ZiggySimulator()
    await first.start(cert_dir=tmp_path)
    assert first.certificate_path == tmp_path / "ziggymeter.crt"
    await first.stop()
    assert (tmp_path / "ziggymeter.key").is_file()
    again = ZiggySimulator()
    await again.start(cert_dir=tmp_path)
    await again.stop()
    assert again.certificate_sha256 == first.certificate_sha256
    assert colon_fingerprint("abcdef") == "AB:CD:EF"


def test_command_line() -> None:
    """The sub-command's options reach the simulator."""
    args = build_parser().parse_args(
        [
            "ziggymeter",
            "--power",
            "battery",
            "--phases",
            "1",
            "--login-paths",
            "legacy",
            "--fault",
            "http_error:status=500",
            "--no-export",
        ]
    )
    assert cli.check_arguments(args) == [
        (ZiggyFault.HTTP_ERROR, {"status": 500, "path": "/"})
    ]
    sim = cli.simulator_from(args)
    assert (sim.power, sim.phases, sim.login_paths, sim.export) == (
        "battery",
        1,
        "legacy",
        False,
    )
    bad = build_parser().parse_args(["ziggymeter", "--ota-limit", "0"])
    with pytest.raises(ValueError, match="ota-limit"):
        cli.check_arguments(bad)


async def test_cli_run_and_remote_control(socket_enabled: None) -> None:
    """run() serves until stopped; ``fault -k`` and ``control -k`` reach it."""
    args = build_parser().parse_args(
        ["ziggymeter", "--port", "0", "--password", "pw123"]
    )
    async with running_cli(ZiggySimulator, cli.run, args) as sim:
        url = sim.url
        fault = build_parser().parse_args(
            ["fault", "--url", url, "-k", "slow_response", "--param", "seconds=0"]
        )
        assert await asyncio.to_thread(fault_command, fault) == 0
        assert sim.faults == {"slow_response": {"seconds": 0.0}}
        control = build_parser().parse_args(
            ["control", "--url", url, "-k", "power", "source=battery"]
        )
        assert await asyncio.to_thread(control_command, control) == 0
        assert sim.power == "battery"
        cli.toggle_sleep(sim)
        assert not sim.awake
        cli.toggle_sleep(sim)
        cli.toggle_power(sim)
        assert sim.power == "usb"
        assert sim.awake
