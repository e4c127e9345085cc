"""The BUZZN client as a library, against the simulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
import time
from typing import Any

from aiohttp import ClientSession
import pytest

from custom_components.energy_gateways.devices.buzzn.client import (
    AccountInactive,
    BuzznClient,
    FeatureAbsent,
)
from custom_components.energy_gateways.devices.buzzn.models import (
    energy_kwh,
    parse_time,
)
from custom_components.energy_gateways.transport.errors import (
    CannotConnect,
    DeviceBusy,
    EndpointGone,
    Forbidden,
    InvalidAuth,
    InvalidHost,
    InvalidResponse,
    Rejected,
)
from simulators.buzzn import BuzznFault, BuzznSimulator

from .conftest import EMAIL, PASSWORD

METER_ID = "b4234cd4bed143a6b9bd09e347e17d34"


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[ClientSession]:
    """A plain aiohttp session, as any user of the library would bring."""
    async with ClientSession() as client_session:
        yield client_session


@pytest.fixture
def sim(buzzn_simulator: BuzznSimulator) -> BuzznSimulator:
    """The simulated server in both variants."""
    return buzzn_simulator


def _client(session: ClientSession, sim: BuzznSimulator, **kwargs: Any) -> BuzznClient:
    return BuzznClient(session, sim.url, EMAIL, PASSWORD, **kwargs)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mybuzzn-backend.buzzn.net", "https://mybuzzn-backend.buzzn.net"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://host:8443/api", "https://host:8443"),
    ],
)
def test_base_url(raw: str, expected: str) -> None:
    """The base URL is normalised; http and https both allowed."""
    client = BuzznClient(None, raw, EMAIL, PASSWORD)  # type: ignore[arg-type]
    assert client.base_url == expected
    assert client.live_url("/live", {"meter_id": "m"}) == (
        expected.replace("http", "ws", 1) + "/live?meter_id=m"
    )


@pytest.mark.parametrize("raw", ["", "ftp://host", "http://"])
def test_invalid_host(raw: str) -> None:
    """Something that is not an address cannot make a client."""
    with pytest.raises(InvalidHost):
        BuzznClient(None, raw, EMAIL, PASSWORD)  # type: ignore[arg-type]


async def test_login_and_profile(session: ClientSession, sim: BuzznSimulator) -> None:
    """One login, then the profile typed; nothing secret in the repr."""
    client = _client(session, sim)
    assert (client.logins, client.token_expires_at, client.absent) == (
        0,
        None,
        frozenset(),
    )
    await client.login()
    profile = await client.get_profile()
    assert client.logins == sim.logins == 1
    assert sim.requests["/login"] == 1
    assert (profile.id, profile.nick, profile.meter_id) == (1, "erika", METER_ID)
    assert (profile.flat_size, profile.inhabitants) == (60.0, 2)
    assert profile.baseline_state == "READY"
    assert profile.registration_date == datetime(
        2020, 1, 15, 10, 1, 10, 123456, tzinfo=UTC
    )
    assert profile.mail == EMAIL
    expires_at = client.token_expires_at
    assert expires_at is not None
    # the reference backend says 15 min; without a word the client assumes 15 min
    assert abs(expires_at - (time.time() + 900)) < 5
    for secret in (EMAIL, PASSWORD):
        assert secret not in repr(client)
        assert secret not in repr(profile)
    assert client.requests == 2


async def test_first_call_logs_in(session: ClientSession, sim: BuzznSimulator) -> None:
    """No explicit login needed; the community saving needs no session."""
    client = _client(session, sim)
    saving = await client.get_community_saving()
    assert saving is not None
    assert client.logins == 0
    await client.get_per_capita()
    assert client.logins == 1


async def test_wrong_password(session: ClientSession, sim: BuzznSimulator) -> None:
    """401 on /login is InvalidAuth (reauth), never retried."""
    client = BuzznClient(session, sim.url, EMAIL, "wrong-password")
    with pytest.raises(InvalidAuth) as caught:
        await client.get_profile()
    assert not isinstance(caught.value, Forbidden)
    assert sim.requests["/login"] == 1
    assert sim.requests["/profile"] == 0


async def test_account_inactive(session: ClientSession, sim: BuzznSimulator) -> None:
    """403 on /login: the account is not active (a Forbidden, an InvalidAuth)."""
    sim.set_fault(BuzznFault.ACCOUNT_INACTIVE)
    client = _client(session, sim)
    with pytest.raises(AccountInactive):
        await client.login()
    assert issubclass(AccountInactive, Forbidden)
    assert client.token_expires_at is None


async def test_expired_session_relogin(
    session: ClientSession, sim: BuzznSimulator
) -> None:
    """A session that ends early (401) is renewed once and the call retried."""
    client = _client(session, sim)
    await client.get_profile()
    sim.expire_sessions_now()
    profile = await client.get_profile()
    assert profile.id == 1
    assert client.logins == sim.logins == 2
    assert sim.requests["/profile"] == 3


async def test_unauthorized_once(session: ClientSession, sim: BuzznSimulator) -> None:
    """A single 401 costs one login and one retry."""
    client = _client(session, sim)
    await client.login()
    sim.set_fault(BuzznFault.UNAUTHORIZED_ONCE)
    assert await client.get_individual_saving() is not None
    assert client.logins == 2
    assert sim.requests["/individual-global-challenge"] == 2


async def test_token_of_another_boot(
    session: ClientSession, reference: BuzznSimulator
) -> None:
    """After a server restart the old token is 422 (bad signature): log in again."""
    client = _client(session, reference)
    await client.get_profile()
    await reference.go_offline()
    await reference.come_back()
    assert (await client.get_profile()).id == 1
    assert client.logins == 2


async def test_password_changed(session: ClientSession, sim: BuzznSimulator) -> None:
    """A session refused and the login refused too: InvalidAuth."""
    client = _client(session, sim)
    await client.get_profile()
    sim.change_password("another-password")
    with pytest.raises(InvalidAuth):
        await client.get_profile()


async def test_renewal_before_expiry(
    session: ClientSession, sim: BuzznSimulator
) -> None:
    """The client logs in again min(60 s, half the lifetime) before expiry."""
    offset = 0.0
    client = _client(session, sim, clock=lambda: time.time() + offset)
    await client.get_profile()
    expires_at = client.token_expires_at
    assert expires_at is not None
    offset = expires_at - time.time() - 90  # 90 s left: no renewal yet
    await client.get_profile()
    assert client.logins == 1
    offset = expires_at - time.time() - 30  # 30 s left: renewed first
    await client.get_profile()
    assert client.logins == 2
    assert sim.requests["/profile"] == 3  # no refused call on the way


async def test_optional_features_absent(
    session: ClientSession, reference: BuzznSimulator
) -> None:
    """404 hides hints, challenges, logout, update-password; asked once only."""
    client = _client(session, reference)
    with pytest.raises(FeatureAbsent):
        await client.get_hints()
    with pytest.raises(FeatureAbsent):
        await client.get_challenges()
    assert client.absent == {"hints", "challenges"}
    for call in (
        client.get_hints(),
        client.mark_hint_read(1),
        client.get_challenges(),
        client.get_challenge_status(),
        client.start_challenge(1),
        client.quit_challenge(1),
    ):
        with pytest.raises(FeatureAbsent) as caught:
            await call
        assert isinstance(caught.value, EndpointGone)
    assert reference.requests["/hints"] == 1
    assert reference.requests["/challenges"] == 1
    assert reference.requests["/challenges/status"] == 0
    with pytest.raises(FeatureAbsent):
        await client.update_password("a-new-password")
    await client.logout()  # never raises
    assert client.absent == {"hints", "challenges", "logout", "update_password"}
    assert reference.requests["/logout"] == 1
    await client.get_profile()
    await client.logout()
    assert reference.requests["/logout"] == 1
    assert client.token_expires_at is None


async def test_logout(session: ClientSession, document: BuzznSimulator) -> None:
    """The seed's /logout ends the session; a logout without one sends nothing."""
    client = _client(session, document)
    await client.logout()
    assert document.requests["/logout"] == 0
    await client.login()
    await client.logout()
    assert document.requests["/logout"] == 1
    assert client.token_expires_at is None
    assert client.absent == frozenset()
    await client.get_profile()
    assert client.logins == 2


