"""The ZiggyMeter client as a library, against the simulator over loopback HTTPS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import time
from typing import Any

import aiohttp
from aiohttp import ClientSession
import pytest

from custom_components.energy_gateways.devices.ziggymeter import (
    client as client_module,
)
from custom_components.energy_gateways.devices.ziggymeter.client import (
    API_LOGIN_PATH,
    LEGACY_LOGIN_PATH,
    ZiggyClient,
    base_url,
    ota_block_size,
)
from custom_components.energy_gateways.transport.errors import (
    CannotConnect,
    CertificateMismatch,
    DeviceBusy,
    EndpointGone,
    InvalidAuth,
    InvalidHost,
    InvalidResponse,
    Rejected,
    UntrustedCertificate,
)
from simulators.ziggymeter import ZiggyFault, ZiggySimulator, ota_image
from tests.conftest import GatewayThread

USERNAME = "admin"
PASSWORD = "ziggy-password"
STATUS = "/api/v1/system/status"
VERSION = "/api/v1/system/version"
OTA_LIMIT = 32768.0


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A plain aiohttp session, as any user of the library would bring."""
    async with ClientSession() as client_session:
        yield client_session


async def _started(**kwargs: Any) -> ZiggySimulator:
    simulator = ZiggySimulator(USERNAME, PASSWORD, **kwargs)
    await simulator.start(host="127.0.0.1", port=0)
    return simulator


@pytest.fixture
async def sim(socket_enabled: None) -> AsyncGenerator[ZiggySimulator]:
    """A simulated meter on USB power with both login paths."""
    simulator = await _started(ota_limit=OTA_LIMIT, reboot_seconds=0.3)
    yield simulator
    await simulator.stop()


def _pin(sim: ZiggySimulator) -> aiohttp.Fingerprint:
    assert sim.certificate_sha256 is not None
    return aiohttp.Fingerprint(bytes.fromhex(sim.certificate_sha256))


def _client(session: ClientSession, sim: ZiggySimulator, **kwargs: Any) -> ZiggyClient:
    kwargs.setdefault("ssl", _pin(sim))
    return ZiggyClient(session, sim.url, USERNAME, PASSWORD, **kwargs)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("192.168.1.77", "https://192.168.1.77"),
        ("meter.local:8443", "https://meter.local:8443"),
        ("https://meter.local:8443/", "https://meter.local:8443"),
        ("fe80::1", "https://[fe80::1]"),
        ("http://meter.local", None),
        ("", None),
    ],
)
def test_base_url(raw: str, expected: str | None) -> None:
    """What the user typed becomes an https base URL."""
    assert base_url(raw) == expected


def test_invalid_host() -> None:
    """A client cannot be built for something that is not an address."""
    with pytest.raises(InvalidHost):
        ZiggyClient(None, "http://meter", USERNAME, PASSWORD)  # type: ignore[arg-type]


def test_block_size() -> None:
    """A quarter second's worth of bytes, 64..1024."""
    assert ota_block_size(1024) == 256
    assert ota_block_size(100) == 64
    assert ota_block_size(32768) == 1024


