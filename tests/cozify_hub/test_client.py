"""The Cozify cloud and hub client as a library, against the simulator on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import logging
import time
from typing import Any

from aiohttp import ClientSession
import pytest

from custom_components.energy_gateways.devices.cozify_hub.client import (
    LOCAL_RETRY_SECONDS,
    TOKEN_REFRESH_AGE,
    ApiVersionGone,
    CozifyCloud,
    CozifyHubClient,
    RelayRefused,
    _json,
    cloud_base_url,
    hub_base_url,
    probe_hub,
)
from custom_components.energy_gateways.devices.cozify_hub.models import HubKey, HubMeta
from custom_components.energy_gateways.transport.errors import (
    CannotConnect,
    DeviceBusy,
    EndpointGone,
    InvalidAuth,
    InvalidHost,
    InvalidResponse,
)
from simulators.cozify_hub import CozifyFault, CozifySimulator

EMAIL = "maija@example.com"
CLIENT_LOGGER = "custom_components.energy_gateways.devices.cozify_hub.client"


class Clock:
    """A settable clock for the client (epoch s)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A plain aiohttp session, as any user of the library would bring."""
    async with ClientSession() as client_session:
        yield client_session


async def _started(**options: Any) -> CozifySimulator:
    simulator = CozifySimulator(email=EMAIL, command_delay=0.05, **options)
    await simulator.start(host="127.0.0.1")
    return simulator


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[CozifySimulator]:
    """The simulated cloud, two hubs (hub 0 on the LAN) and a HAN reader decoy."""
    simulator = await _started()
    yield simulator
    await simulator.stop()


async def _login(session: ClientSession, sim: CozifySimulator) -> tuple[str, str]:
    """Log in as the flow does; return the cloud token and hub 0's key."""
    cloud = CozifyCloud(session, sim.cloud_url)
    await cloud.request_login(EMAIL)
    assert sim.last_code is not None
    token = await cloud.email_login(EMAIL, sim.last_code)
    keys = await cloud.hub_keys(token)
    return token, keys[sim.hub.hub_id].token


async def _client(
    session: ClientSession,
    sim: CozifySimulator,
    *,
    remote_only: bool = False,
    clock: Clock | None = None,
    hub_id: str | None = None,
    renewed_at: float | None = None,
) -> CozifyHubClient:
    token, key = await _login(session, sim)
    return CozifyHubClient(
        session,
        CozifyCloud(session, sim.cloud_url),
        hub_id=hub_id or sim.hub.hub_id,
        cloud_token=token,
        token_renewed_at=time.time() if renewed_at is None else renewed_at,
        hub_key=key,
        host=sim.hub.url,
        remote_only=remote_only,
        clock=clock,
    )


def _infos(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == CLIENT_LOGGER and record.levelno >= logging.INFO
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://api.cozify.fi/ui/0.2/", "https://api.cozify.fi/ui/0.2"),
        ("cloud2.cozify.fi/ui/0.2", "https://cloud2.cozify.fi/ui/0.2"),
        ("http://127.0.0.1:8447/ui/0.2?x=1#y", "http://127.0.0.1:8447/ui/0.2"),
        ("https://host", "https://host"),
        ("", None),
        ("ftp://host/ui", None),
        ("https://", None),
    ],
)
def test_cloud_base_url(raw: str, expected: str | None) -> None:
    """The cloud's base keeps its path, loses the trailing slash."""
    assert cloud_base_url(raw) == expected


def test_hub_base_url_and_bad_cloud() -> None:
    """A typed hub address gets port 8893; an unusable cloud address is refused."""
    assert hub_base_url("192.168.1.20") == "http://192.168.1.20:8893"
    assert hub_base_url("http://hub:8894/x") == "http://hub:8894"
    assert hub_base_url("no such host") is None
    with pytest.raises(InvalidHost):
        CozifyCloud(None, "ftp://x")  # type: ignore[arg-type]


