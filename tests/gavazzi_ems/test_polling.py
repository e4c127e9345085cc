"""The EMS polling cycle: values, requests, tree reads, tokens, bad samples."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator, Callable
from datetime import timedelta
import logging
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, EntityCategory
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.gavazzi_ems.client import PAGE_SIZE
from custom_components.energy_gateways.devices.gavazzi_ems.coordinator import (
    EmsCoordinator,
)
from simulators.gavazzi_ems import EmsFault, EmsSimulator
from simulators.gavazzi_ems.data import Signal, value

from ..conftest import advance, number_state, set_up_entry
from .conftest import HEAT_PUMP, MAIN, PASSWORD, SERIAL, USERNAME, ems_entry_for, poll

REALTIME = "/v1/signals/realtime"
LOGIN = "/v1/auth/login"
TREE = ("/v1/devices", "/v1/loads", "/v1/signals")
POWER = f"{MAIN}_power"
VOLTAGE = f"{MAIN}_voltage_l1"
CURRENT = f"{MAIN}_current_l1"
ENERGY_IMPORT = f"{MAIN}_energy_import"
ENERGY_EXPORT = f"{MAIN}_energy_export"
# Signal codes of the simulated meters (see catalogue.py).
SI_POWER = 38
SI_VOLTAGE_L1 = 29
SI_ENERGY_IMPORT = 43

type RealtimeHook = Callable[[Signal, dict[str, Any]], dict[str, Any]]


def _coordinator(entry: MockConfigEntry) -> EmsCoordinator:
    coordinator: EmsCoordinator = entry.runtime_data.coordinator
    return coordinator


def _signal(simulator: EmsSimulator, device: int, si: int) -> Signal:
    """The simulated signal with code `si` on the first load of `device`."""
    load = simulator.installation.devices[device].loads[0]
    return next(signal for signal in load.signals if signal.si == si)


def _expected(simulator: EmsSimulator, signal: Signal) -> float:
    """What the simulator reports for `signal` at the (frozen) current second."""
    return value(simulator.installation.load_of(signal), signal, int(time.time()))


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _hook_realtime(
    monkeypatch: pytest.MonkeyPatch, simulator: EmsSimulator, hook: RealtimeHook
) -> None:
    """Let `hook` rewrite each realtime record the simulator sends."""
    original = simulator._realtime

    def patched(signal: Signal, now: float) -> dict[str, Any]:
        return hook(signal, original(signal, now))

    monkeypatch.setattr(simulator, "_realtime", patched)


def _record_states(hass: HomeAssistant, entity_ids: list[str]) -> list[str]:
    """Collect every state the entities take from now on."""
    seen: list[str] = []

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        new_state = event.data["new_state"]
        seen.append(new_state.state if new_state is not None else "removed")

    async_track_state_change_event(hass, entity_ids, changed)
    return seen


def _count_rejections(
    monkeypatch: pytest.MonkeyPatch, simulator: EmsSimulator
) -> Counter[str]:
    """Count the requests the simulator answers with 401, per path."""
    rejected: Counter[str] = Counter()
    original = simulator._auth_failure

    def patched(request: Any) -> str | None:
        reason = original(request)
        if reason is not None:
            rejected[request.path] += 1
        return reason

    monkeypatch.setattr(simulator, "_auth_failure", patched)
    return rejected


@pytest.fixture
async def paged_simulator(socket_enabled: None) -> AsyncGenerator[EmsSimulator]:
    """A gateway with more signals than one realtime page holds."""
    simulator = EmsSimulator(
        username=USERNAME, password=PASSWORD, serial=SERIAL, extra_signals=PAGE_SIZE
    )
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


# -- values and the timer ------------------------------------------------------


async def test_scheduled_polls_follow_the_simulator(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
) -> None:
    """Every 10 s the timer polls once and the states take the new values."""
    coordinator = _coordinator(setup_ems)
    assert coordinator.update_interval == timedelta(seconds=10)
    power, voltage = (
        _signal(ems_simulator, 1, SI_POWER),
        _signal(ems_simulator, 1, SI_VOLTAGE_L1),
    )
    first = number_state(hass, POWER)
    assert first == _expected(ems_simulator, power)
    assert number_state(hass, VOLTAGE) == _expected(ems_simulator, voltage)
    cycles, requests = coordinator.stats.cycles, ems_simulator.requests[REALTIME]

    await advance(hass, freezer, 5)
    assert ems_simulator.requests[REALTIME] == requests  # not due yet
    assert coordinator.stats.cycles == cycles

    for step in range(1, 4):
        await advance(hass, freezer, 10 if step > 1 else 5)
        assert ems_simulator.requests[REALTIME] == requests + step
        assert coordinator.stats.cycles == cycles + step
        assert number_state(hass, POWER) == _expected(ems_simulator, power)
        assert number_state(hass, VOLTAGE) == _expected(ems_simulator, voltage)
    # 25 s later the simulated load has moved.
    assert number_state(hass, POWER) != first


async def test_one_request_per_cycle(
    hass: HomeAssistant, setup_ems: MockConfigEntry, ems_simulator: EmsSimulator
) -> None:
    """A steady-state cycle of 88 signals is one realtime request, nothing else."""
    coordinator = _coordinator(setup_ems)
    for _ in range(3):
        before = ems_simulator.requests.copy()
        await poll(setup_ems)
        assert ems_simulator.requests - before == Counter({REALTIME: 1})
        assert coordinator.stats.last_requests == 1
    assert coordinator.stats.configuration_reads == 1


async def test_more_signals_than_a_page(
    hass: HomeAssistant,
    paged_simulator: EmsSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """1088 signals take two realtime pages; every extra signal gets a sensor."""
    entry = await set_up_entry(hass, ems_entry_for(paged_simulator))
    before = paged_simulator.requests.copy()
    await poll(entry)
    assert paged_simulator.requests - before == Counter({REALTIME: 2})
    assert _coordinator(entry).stats.last_requests == 2
    extra = [
        signal
        for signal in paged_simulator.installation.devices[1].loads[0].signals
        if signal.si >= 900
    ]
    assert len(extra) == PAGE_SIZE
    for signal in extra:
        entity_id = entity_registry.async_get_entity_id(
            "sensor", DOMAIN, f"{SERIAL}_{signal.uid}"
        )
        assert entity_id is not None, signal.uid
        registry_entry = entity_registry.async_get(entity_id)
        assert registry_entry is not None
        assert registry_entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert registry_entry.entity_category is EntityCategory.DIAGNOSTIC


def _newest_signal(
    simulator: EmsSimulator, entity_registry: er.EntityRegistry
) -> tuple[Signal, str]:
    """The main meter's newest signal (on the last realtime page) and its sensor."""
    last = max(
        simulator.installation.devices[1].loads[0].signals,
        key=lambda signal: signal.uid,
    )
    entity_id = entity_registry.async_get_entity_id(
        "sensor", DOMAIN, f"{SERIAL}_{last.uid}"
    )
    assert entity_id is not None
    return last, entity_id


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_signal_on_the_second_page_has_a_value(
    hass: HomeAssistant,
    paged_simulator: EmsSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """The newest signal is only on realtime page 2; its sensor has a number."""
    entry = await set_up_entry(hass, ems_entry_for(paged_simulator))
    last, entity_id = _newest_signal(paged_simulator, entity_registry)
    sample = entry.runtime_data.coordinator.data.samples[last.uid]
    assert number_state(hass, entity_id) == sample.value
    assert abs(number_state(hass, entity_id) - last.si / 10) <= 1


# -- the device/load/signal tree -----------------------------------------------


async def test_tree_is_read_every_ten_minutes(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
) -> None:
    """Polls between tree reads only ask for values."""
    coordinator = _coordinator(setup_ems)
    assert coordinator.stats.configuration_reads == 1
    before = ems_simulator.requests.copy()
    for _ in range(3):
        await advance(hass, freezer, 10)
    await advance(hass, freezer, 569)  # 599 s after the first read
    assert all(ems_simulator.requests[path] == before[path] for path in TREE)
    assert ems_simulator.requests[REALTIME] == before[REALTIME] + 4
    assert coordinator.stats.configuration_reads == 1
    await advance(hass, freezer, 10)  # the next poll, 609 s after
    assert all(ems_simulator.requests[path] == before[path] + 1 for path in TREE)
    assert coordinator.stats.configuration_reads == 2
    assert coordinator.last_update_success
    await advance(hass, freezer, 10)
    assert all(ems_simulator.requests[path] == before[path] + 1 for path in TREE)


async def test_failed_cycle_rereads_the_tree_and_recovers(
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An outage makes entities unavailable; the first good poll re-reads the tree."""
    caplog.set_level(logging.INFO)
    ems_simulator.set_fault(EmsFault.HTTP_ERROR, status=503)
    signals = ems_simulator.requests["/v1/signals"]
    await poll(setup_ems)
    await poll(setup_ems)
    assert _state(hass, POWER) == STATE_UNAVAILABLE
    assert _state(hass, f"{HEAT_PUMP}_energy_import") == STATE_UNAVAILABLE
    ems_simulator.clear_fault(EmsFault.HTTP_ERROR)
    await poll(setup_ems)
    assert ems_simulator.requests["/v1/signals"] == signals + 1
    assert _state(hass, POWER) != STATE_UNAVAILABLE
    assert number_state(hass, f"{HEAT_PUMP}_energy_import") > 0
    await poll(setup_ems)
    assert ems_simulator.requests["/v1/signals"] == signals + 1

    outage = [
        record
        for record in caplog.records
        if record.levelno >= logging.WARNING
        and record.name.startswith("custom_components.energy_gateways")
    ]
    assert len(outage) == 1, [record.getMessage() for record in outage]
    assert outage[0].levelno == logging.ERROR
    assert "503" in outage[0].getMessage()
    recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(recovered) == 1
    assert recovered[0].levelno == logging.INFO
    assert "Traceback" not in caplog.text
    assert not [record for record in caplog.records if record.exc_info]


async def test_one_failed_cycle_keeps_the_values(
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A single failed poll is no outage: values stay, nothing is logged."""
    caplog.set_level(logging.INFO)
    before = _state(hass, POWER)
    ems_simulator.set_fault(EmsFault.HTTP_ERROR, status=503)
    await poll(setup_ems)
    assert _state(hass, POWER) == before
    assert _coordinator(setup_ems).last_update_success
    ems_simulator.clear_fault(EmsFault.HTTP_ERROR)
    await poll(setup_ems)
    # The next failure is held back again: the good poll started a new count.
    ems_simulator.set_fault(EmsFault.HTTP_ERROR, status=503)
    await poll(setup_ems)
    assert _state(hass, POWER) != STATE_UNAVAILABLE
    await poll(setup_ems)
    assert _state(hass, POWER) == STATE_UNAVAILABLE
    assert "device busy (503)" in str(_coordinator(setup_ems).last_exception)
    assert [r.levelname for r in caplog.records if r.levelno >= logging.WARNING] == [
        "ERROR"
    ]


async def test_unreadable_answer_is_not_reported_as_unreachable(
    hass: HomeAssistant, setup_ems: MockConfigEntry, ems_simulator: EmsSimulator
) -> None:
    """A gateway that answers 404/410 or garbage is there: the error says so."""
    ems_simulator.set_fault(EmsFault.HTTP_ERROR, status=410, path="/v1/signals")
    await poll(setup_ems)
    await poll(setup_ems)
    error = str(_coordinator(setup_ems).last_exception)
    assert "no longer offers" in error
    assert "410" in error
    assert "Cannot reach" not in error


# -- tokens -------------------------------------------------------------------


async def test_revoked_token_is_replaced_without_a_gap(
    hass: HomeAssistant, setup_ems: MockConfigEntry, ems_simulator: EmsSimulator
) -> None:
    """A 401 mid-operation: log in again and retry in the same cycle."""
    seen = _record_states(hass, [POWER, ENERGY_IMPORT])
    issued = ems_simulator.tokens_issued
    before = ems_simulator.requests.copy()
    ems_simulator.expire_tokens_now()
    await poll(setup_ems)
    assert ems_simulator.tokens_issued == issued + 1
    assert ems_simulator.requests - before == Counter({REALTIME: 2, LOGIN: 1})
    assert _coordinator(setup_ems).stats.last_requests == 3
    assert _coordinator(setup_ems).last_update_success
    await poll(setup_ems)
    assert ems_simulator.tokens_issued == issued + 1
    assert STATE_UNAVAILABLE not in seen
    assert number_state(hass, POWER) is not None


async def test_token_is_renewed_before_it_expires(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    ems_simulator: EmsSimulator,
    ems_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over 31 minutes of polls the client logs in once, a minute ahead of any 401."""
    await set_up_entry(hass, ems_entry)
    client = _coordinator(ems_entry).client
    expires_at = client.token_expires_at
    assert expires_at is not None
    assert 1790 < expires_at - time.time() <= 1800
    rejected = _count_rejections(monkeypatch, ems_simulator)
    seen = _record_states(hass, [POWER])
    logins = ems_simulator.requests[LOGIN]
    for minute in range(1, 32):
        realtime = ems_simulator.requests[REALTIME]
        await advance(hass, freezer, 60)
        assert ems_simulator.requests[REALTIME] == realtime + 1, minute
        # `exp` is whole seconds: after 28 minutes less than 120 s are left,
        # after 29 less than the 60 s margin.
        renewed = ems_simulator.requests[LOGIN] - logins
        assert renewed == (1 if minute >= 29 else 0), minute
    assert not rejected
    assert client.token_expires_at is not None
    assert client.token_expires_at > expires_at + 1700
    assert seen
    assert STATE_UNAVAILABLE not in seen


async def test_wrong_credentials_start_reauth(
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A password changed on the gateway: reauth flow, entities unavailable."""
    caplog.set_level(logging.DEBUG)
    ems_simulator.password = "n3w-Gateway-Secret"
    ems_simulator.expire_tokens_now()
    await poll(setup_ems)
    await hass.async_block_till_done()
    flows = [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == SOURCE_REAUTH
    ]
    assert len(flows) == 1
    assert flows[0]["context"]["entry_id"] == setup_ems.entry_id
    assert setup_ems.state is ConfigEntryState.LOADED
    assert _state(hass, POWER) == STATE_UNAVAILABLE
    assert _state(hass, ENERGY_IMPORT) == STATE_UNAVAILABLE
    assert PASSWORD not in caplog.text
    assert "n3w-Gateway-Secret" not in caplog.text
    assert "eyJ" not in caplog.text  # no token either
    assert "refused the login" in caplog.text


# -- samples ------------------------------------------------------------------


async def test_malformed_values_are_unknown_and_counters_hold(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Garbage `v`: measurements are unknown, energy totals keep their last value."""
    counters = [ENERGY_IMPORT, ENERGY_EXPORT, f"{HEAT_PUMP}_energy_import"]
    good = {entity_id: number_state(hass, entity_id) for entity_id in counters}
    assert all(number > 0 for number in good.values())
    seen = _record_states(hass, counters)
    ems_simulator.set_fault(EmsFault.MALFORMED_VALUES)
    for _ in range(3):
        await advance(hass, freezer, 10)
        for entity_id in (POWER, VOLTAGE, CURRENT, f"{HEAT_PUMP}_power"):
            assert _state(hass, entity_id) == STATE_UNKNOWN, entity_id
        for entity_id, number in good.items():
            assert number_state(hass, entity_id) == number, entity_id
    assert seen == []  # the totals never changed, not even to unknown
    ems_simulator.clear_fault(EmsFault.MALFORMED_VALUES)
    await advance(hass, freezer, 10)
    power = _signal(ems_simulator, 1, SI_POWER)
    assert number_state(hass, POWER) == _expected(ems_simulator, power)
    assert number_state(hass, ENERGY_IMPORT) > good[ENERGY_IMPORT]
    assert "Traceback" not in caplog.text


async def test_invalid_status_makes_the_value_unknown(
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sample the gateway marks invalid (`s` != 1) is not shown."""
    power = _signal(ems_simulator, 1, SI_POWER)
    energy = _signal(ems_simulator, 1, SI_ENERGY_IMPORT)
    total = number_state(hass, ENERGY_IMPORT)

    def invalid(signal: Signal, record: dict[str, Any]) -> dict[str, Any]:
        if signal in (power, energy):
            return {**record, "s": 0}
        return record

    _hook_realtime(monkeypatch, ems_simulator, invalid)
    await poll(setup_ems)
    assert _state(hass, POWER) == STATE_UNKNOWN
    assert number_state(hass, ENERGY_IMPORT) == total
    assert number_state(hass, VOLTAGE) > 200
    monkeypatch.undo()
    await poll(setup_ems)
    assert number_state(hass, POWER) == _expected(ems_simulator, power)


@pytest.mark.parametrize("glitch", ["lower", "zero"])
async def test_energy_total_never_goes_backwards(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    monkeypatch: pytest.MonkeyPatch,
    glitch: str,
) -> None:
    """A lower or zero total keeps the last published one."""
    energy = _signal(ems_simulator, 1, SI_ENERGY_IMPORT)
    published = number_state(hass, ENERGY_IMPORT)
    seen = _record_states(hass, [ENERGY_IMPORT])

    def backwards(signal: Signal, record: dict[str, Any]) -> dict[str, Any]:
        if signal is energy:
            return {**record, "v": published - 5.0 if glitch == "lower" else 0}
        return record

    _hook_realtime(monkeypatch, ems_simulator, backwards)
    for _ in range(2):
        await advance(hass, freezer, 10)
        assert number_state(hass, ENERGY_IMPORT) == published
    assert _state(hass, POWER) != STATE_UNAVAILABLE
    monkeypatch.undo()
    await advance(hass, freezer, 10)
    assert number_state(hass, ENERGY_IMPORT) == _expected(ems_simulator, energy)
    assert number_state(hass, ENERGY_IMPORT) > published
    assert seen == [str(_expected(ems_simulator, energy))]


async def test_stale_signal_becomes_unavailable(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sample time stuck for over 60 s (more than 3 polls) marks the meter lost."""
    power = _signal(ems_simulator, 1, SI_POWER)
    frozen: list[dict[str, Any]] = []

    def stuck(signal: Signal, record: dict[str, Any]) -> dict[str, Any]:
        if signal is power:
            frozen[:] = frozen or [record]
            return frozen[0]
        return record

    _hook_realtime(monkeypatch, ems_simulator, stuck)
    await advance(hass, freezer, 10)  # the last sample that moved
    stuck_value = number_state(hass, POWER)
    for _ in range(5):  # 50 s without a new sample: still shown
        await advance(hass, freezer, 10)
        assert number_state(hass, POWER) == stuck_value
    await advance(hass, freezer, 20)  # 70 s
    assert _state(hass, POWER) == STATE_UNAVAILABLE
    assert number_state(hass, VOLTAGE) > 200
    assert number_state(hass, ENERGY_IMPORT) > 0
    assert power.uid in _coordinator(setup_ems).data.stale
    monkeypatch.undo()
    await advance(hass, freezer, 10)
    assert number_state(hass, POWER) == _expected(ems_simulator, power)
    assert not _coordinator(setup_ems).data.stale


async def test_sample_without_time_is_not_stale(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a sample time there is no evidence of a stuck meter."""
    power = _signal(ems_simulator, 1, SI_POWER)

    def timeless(signal: Signal, record: dict[str, Any]) -> dict[str, Any]:
        if signal is power:
            return {key: item for key, item in record.items() if key != "t"}
        return record

    _hook_realtime(monkeypatch, ems_simulator, timeless)
    for _ in range(8):
        await advance(hass, freezer, 10)
        assert number_state(hass, POWER) == _expected(ems_simulator, power)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_disabled_signal_does_not_hide_the_second_page(
    hass: HomeAssistant,
    paged_simulator: EmsSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """Page 2 is read even when page 1 is short of a disabled signal's sample."""
    entry = await set_up_entry(hass, ems_entry_for(paged_simulator))
    _, entity_id = _newest_signal(paged_simulator, entity_registry)
    assert _state(hass, entity_id) != STATE_UNAVAILABLE
    # The heat pump's voltage L1 (on page 1) is switched off on the gateway.
    paged_simulator.installation.devices[30].loads[0].signals[0].enable = False
    await poll(entry)
    assert _state(hass, entity_id) != STATE_UNAVAILABLE
    assert _state(hass, f"{HEAT_PUMP}_power") != STATE_UNAVAILABLE


# -- the gateway changes under the entry -----------------------------------------


@pytest.fixture
async def tls_simulator(socket_enabled: None) -> AsyncGenerator[EmsSimulator]:
    """A gateway over HTTPS with a self-signed certificate."""
    simulator = EmsSimulator(username=USERNAME, password=PASSWORD, serial=SERIAL)
    await simulator.start(host="127.0.0.1", port=0, tls=True)
    yield simulator
    await simulator.stop()


async def test_new_certificate_starts_reauth(
    hass: HomeAssistant, tls_simulator: EmsSimulator
) -> None:
    """A gateway presenting another certificate than the trusted one is not read."""
    entry = await set_up_entry(hass, ems_entry_for(tls_simulator))
    assert _state(hass, POWER) != STATE_UNAVAILABLE
    port = tls_simulator.port
    trusted = tls_simulator.certificate_sha256
    await tls_simulator.stop()
    await tls_simulator.start(host="127.0.0.1", port=port, tls=True)
    assert tls_simulator.certificate_sha256 != trusted
    await poll(entry)
    await hass.async_block_till_done()
    assert _state(hass, POWER) == STATE_UNAVAILABLE
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert isinstance(_coordinator(entry).last_exception, Exception)
    assert "certificate" in str(_coordinator(entry).last_exception)


async def test_other_gateway_at_the_address(
    hass: HomeAssistant,
    setup_ems: MockConfigEntry,
    ems_simulator: EmsSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another serial at the next tree read: unavailable until the gateway is back."""
    caplog.set_level(logging.INFO)  # HA logs the traceback at debug level only
    ems_simulator.set_fault(EmsFault.HTTP_ERROR, status=503)
    await poll(setup_ems)  # a failed cycle: the next one reads the tree
    ems_simulator.clear_fault(EmsFault.HTTP_ERROR)
    ems_simulator.serial = "BX20000000"
    realtime = ems_simulator.requests[REALTIME]
    await poll(setup_ems)
    assert _state(hass, POWER) == STATE_UNAVAILABLE
    assert ems_simulator.requests[REALTIME] == realtime  # nothing else was read
    assert "Another device answers" in str(_coordinator(setup_ems).last_exception)
    ems_simulator.serial = SERIAL
    await poll(setup_ems)
    assert number_state(hass, POWER) == _expected(
        ems_simulator, _signal(ems_simulator, 1, SI_POWER)
    )
    assert "Traceback" not in caplog.text