async def test_logout_never_raises(
    session: ClientSession, document: BuzznSimulator
) -> None:
    """A server that fails on /logout is simply forgotten."""
    client = _client(session, document)
    await client.login()
    document.set_fault(BuzznFault.HTTP_ERROR, status=500, path="/logout")
    await client.logout()
    assert client.token_expires_at is None
    document.clear_faults()
    await client.login()
    await document.stop()
    await client.logout()
    assert client.token_expires_at is None


async def test_no_data(session: ClientSession, sim: BuzznSimulator) -> None:
    """206 `{}` is no data: None everywhere, never zeros."""
    sim.set_fault(BuzznFault.NO_HISTORY)
    client = _client(session, sim)
    assert await client.get_individual_history() is None
    assert await client.get_group_history() is None
    assert await client.get_individual_disaggregation() is None
    assert await client.get_group_disaggregation() is None
    assert await client.get_individual_saving() is None
    assert await client.get_community_saving() is None
    assert await client.get_per_capita() is None


async def test_profile_update(session: ClientSession, sim: BuzznSimulator) -> None:
    """PUT /profile changes the values; a refusal carries the server's reason."""
    client = _client(session, sim)
    await client.update_profile(flat_size=72.5, inhabitants=3)
    assert (sim.profile["flatSize"], sim.profile["inhabitants"]) == (72.5, 3)
    profile = await client.get_profile()
    assert (profile.flat_size, profile.inhabitants) == (72.5, 3)
    requests = client.requests
    await client.update_profile()
    assert client.requests == requests
    with pytest.raises(
        Rejected, match="ValidationError: invalid value for inhabitants"
    ):
        await client.update_profile(inhabitants=50)
    assert sim.profile["inhabitants"] == 3
    assert client.logins == 1


