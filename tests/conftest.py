"""Fixtures shared by every test: the integration enabled, helpers to wait on states."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Generator, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
import itertools
from pathlib import Path
import tempfile
import threading
from typing import Any, Literal
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import (
    get_metadata,
    statistics_during_period,
)
from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
)
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.recorder import get_instance
from hypothesis import HealthCheck, settings
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.energy_gateways.const import DOMAIN
from simulators.tls import load_certificate, reuse_or_create_certificate

from .secrets_watch import SecretWatch

# CI machines have two cores shared with the simulators: judge inputs, not speed.
settings.register_profile(
    "energy_gateways", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("energy_gateways")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots that mask ids and timestamps, as Home Assistant's own tests do."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


def _real_datetime_in_cryptography() -> None:
    """Make and read one certificate before any test can freeze the clock.

    cryptography's Rust binding remembers the datetime class it first sees,
    once for dates it is given and once for dates it returns; a first use under
    `freezer` would make it refuse real datetimes for the rest of the run. This
    runs when the test session imports this module (each xdist worker too),
    before any fixture or `freeze_time` marker of the first test.
    """
    with tempfile.TemporaryDirectory(prefix="primer-") as folder:
        directory = Path(folder)
        reuse_or_create_certificate(directory, "127.0.0.1", "primer")
        assert load_certificate(directory, "127.0.0.1", "primer") is not None


_real_datetime_in_cryptography()


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every test."""


@pytest.fixture(autouse=True)
def secrets_watch() -> Generator[SecretWatch]:
    """Fail any test that shows a simulator's secret in a log, a diagnostics
    dump, an exception or a state (see tests/secrets_watch.py)."""
    with SecretWatch().watching() as watch:
        yield watch
        leaks = watch.leaks()
    if leaks:
        pytest.fail("secrets leaked:\n" + "\n".join(leaks), pytrace=False)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, including the ones disabled by default."""
    with patch.object(
        Entity,
        "entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


async def wait_for_state(
    hass: HomeAssistant,
    entity_id: str,
    predicate: Callable[[State], bool],
) -> State:
    """Wait until the entity's state satisfies `predicate`.

    Data reaches the integration over real loopback sockets, which
    `async_block_till_done` does not wait for; this listens for the state change
    instead of sleeping.
    """
    current = hass.states.get(entity_id)
    if current is not None and predicate(current):
        return current
    done: asyncio.Future[State] = hass.loop.create_future()

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is not None and predicate(state) and not done.done():
            done.set_result(state)

    unsubscribe = async_track_state_change_event(hass, [entity_id], changed)
    try:
        await until(done.done)
    finally:
        unsubscribe()
    return done.result()


async def wait_for_values(hass: HomeAssistant, expected: dict[str, float]) -> None:
    """Wait until every entity shows its expected number.

    Two consecutive readings may share some values, so waiting on one entity
    alone could pass on the previous reading.
    """

    await until(lambda: states_match(hass, expected))


def states_match(hass: HomeAssistant, expected: dict[str, float]) -> bool:
    """Whether every entity shows its expected number now."""
    for entity_id, value in expected.items():
        state = hass.states.get(entity_id)
        try:
            if state is None or float(state.state) != value:
                return False
        except ValueError:
            return False
    return True


async def until(condition: Callable[[], bool], spins: int = 200_000) -> None:
    """Wait for something a loopback socket delivers (not for time to pass).

    Counts event-loop turns instead of seconds: under the `freezer` fixture the
    loop's clock stands still, so asyncio.sleep and asyncio.timeout never end.
    """
    for _ in range(spins):
        if condition():
            return
        await asyncio.sleep(0)
    raise TimeoutError("condition not met")


async def set_up_entry[EntryT: ConfigEntry[Any]](
    hass: HomeAssistant, entry: EntryT
) -> EntryT:
    """Add an entry and set it up; fail the test if set-up fails."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def number_state(hass: HomeAssistant, entity_id: str) -> float:
    """The entity's state as a number (fails the test if it has none)."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move the frozen clock; what its timers start has ended on return.

    Tests that move the clock request `freezer` first: starting it after an
    entry is set up would make the event loop's clock jump.
    """
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


type StatisticColumn = Literal["state", "sum", "mean", "min", "max"]


async def statistic_rows(
    hass: HomeAssistant, statistic_id: str, columns: Iterable[StatisticColumn]
) -> list[dict[str, Any]]:
    """Every hourly row of a statistic, oldest first, with the given columns."""
    result = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2020, 1, 1, tzinfo=UTC),
        None,
        {statistic_id},
        "hour",
        None,
        set(columns),
    )
    return [dict(row) for row in result.get(statistic_id, [])]


async def compile_hour(hass: HomeAssistant, hour: str) -> None:
    """Let the recorder compile the 5-minute statistics of an hour, and the hour."""
    await async_wait_recording_done(hass)
    start = datetime.fromisoformat(hour)
    for minutes in range(0, 60, 5):
        do_adhoc_statistics(hass, start=start + timedelta(minutes=minutes))
    await async_wait_recording_done(hass)


async def metadata(hass: HomeAssistant, **kwargs: Any) -> dict[str, dict[str, Any]]:
    """Statistic id -> metadata, as the recorder stores them."""
    result = await get_instance(hass).async_add_executor_job(
        partial(get_metadata, hass, **kwargs)
    )
    return {key: dict(meta) for key, (_, meta) in result.items()}


def check_continuous(rows: list[dict[str, Any]]) -> None:
    """Every hourly difference is >= 0 and `state - sum` is the same in every row."""
    offset = rows[-1]["state"] - rows[-1]["sum"]
    for previous, row in itertools.pairwise(rows):
        assert row["sum"] - previous["sum"] >= -1e-6
        assert row["state"] - previous["state"] >= -1e-6
    for row in rows:
        assert row["state"] - row["sum"] == pytest.approx(offset, abs=1e-5)


class GatewayThread:
    """An event loop of its own for a simulated device, as on another machine.

    A client that refuses the self-signed certificate aborts the TLS handshake;
    the server side reports that to its event loop's exception handler. On the
    loop of `hass` that would fail the test, though nothing is wrong.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="simulated-device", daemon=True
        )
        self._thread.start()

    async def run[T](self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the device's loop and wait for it."""
        return await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(coro, self._loop)
        )

    def close(self) -> None:
        """Stop the loop and its thread."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


@pytest.fixture
def gateway_thread(socket_enabled: None) -> Generator[GatewayThread]:
    """A thread with an event loop for HTTPS simulators."""
    thread = GatewayThread()
    try:
        yield thread
    finally:
        thread.close()


async def start_device_flow(hass: HomeAssistant, device_type: str) -> str:
    """Open the config flow, pick a device type in its menu; return the flow id.

    Checks that the device type's first form is shown, without errors.
    """
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert device_type in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": device_type}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == device_type
    assert result["errors"] in ({}, None)
    return result["flow_id"]


def account_form(
    host: str, username: str, password: str, *, verify: bool = True
) -> dict[str, Any]:
    """What a user types into a device's address-and-account form (trust.py)."""
    return {
        CONF_HOST: host,
        CONF_USERNAME: username,
        CONF_PASSWORD: password,
        CONF_VERIFY_SSL: verify,
    }