async def test_login_and_keys(session: ClientSession, sim: CozifySimulator) -> None:
    """Code by mail, token as quoted text, one key per hub, a refresh."""
    cloud = CozifyCloud(session, sim.cloud_url + "/")
    assert cloud.base_url == sim.cloud_url
    await cloud.request_login("someone.else@example.com")
    assert sim.codes_sent == 0
    await cloud.request_login(EMAIL.upper())
    code = sim.last_code
    assert code is not None
    with pytest.raises(InvalidAuth):
        await cloud.email_login(EMAIL, "000000" if code != "000000" else "111111")
    token = await cloud.email_login(EMAIL, code)
    assert token.count(".") == 2
    assert not token.startswith('"')
    with pytest.raises(InvalidAuth):  # a code is single-use
        await cloud.email_login(EMAIL, code)
    keys = await cloud.hub_keys(token)
    assert {key.name for key in keys.values()} == {"Koti", "Mökki"}
    key = keys[sim.hub.hub_id]
    assert (key.role, key.hub_id) == (32, sim.hub.hub_id)
    assert key.expires_at is not None
    assert key.expires_at > time.time() + 6 * 86400
    assert key.token not in repr(keys)
    renewed = await cloud.refresh_session(token)
    assert renewed != token
    assert await cloud.hub_keys(renewed)
    assert cloud.requests["user/hubkeys"] == 2
    assert sim.cloud.requests["GET /user/hubkeys"] == 2


async def test_no_bearer_prefix(session: ClientSession, sim: CozifySimulator) -> None:
    """Tokens go without "Bearer "; with it the cloud refuses them."""
    token, key = await _login(session, sim)
    cloud = CozifyCloud(session, sim.cloud_url)
    with pytest.raises(InvalidAuth):
        await cloud.hub_keys(f"Bearer {token}")
    with pytest.raises(InvalidAuth):
        await cloud.remote("GET", "/cc/1.14/hub/tz", token, f"Bearer {key}")
    assert await cloud.remote("GET", "/cc/1.14/hub/tz", token, key) == (
        "Europe/Helsinki"
    )


async def test_lan_discovery(session: ClientSession, sim: CozifySimulator) -> None:
    """lan_ip lists hub 0 and a HAN reader; probing tells them apart."""
    cloud = CozifyCloud(session, sim.cloud_url)
    urls = await cloud.lan_ips()
    assert sim.hub.url in urls
    assert len(urls) == 2
    results = await asyncio.gather(
        *(probe_hub(session, url) for url in urls), return_exceptions=True
    )
    metas = [result for result in results if isinstance(result, HubMeta)]
    assert [meta.hub_id for meta in metas] == [sim.hub.hub_id]
    assert metas[0].api_version == "1.14"
    assert sum(isinstance(result, InvalidResponse) for result in results) == 1


async def test_lan_ip_bare(session: ClientSession, socket_enabled: None) -> None:
    """Bare addresses become http://ip:8893."""
    simulator = await _started(lan_ip_form="bare", lan_decoy=False)
    try:
        cloud = CozifyCloud(session, simulator.cloud_url)
        assert await cloud.lan_ips() == ["http://127.0.0.1:8893"]
    finally:
        await simulator.stop()