async def test_login_status_version_logout(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """The API login path is tried first; status and version come back typed."""
    client = _client(session, sim)
    assert (client.login_path, client.token_expires_at) == (None, None)
    assert client.base_url == f"https://127.0.0.1:{sim.port}"
    assert client.host == f"127.0.0.1:{sim.port}"
    assert PASSWORD not in repr(client)

    status = await client.get_status()
    assert client.login_path == API_LOGIN_PATH
    assert client.logins == sim.logins == 1
    expires_at = client.token_expires_at
    assert expires_at is not None
    assert abs(expires_at - (time.time() + 3600)) < 5
    assert status.power_source == "usb"
    assert status.battery_percent is not None
    assert status.energy_import is not None
    assert status.energy_export is not None
    assert status.voltage_l3 is not None
    assert status.last_reading is not None
    assert "meter.power_l3_w" in status.present
    assert status.extras == {}
    assert status.identifier is None
    assert status.raw["meter"]["energy_import_kwh"] == status.energy_import

    version = await client.get_version()
    assert version.firmware_version == "1.0.320"
    assert version.build_number == 320
    assert version.firmware_date is not None
    assert client.requests == 3

    await client.logout()
    assert sim.logouts == 1
    assert client.token_expires_at is None
    await client.logout()  # nothing to log out: no request
    assert client.requests == 4
    await client.get_version()  # logs in again
    assert client.logins == 2


async def test_legacy_login_is_remembered(
    session: ClientSession, socket_enabled: None
) -> None:
    """A 404 on the API path falls back to /login, which is used from then on."""
    legacy = await _started(login_paths="legacy")
    try:
        client = _client(session, legacy)
        await client.login()
        assert client.login_path == LEGACY_LOGIN_PATH
        await client.login()
        assert legacy.requests[API_LOGIN_PATH] == 1
        assert legacy.requests[LEGACY_LOGIN_PATH] == 2

        # passed back from the entry: straight to /login
        again = _client(session, legacy, login_path=LEGACY_LOGIN_PATH)
        await again.get_status()
        assert again.login_path == LEGACY_LOGIN_PATH
        assert legacy.requests[API_LOGIN_PATH] == 1
    finally:
        await legacy.stop()

    api_only = await _started(login_paths="api")
    try:
        # a remembered path that answers 404 now: the other one is tried
        client = _client(session, api_only, login_path=LEGACY_LOGIN_PATH)
        await client.login()
        assert client.login_path == API_LOGIN_PATH
        assert api_only.requests[LEGACY_LOGIN_PATH] == 1
        await client.login()
        assert api_only.requests[LEGACY_LOGIN_PATH] == 1
    finally:
        await api_only.stop()


async def test_wrong_password(session: ClientSession, sim: ZiggySimulator) -> None:
    """Refused credentials raise InvalidAuth without leaking the password."""
    client = ZiggyClient(session, sim.url, USERNAME, "wrong-secret", ssl=_pin(sim))
    with pytest.raises(InvalidAuth, match="login refused") as err:
        await client.get_status()
    assert "wrong-secret" not in str(err.value)
    assert "wrong-secret" not in repr(err.value.__cause__)
    assert client.token_expires_at is None
    assert sim.requests[STATUS] == 0


async def test_token_renewed_before_expiry(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """A 3600 s token is replaced when less than 5 minutes are left."""
    offset = 0.0
    client = _client(session, sim, clock=lambda: time.time() + offset)
    await client.get_status()
    assert sim.logins == 1
    offset = 3600 - 310  # 310 s left: keep it
    await client.get_status()
    assert sim.logins == 1
    offset = 3600 - 290  # 290 s left: log in first
    await client.get_status()
    assert sim.logins == 2
    assert sim.requests[STATUS] == 3  # no request was refused


async def test_short_token_renewed_at_half_life(
    session: ClientSession, socket_enabled: None
) -> None:
    """A 120 s token is renewed 60 s early, not before every request."""
    simulator = await _started(token_lifetime=120.0)
    try:
        offset = 0.0
        client = _client(session, simulator, clock=lambda: time.time() + offset)
        await client.get_status()
        offset = 50.0
        await client.get_status()
        assert simulator.logins == 1
        offset = 65.0
        await client.get_status()
        assert simulator.logins == 2
    finally:
        await simulator.stop()


async def test_unauthorized_logs_in_once_more(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """A token the device dropped is replaced and the request retried once."""
    client = _client(session, sim)
    await client.login()
    sim.expire_tokens_now()
    assert (await client.get_version()).build_number == 320
    assert sim.requests[VERSION] == 2
    assert sim.logins == 2

    sim.set_fault(ZiggyFault.UNAUTHORIZED_ONCE)
    await client.get_status()
    assert sim.logins == 3


async def test_password_changed_on_the_device(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """When the re-login is refused, InvalidAuth reaches the caller (reauth)."""
    client = _client(session, sim)
    await client.login()
    sim.change_password("changed")
    sim.expire_tokens_now()
    with pytest.raises(InvalidAuth):
        await client.get_status()
    assert client.token_expires_at is None


async def test_answers_mapped_to_errors(
    session: ClientSession, sim: ZiggySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Busy, malformed and slow answers raise the integration's errors."""
    client = _client(session, sim)
    sim.set_fault(ZiggyFault.HTTP_ERROR, status=503, path=STATUS)
    with pytest.raises(DeviceBusy):
        await client.get_status()
    sim.clear_fault(ZiggyFault.HTTP_ERROR)
    sim.set_fault(ZiggyFault.MALFORMED_JSON)
    with pytest.raises(InvalidResponse):
        await client.get_status()
    sim.clear_fault(ZiggyFault.MALFORMED_JSON)
    sim.set_fault(ZiggyFault.NUMBERS_AS_STRINGS)
    assert (await client.get_status()).energy_import is not None
    sim.clear_fault(ZiggyFault.NUMBERS_AS_STRINGS)
    monkeypatch.setattr(
        client_module, "REQUEST_TIMEOUT", aiohttp.ClientTimeout(total=0.05)
    )
    sim.set_fault(ZiggyFault.SLOW_RESPONSE, seconds=2.0)
    with pytest.raises(CannotConnect, match="timed out"):
        await client.get_status()


async def test_shapes_of_the_status(
    session: ClientSession, socket_enabled: None
) -> None:
    """Single phase, no export, battery power, extra keys and an identifier."""
    simulator = await _started(
        phases=1,
        export=False,
        power="battery",
        extra_keys=True,
        integers=True,
        identifier="ZG400-0042",
    )
    try:
        status = await _client(session, simulator).get_status()
    finally:
        await simulator.stop()
    assert status.power_source == "battery"
    assert status.voltage_l1 is not None
    assert status.voltage_l2 is None
    assert "meter.voltage_l2_v" not in status.present
    assert "meter.energy_export_kwh" not in status.present
    assert status.energy_import is not None
    assert status.extras
    assert status.identifier == "ZG400-0042"


async def test_certificates(
    session: ClientSession, gateway_thread: GatewayThread
) -> None:
    """Another pinned certificate and an untrusted one are told apart.

    The simulator runs on its own loop: a refused handshake is logged there.
    """
    simulator = ZiggySimulator(USERNAME, PASSWORD)
    await gateway_thread.run(simulator.start(host="127.0.0.1", port=0))
    try:
        wrong = ZiggyClient(
            session,
            simulator.url,
            USERNAME,
            PASSWORD,
            ssl=aiohttp.Fingerprint(bytes(32)),
        )
        with pytest.raises(CertificateMismatch):
            await wrong.login()
        unpinned = ZiggyClient(session, simulator.url, USERNAME, PASSWORD)
        with pytest.raises(UntrustedCertificate):
            await unpinned.get_status()
        assert simulator.logins == 0
    finally:
        await gateway_thread.run(simulator.stop())


async def test_logout_swallows_failures(
    session: ClientSession, socket_enabled: None
) -> None:
    """Unloading with the device gone still forgets the token."""
    simulator = await _started()
    client = _client(session, simulator)
    await client.login()
    await simulator.stop()
    await client.logout()
    assert client.token_expires_at is None


async def test_upload_paced_at_the_limit(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """An image paced at the device's limit is accepted; progress ends at its size."""
    image = ota_image(321, "1.0.321", 40 * 1024)
    seen: list[int] = []
    client = _client(session, sim)

    def progress(sent: int) -> None:
        assert client.uploading
        seen.append(sent)

    started = time.monotonic()
    assert not client.uploading
    await client.upload_firmware(image, rate=OTA_LIMIT, progress=progress)
    elapsed = time.monotonic() - started
    assert len(image) / OTA_LIMIT * 0.9 < elapsed < len(image) / OTA_LIMIT + 1.5
    assert seen == sorted(set(seen))
    assert seen[-1] == len(image)
    assert len(seen) == len(image) // 1024
    upload = sim.uploads[-1]
    assert upload.accepted
    assert upload.size == len(image)

    # the device reboots, drops the token and comes back with the new build
    deadline = time.monotonic() + 5
    while True:
        try:
            version = await client.get_version()
        except CannotConnect:
            version = None
        if version is not None and version.build_number == 321:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert version.firmware_version == "1.0.321"


async def test_upload_too_fast_is_rejected(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """Four times the limit: the device refuses and says why."""
    image = ota_image(321, "1.0.321", 40 * 1024)
    seen: list[int] = []
    client = _client(session, sim)
    with pytest.raises(Rejected, match=r"rate|closed"):
        await client.upload_firmware(image, rate=4 * OTA_LIMIT, progress=seen.append)
    assert not sim.uploads[-1].accepted
    assert seen == sorted(set(seen))
    assert not seen or seen[-1] < len(image)
    assert (await client.get_version()).build_number == 320


async def test_upload_refused_by_the_device(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """A refusal's text becomes the Rejected reason."""
    client = _client(session, sim)
    sim.set_fault(ZiggyFault.OTA_REFUSE)
    with pytest.raises(Rejected) as err:
        await client.upload_firmware(ota_image(321, "1.0.321", 4096), rate=OTA_LIMIT)
    assert str(err.value)
    assert len(str(err.value)) <= 200


async def test_upload_renews_a_dropped_token(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """A 401 as the upload starts means: log in again and start over, once."""
    client = _client(session, sim)
    await client.login()
    sim.expire_tokens_now()
    image = ota_image(321, "1.0.321", 8 * 1024)
    seen: list[int] = []
    await client.upload_firmware(image, rate=OTA_LIMIT, progress=seen.append)
    assert sim.logins == 2
    assert sim.uploads[-1].accepted
    assert seen == sorted(set(seen))
    assert seen[-1] == len(image)


async def test_upload_cut_off_by_a_reboot(
    session: ClientSession, sim: ZiggySimulator
) -> None:
    """The device dropping the connection mid-upload is a refusal, not a crash."""
    client = _client(session, sim)
    image = ota_image(321, "1.0.321", 40 * 1024)

    def progress(sent: int) -> None:
        if sent == 8 * 1024:
            sim.reboot(1.0)

    with pytest.raises(Rejected, match="closed the connection"):
        await client.upload_firmware(image, rate=OTA_LIMIT, progress=progress)
    with pytest.raises(ValueError, match="rate"):
        await client.upload_firmware(image, rate=0)


async def test_no_login_endpoint(session: ClientSession, sim: ZiggySimulator) -> None:
    """When both login paths answer 404 the endpoint is gone."""
    sim.set_fault(ZiggyFault.HTTP_ERROR, status=404, path="/")
    client = _client(session, sim)
    with pytest.raises(EndpointGone, match="no login endpoint"):
        await client.login()
    assert client.login_path is None


async def test_pacing_never_bursts() -> None:
    """A consumer that stalls gets one block early at most, then the even pace."""
    rate = 102_400.0  # 1024-byte blocks every 10 ms
    sent: list[int] = []
    upload = client_module._Upload(bytes(10 * 1024), rate, sent.append)
    times: list[float] = []
    async for block in upload.body():
        assert len(block) == 1024
        times.append(time.monotonic())
        if len(times) == 2:
            await asyncio.sleep(0.1)  # ten blocks late
    assert sent == [1024 * n for n in range(1, 11)]
    # after the stall: one block at once, then every 10 ms again
    assert times[-1] - times[2] >= 6 * 0.01 * 0.9
