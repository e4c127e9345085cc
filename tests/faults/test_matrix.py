"""Every device type against every fault kind, through Home Assistant's surface.

Each cell sets the device type's entry up against its simulator on loopback,
lets values flow, switches the fault on, advances the (frozen) clock second by
second while recording every state the watched entities and energy totals take,
ends the fault and waits for recovery. It then asserts what a user must see:
- no traceback, and no ERROR line from the integration except the one line HA's
  coordinator writes when a polled device is lost (one per outage);
- unavailable within 3 update intervals when the device is really gone, never
  for a single bad frame, and no value shown again until the device is back;
- back without a reload within the fault's limit (60 s unless it says less);
- no energy total published as 0 or lower than before;
- the entry still loaded (or asking for reauth where that is the answer), its
  data and options unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from copy import deepcopy
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.energy_gateways.const import DOMAIN

from ..conftest import set_up_entry
from .buzzn import BuzznRig
from .cozify_han import HanRig
from .cozify_hub import CozifyHubRig
from .gavazzi_ems import EmsRig
from .matrix import Fault, FaultKind, Outcome, Rig, Skip, Timeline, call
from .ziggymeter import ZiggyRig

RIGS: dict[str, Callable[[], Rig]] = {
    rig.device_type: rig for rig in (HanRig, EmsRig, ZiggyRig, BuzznRig, CozifyHubRig)
}
"""One line per device type."""

LIMIT = 600.0
"""No cell runs longer than this much advanced time."""
INTEGRATION_LOGGER = "custom_components.energy_gateways"
COORDINATOR_LINES = ("Error fetching ", "Authentication failed while fetching ")
"""How HA's DataUpdateCoordinator starts its one line for a lost device, or for
one that refuses the credentials."""


@pytest.fixture
async def rig(device_type: str, socket_enabled: None) -> AsyncGenerator[Rig]:
    """The device type's simulator, running."""
    rig = RIGS[device_type]()
    await rig.start()
    yield rig
    await rig.stop()


def _reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    return [
        flow["flow_id"]
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
        and flow["context"].get("entry_id") == entry.entry_id
    ]


def _numbers(values: list[str]) -> list[float]:
    return [
        float(value)
        for value in values
        if value not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
    ]