async def test_local_calls(session: ClientSession, sim: CozifySimulator) -> None:
    """Everything over the LAN: metadata, devices, polls, rooms, scenes, commands."""
    client = await _client(session, sim)
    assert client.route == "local"
    assert client.hub is None
    meta = await client.connect()
    assert (meta.name, meta.version, client.api_version) == (
        "Koti",
        "1.14.9.124",
        "1.14",
    )
    devices = await client.devices()
    assert set(devices) == set(sim.hub.devices)
    lights = [device for device in devices.values() if device.is_light]
    assert lights
    assert all(device.state.temperature is None for device in lights)
    assert any(device.state.color_temp for device in lights)
    assert any(device.state.temperature is not None for device in devices.values())
    full = await client.poll(0)
    assert full.full
    assert {k for k, v in full.devices.items() if v is not None} == set(devices)
    device_id = next(iter(devices))
    stamp = sim.hub.change(device_id, reachable=False)
    delta = await client.poll(full.timestamp)
    assert not delta.full
    assert set(delta.devices) == {device_id}
    changed = delta.devices[device_id]
    assert changed is not None
    assert changed.state.reachable is False
    assert delta.timestamp >= stamp
    assert "ALARM_DELTA" in delta.unknown_types
    rooms = await client.rooms()
    assert "Keittiö" in rooms.values()
    scenes = await client.scenes()
    assert set(scenes) == set(sim.hub.scenes)
    switch = next(
        key
        for key, value in devices.items()
        if value.state.is_on is not None and value.state.reachable and key != device_id
    )
    on = devices[switch].state.is_on
    await client.command(
        [{"id": switch, "type": "CMD_DEVICE_OFF" if on else "CMD_DEVICE_ON"}]
    )
    for _ in range(50):
        if sim.hub.devices[switch]["state"]["isOn"] is not on:
            break
        await asyncio.sleep(0.02)
    assert sim.hub.devices[switch]["state"]["isOn"] is not on
    assert sim.hub.commands[-1] == {
        "id": switch,
        "type": "CMD_DEVICE_OFF" if on else "CMD_DEVICE_ON",
    }
    scene_id = next(iter(scenes))
    await client.scene_command([{"id": scene_id, "type": "CMD_SCENE_ON"}])
    assert client.requests["relay"] == 0
    assert client.requests["local"] == 8
    assert sim.hub.requests["GET /cc/{v}/devices"] == 1
    assert not client.credentials_changed
    assert client.hub_key not in repr(client)
    assert client.cloud_token not in repr(client)
    assert client.hub_key_expires_at is not None
    assert client.cloud_token_expires_at is not None
    await client.close()


async def test_relay_only(session: ClientSession, sim: CozifySimulator) -> None:
    """Relay only: nothing goes to the LAN."""
    client = await _client(session, sim, remote_only=True)
    assert client.route == "remote"
    await client.connect()
    devices = await client.devices()
    assert set(devices) == set(sim.hub.devices)
    assert (await client.poll(0)).full
    assert client.requests["local"] == 0
    assert client.requests["relay"] == 3
    assert sum(sim.hub.requests.values()) == 0
    assert sim.cloud.requests["GET /hub/remote/cc/{v}/devices"] == 1


async def test_poll_as_list(session: ClientSession, socket_enabled: None) -> None:
    """A hub answering the bare list of deltas still gives usable time stamps."""
    simulator = await _started(poll_as_list=True)
    try:
        client = await _client(session, simulator)
        full = await client.poll(0)
        assert full.full
        assert full.timestamp > 0
        device_id = next(iter(simulator.hub.devices))
        stamp = simulator.hub.change(device_id, reachable=False)
        delta = await client.poll(full.timestamp)
        assert set(delta.devices) == {device_id}
        assert delta.timestamp == stamp
    finally:
        await simulator.stop()