async def test_individual_history(session: ClientSession, sim: BuzznSimulator) -> None:
    """Readings as exact kWh, 15-minute power in W, both in time order."""
    client = _client(session, sim)
    yesterday = datetime.now(UTC).replace(
        hour=0, minute=0, second=0, microsecond=0
    ) - timedelta(days=1)
    history = await client.get_individual_history(yesterday)
    assert history is not None
    now = time.time()
    raw = sim.individual_history(yesterday.timestamp(), now)
    assert raw is not None
    assert list(history.energy.values()) == [
        energy_kwh(value) for value in raw["energy"].values()
    ]
    assert list(history.energy) == [parse_time(key) for key in raw["energy"]]
    assert len(history.power) == 96
    assert list(history.power.values()) == pytest.approx(
        [value / 1000 for value in raw["power"].values()]
    )
    assert all(isinstance(value, Decimal) for value in history.energy.values())
    assert list(history.power) == sorted(history.power)
    first, last = history.energy.values()
    assert first < last
    assert min(history.power.values()) > 0
    today = await client.get_individual_history()
    assert today is not None


async def test_group_history(session: ClientSession, sim: BuzznSimulator) -> None:
    """Group, producers and members, each with readings and power."""
    history = await _client(session, sim).get_group_history()
    assert history is not None
    assert set(history.members) == {"1", "2", "3"}
    assert len(history.consumed.energy) == 2
    assert len(history.produced_first.energy) == 2
    assert sum(len(m.energy) for m in history.members.values()) == 6


async def test_disaggregation(session: ClientSession, sim: BuzznSimulator) -> None:
    """The newest slot's appliances as average power (W); a new one appears."""
    client = _client(session, sim)
    result = await client.get_individual_disaggregation()
    assert result is not None
    raw = sim.disaggregation(time.time() - 2 * 86400, time.time(), sim.member_ids[:1])
    newest = max(raw)
    assert result.at == parse_time(newest)
    assert result.appliances == pytest.approx(
        {name: value * 4e-7 for name, value in raw[newest].items()}
    )
    assert "Trockner-1" not in result.appliances
    sim.set_fault(BuzznFault.NEW_APPLIANCE)
    later = await client.get_individual_disaggregation(
        datetime.now(UTC) - timedelta(hours=6)
    )
    assert later is not None
    assert later.appliances["Trockner-1"] == pytest.approx(2000.0)
    group = await client.get_group_disaggregation()
    assert group is not None
    assert group.appliances["Trockner-1"] == pytest.approx(6000.0)