@pytest.mark.parametrize("kind", list(FaultKind))
@pytest.mark.parametrize("device_type", list(RIGS))
async def test_fault(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    rig: Rig,
    kind: FaultKind,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One cell of the matrix: `rig`'s device under fault `kind`."""
    fault = rig.faults()[kind]
    if isinstance(fault, Skip):
        pytest.skip(fault.reason)
    caplog.set_level(logging.INFO)
    entry = await set_up_entry(hass, rig.entry())
    data, options = deepcopy(dict(entry.data)), deepcopy(dict(entry.options))
    runtime = entry.runtime_data
    timeline = Timeline(hass, freezer, rig)
    entities = [*rig.watched, *rig.energy]
    entry.async_on_unload(
        async_track_state_change_event(hass, entities, timeline.record)
    )
    for entity_id in entities:
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        # The starting value, so an outage counts even if no value changed
        # before it (a power that stays the same at night).
        timeline.states.append((timeline.now, entity_id, state.state))
    energy_before = {
        entity_id: _numbers([hass.states.get(entity_id).state])  # type: ignore[union-attr]
        for entity_id in rig.energy
    }

    await timeline.run(2 * rig.interval)  # values flowing
    assert timeline.available(), "not available before the fault"
    started = timeline.now
    updates = rig.updates(entry)
    await call(fault.start)
    assert await timeline.run_until(
        lambda: (
            timeline.now - started >= fault.lasts
            and rig.updates(entry) - updates >= fault.lasts_updates
        ),
        LIMIT,
    ), "the fault never took its course"
    ended = timeline.now
    if fault.end is not None:
        await call(fault.end)

    if fault.outcome is Outcome.REAUTH:
        assert await timeline.run_until(
            lambda: bool(_reauth_flows(hass, entry)), 3 * rig.interval
        ), "no reauth flow"
        assert not timeline.available()
    else:
        back = await timeline.run_until(timeline.available, fault.back_within)
        assert back, f"not back within {fault.back_within} s of the device's return"
        await timeline.run(2 * rig.interval)  # and it stays back
        assert timeline.available()
    if fault.check is not None:
        await fault.check(hass)

    _assert_availability(timeline, fault, started, ended)
    _assert_energy(timeline, energy_before)
    _assert_log(caplog, timeline)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is runtime, "the entry was reloaded"
    kept = {
        key: value for key, value in entry.data.items() if key not in rig.renewed_keys
    }
    assert kept == {key: data[key] for key in kept}
    assert set(entry.data) == set(data)
    assert all(entry.data[key] for key in rig.renewed_keys)
    assert dict(entry.options) == options
    if fault.outcome is not Outcome.REAUTH:
        assert not _reauth_flows(hass, entry)


def _assert_availability(
    timeline: Timeline, fault: Fault, started: float, ended: float
) -> None:
    states = timeline.watched_states(since=started)
    lost = [at for at, value in states if value == STATE_UNAVAILABLE]
    if fault.max_unavailable is not None:
        longest = _longest_outage(
            timeline.watched_states(only=timeline.rig.watched[0]), timeline.now
        )
        assert longest <= fault.max_unavailable, f"unavailable for {longest} s"
    if fault.outcome is Outcome.STEADY:
        assert not lost, f"unavailable at {lost} s for a fault that should not cost it"
    if fault.outcome is Outcome.GOES_UNAVAILABLE:
        assert lost, "still shown while the device is gone"
        deadline = started + 3 * timeline.rig.interval
        assert lost[0] <= deadline, (
            f"unavailable only {lost[0] - started} s after the device went"
        )
        shown = [
            at
            for at, value in states
            if lost[0] < at < ended and value != STATE_UNAVAILABLE
        ]
        assert not shown, f"a value was shown at {shown} s while the device was gone"


def _assert_energy(timeline: Timeline, before: dict[str, list[float]]) -> None:
    for entity_id, previous in before.items():
        values = previous + _numbers(
            [value for _, eid, value in timeline.states if eid == entity_id]
        )
        assert all(value > 0 for value in values), (entity_id, values)
        assert values == sorted(values), f"{entity_id} went backwards: {values}"


def _assert_log(caplog: pytest.LogCaptureFixture, timeline: Timeline) -> None:
    tracebacks = [
        record.getMessage()
        for record in caplog.records
        if record.exc_info and record.levelno >= logging.INFO
    ]
    assert not tracebacks, tracebacks
    errors = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith(INTEGRATION_LOGGER)
        and record.levelno >= logging.ERROR
    ]
    unexpected = [line for line in errors if not line.startswith(COORDINATOR_LINES)]
    assert not unexpected, unexpected
    outages = _outages(timeline.watched_states(only=timeline.rig.watched[0]))
    assert len(errors) <= outages, (errors, outages)


def _outages(states: list[tuple[float, str]]) -> int:
    """How many times the watched entities went from a value to unavailable."""
    outages = 0
    previous = None
    for _, value in states:
        if value == STATE_UNAVAILABLE and previous not in (None, STATE_UNAVAILABLE):
            outages += 1
        previous = value
    return outages


def _longest_outage(states: list[tuple[float, str]], now: float) -> float:
    """The longest stretch of time the entity was unavailable."""
    longest = 0.0
    lost_at: float | None = None
    for at, value in states:
        if value == STATE_UNAVAILABLE:
            lost_at = at if lost_at is None else lost_at
        elif lost_at is not None:
            longest = max(longest, at - lost_at)
            lost_at = None
    if lost_at is not None:
        longest = max(longest, now - lost_at)
    return longest