async def test_lan_fallback_and_back(
    session: ClientSession, sim: CozifySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """LAN offline: the relay (one INFO line); back on the LAN after the retry time."""
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    client = await _client(session, sim, clock=clock)
    await client.connect()
    await sim.hub.go_offline()
    assert set(await client.devices()) == set(sim.hub.devices)
    assert client.route == "remote"
    assert _infos(caplog) == [
        "Koti does not answer on the LAN (/cc/1.14/devices: ClientConnectorError);"
        " using the Cozify cloud relay"
    ]
    local = client.requests["local"]
    await client.poll(0)
    clock.advance(LOCAL_RETRY_SECONDS - 1)
    await client.rooms()
    assert client.requests["local"] == local  # not yet time to try the LAN
    clock.advance(2)
    await client.rooms()  # the probe fails: still the relay
    assert client.requests["local"] == local + 1
    assert client.route == "remote"
    await sim.hub.come_back()
    await client.rooms()  # the next probe is a minute away
    assert client.route == "remote"
    clock.advance(LOCAL_RETRY_SECONDS)
    await client.rooms()
    assert client.routes[-1][1] == "local"
    assert _infos(caplog)[1:] == ["Koti answers on the LAN again"]
    assert [route for _, route, _ in client.routes] == ["local", "remote", "local"]


async def test_fallback_needs_the_cloud(
    session: ClientSession, sim: CozifySimulator
) -> None:
    """LAN and cloud both gone: CannotConnect; another hub on the LAN is not ours."""
    clock = Clock()
    client = await _client(session, sim, clock=clock)
    await client.connect()
    await sim.hub.go_offline()
    sim.set_fault(CozifyFault.CLOUD_DOWN)
    with pytest.raises(CannotConnect):
        await client.devices()
    sim.clear_fault(CozifyFault.CLOUD_DOWN)
    await sim.cloud.come_back()
    await client.devices()
    assert client.route == "remote"
    client.host = sim.hubs[1].url  # as if the address now belonged to another hub
    await sim.hubs[1].come_back()
    clock.advance(LOCAL_RETRY_SECONDS)
    await client.devices()
    assert client.route == "remote"


async def test_status_errors_do_not_switch(
    session: ClientSession, sim: CozifySimulator
) -> None:
    """The LAN answering an error is no reason to use the relay."""
    client = await _client(session, sim)
    await client.connect()
    sim.set_fault(CozifyFault.HTTP_ERROR, path="/cc/", status=503)
    with pytest.raises(DeviceBusy):
        await client.devices()
    sim.clear_faults()
    sim.set_fault(CozifyFault.MALFORMED_JSON)
    with pytest.raises(InvalidResponse):
        await client.devices()
    sim.clear_faults()
    assert client.route == "local"
    with pytest.raises(EndpointGone):
        await client._call("GET", "/no/such/path")


async def test_another_hub_answers(
    session: ClientSession, sim: CozifySimulator
) -> None:
    """A hub with another id at the address is an invalid answer."""
    client = await _client(session, sim, hub_id=sim.hubs[1].hub_id)
    with pytest.raises(InvalidResponse):
        await client.connect()


@pytest.mark.parametrize("remote_only", [False, True])
async def test_hub_key_renewal(
    session: ClientSession, sim: CozifySimulator, remote_only: bool
) -> None:
    """An expired hub key is renewed through hubkeys and the call retried."""
    client = await _client(session, sim, remote_only=remote_only)
    await client.connect()
    old = client.hub_key
    sim.hub.expire_keys_now()
    assert set(await client.devices()) == set(sim.hub.devices)
    assert client.hub_key != old
    assert client.credentials_changed
    assert client.requests["cloud"] == 1
    assert client.route == ("remote" if remote_only else "local")


async def test_hub_key_refused_again(
    session: ClientSession, sim: CozifySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh key refused too, or no key for the hub: InvalidAuth."""
    client = await _client(session, sim)
    await client.connect()
    sim.hub.expire_keys_now()
    stale = client.hub_key

    async def same_key(_token: str) -> dict[str, HubKey]:
        return {sim.hub.hub_id: HubKey(sim.hub.hub_id, stale)}

    async def no_key(_token: str) -> dict[str, HubKey]:
        return {}

    monkeypatch.setattr(client._cloud, "hub_keys", same_key)
    with pytest.raises(InvalidAuth):
        await client.devices()
    monkeypatch.setattr(client._cloud, "hub_keys", no_key)
    with pytest.raises(InvalidAuth):
        await client.devices()


async def test_cloud_token_expiry(session: ClientSession, sim: CozifySimulator) -> None:
    """An expired cloud token: hubkeys and refreshsession refuse it (reauth)."""
    client = await _client(session, sim, renewed_at=time.time() - TOKEN_REFRESH_AGE)
    await client.connect()
    sim.expire_cloud_tokens_now()
    sim.hub.expire_keys_now()
    with pytest.raises(InvalidAuth):
        await client.devices()
    with pytest.raises(InvalidAuth):
        await client.keep_session()
    assert not client.credentials_changed


async def test_keep_session(session: ClientSession, sim: CozifySimulator) -> None:
    """The cloud token is renewed once a day, not more often."""
    clock = Clock()
    client = await _client(session, sim, clock=clock, renewed_at=clock.now)
    old = client.cloud_token
    assert not await client.keep_session()
    clock.advance(TOKEN_REFRESH_AGE)
    assert await client.keep_session()
    assert client.cloud_token != old
    assert client.token_renewed_at == clock.now
    assert client.credentials_changed
    assert not await client.keep_session()


async def test_short_lived_token_renewed_early(
    session: ClientSession, socket_enabled: None
) -> None:
    """A cloud token expiring within a day is renewed whatever its renewal age."""
    simulator = await _started(cloud_token_lifetime=3600.0)
    try:
        client = await _client(session, simulator)
        assert await client.keep_session()
    finally:
        await simulator.stop()


async def test_software_update(
    session: ClientSession, sim: CozifySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """410 after an update: /hub is read again and the call retried once."""
    client = await _client(session, sim)
    await client.connect()
    sim.hub.update_software("1.15.0.3")
    assert set(await client.devices()) == set(sim.hub.devices)
    assert client.api_version == "1.15"
    assert client.hub is not None
    assert client.hub.version == "1.15.0.3"
    assert sim.hub.requests["GET /hub"] == 2

    async def stuck() -> None:
        client.api_version = "1.14"

    monkeypatch.setattr(client, "connect", stuck)
    client.api_version = "1.14"
    with pytest.raises(ApiVersionGone):
        await client.devices()


async def test_relay_refused(session: ClientSession, sim: CozifySimulator) -> None:
    """The relay's 403: RelayRefused, without endless key renewals."""
    client = await _client(session, sim, remote_only=True)
    sim.set_fault(CozifyFault.RELAY_REFUSED)
    with pytest.raises(RelayRefused):
        await client.connect()
    assert client.requests["cloud"] == 0
    assert client.requests["relay"] == 1


async def test_cloud_errors(session: ClientSession, sim: CozifySimulator) -> None:
    """Cloud faults map to the integration's errors."""
    cloud = CozifyCloud(session, sim.cloud_url)
    sim.set_fault(CozifyFault.HTTP_ERROR, path="/user", status=500)
    for call in (
        cloud.request_login(EMAIL),
        cloud.email_login(EMAIL, "123456"),
        cloud.hub_keys("token"),
        cloud.refresh_session("token"),
    ):
        with pytest.raises(CannotConnect):
            await call
    sim.set_fault(CozifyFault.HTTP_ERROR, path="/hub", status=500)
    with pytest.raises(CannotConnect):
        await cloud.lan_ips()
    sim.clear_faults()
    with pytest.raises(EndpointGone):  # no hub there
        await probe_hub(session, sim.cloud_url)


async def test_concurrent_calls_share_the_work(
    session: ClientSession, sim: CozifySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Calls at the same time renew once, reconnect once, log one fallback."""
    client = await _client(session, sim)
    await client.connect()
    sim.hub.expire_keys_now()
    await asyncio.gather(client.devices(), client.rooms(), client.scenes())
    assert client.requests["cloud"] == 1
    sim.hub.update_software()
    await asyncio.gather(client.devices(), client.rooms())
    assert sim.hub.requests["GET /hub"] == 2
    await sim.hub.go_offline()
    await asyncio.gather(client.devices(), client.rooms())
    assert len(_infos(caplog)) == 1


async def test_lan_forbidden(session: ClientSession, sim: CozifySimulator) -> None:
    """403 from the hub itself: one key renewal, then InvalidAuth."""
    client = await _client(session, sim)
    await client.connect()
    sim.set_fault(CozifyFault.HTTP_ERROR, path="/cc/", status=403)
    with pytest.raises(InvalidAuth) as caught:
        await client.devices()
    assert not isinstance(caught.value, RelayRefused)
    assert client.requests["cloud"] == 1


def test_small_things() -> None:
    """An empty body is no JSON value; the cloud's repr names its address only."""
    assert _json(b" \n", "x") is None
    assert _json(b"[]", "x") == []
    with pytest.raises(InvalidResponse):
        _json(b"<html>", "x")
    cloud = CozifyCloud(None, "https://api.cozify.fi/ui/0.2")  # type: ignore[arg-type]
    assert repr(cloud) == "CozifyCloud('https://api.cozify.fi/ui/0.2')"