async def test_savings(session: ClientSession, sim: BuzznSimulator) -> None:
    """Saving prognosis, baseline and community saving in kWh; per-capita as sent."""
    client = _client(session, sim)
    saving = await client.get_individual_saving()
    assert saving is not None
    assert saving.baseline == Decimal("5301.1346257574")
    assert saving.prognosis is not None
    assert 200 < saving.prognosis < 400
    community = await client.get_community_saving()
    assert community is not None
    assert 8000 < community.prognosis < 9000
    per_capita = await client.get_per_capita()
    assert per_capita is not None
    assert 1000 < per_capita.value < 2000


async def test_hints(session: ClientSession, document: BuzznSimulator) -> None:
    """Hints with and without an id; marking one read hides it."""
    client = _client(session, document)
    hints = await client.get_hints()
    assert [hint.id for hint in hints] == [1, 2, 3, None]
    await client.mark_hint_read(2)
    assert document.hints_read == {2}
    assert [hint.id for hint in await client.get_hints()] == [1, 3, None]
    with pytest.raises(Rejected, match="HintNotFound"):
        await client.mark_hint_read(99)
    assert client.absent == frozenset()


async def test_challenges(session: ClientSession, document: BuzznSimulator) -> None:
    """List, start, status with an absolute end, quit; unknown ids are refused."""
    client = _client(session, document)
    challenges = await client.get_challenges()
    assert [(c.id, c.total, c.succeeded) for c in challenges] == [
        (1, 3, 1),
        (2, 2, 1),
        (3, 1, 0),
    ]
    assert await client.get_challenge_status() is None
    await client.start_challenge(1)
    assert document.challenge_running == 1
    now = datetime.now(UTC)
    status = await client.get_challenge_status(now)
    assert status is not None
    assert (status.id, status.status) == (1, "running")
    assert status.progress == pytest.approx(1.0, abs=0.01)
    assert status.ends_at is not None
    assert abs((status.ends_at - now).total_seconds() - 86400) < 5
    with pytest.raises(Rejected, match="ChallengeNotFound"):
        await client.start_challenge(99)
    with pytest.raises(Rejected):
        await client.quit_challenge(2)
    await client.quit_challenge(1)
    assert document.challenge_status() is None
    assert await client.get_challenge_status() is None
    document.set_fault(BuzznFault.NO_CHALLENGES)
    assert await client.get_challenges() == []
    assert client.absent == frozenset()


async def test_update_password(
    session: ClientSession, document: BuzznSimulator
) -> None:
    """The seed's password change; the client logs in with the new one."""
    client = _client(session, document)
    with pytest.raises(Rejected, match="too short"):
        await client.update_password("short")
    await client.update_password("a-longer-password")
    document.expire_sessions_now()
    assert (await client.get_profile()).id == 1
    assert client.logins == 2


@pytest.mark.parametrize(
    ("fault", "params", "error"),
    [
        (BuzznFault.MALFORMED_JSON, {}, InvalidResponse),
        (BuzznFault.TRUNCATED_BODY, {}, InvalidResponse),
        (BuzznFault.HTTP_ERROR, {"status": 503, "path": "/per"}, DeviceBusy),
        (BuzznFault.HTTP_ERROR, {"status": 500, "path": "/per"}, CannotConnect),
    ],
)
async def test_broken_answers(
    session: ClientSession,
    sim: BuzznSimulator,
    fault: BuzznFault,
    params: dict[str, Any],
    error: type[Exception],
) -> None:
    """Broken bodies and server errors map to the integration's errors."""
    client = _client(session, sim)
    await client.login()
    sim.set_fault(fault, **params)
    with pytest.raises(error):
        await client.get_per_capita()


async def test_odd_but_readable(session: ClientSession, sim: BuzznSimulator) -> None:
    """Numbers as strings and unknown keys are still read."""
    client = _client(session, sim)
    sim.set_fault(BuzznFault.NUMBERS_AS_STRINGS)
    sim.set_fault(BuzznFault.EXTRA_FIELDS)
    profile = await client.get_profile()
    assert (profile.id, profile.flat_size, profile.inhabitants) == (1, 60.0, 2)
    history = await client.get_individual_history()
    assert history is not None
    assert all(isinstance(v, Decimal) for v in history.energy.values())


async def test_server_gone(session: ClientSession, sim: BuzznSimulator) -> None:
    """An unreachable server is CannotConnect."""
    client = _client(session, sim)
    await sim.stop()
    with pytest.raises(CannotConnect):
        await client.get_profile()
