"""The fault matrix: every device type against every kind of fault.

A device type joins by writing one `Rig` (in a module next to this one) that
starts its simulator, names the entities to watch and declares, for every
`FaultKind`, how the simulator produces it and what Home Assistant must show,
or why the cell does not apply. `test_matrix.py` runs each cell the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum, StrEnum, auto
from typing import Any, Protocol

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.energy_gateways.const import DOMAIN


class FaultKind(StrEnum):
    """What can go wrong between Home Assistant and a device."""

    STREAM_DROPPED = auto()
    STREAM_STALLS = auto()
    SERVER_ERRORS = auto()
    """A burst of 5xx answers."""
    SLOW_ANSWERS = auto()
    """Answers slower than the client's request timeout."""
    UNAUTHORIZED = auto()
    """401 on a token that should be valid."""
    TOKEN_EXPIRES_EARLY = auto()
    PASSWORD_CHANGED = auto()
    MALFORMED_JSON = auto()
    TRUNCATED = auto()
    """A frame or body cut short."""
    UNKNOWN_CONTENT = auto()
    """Unknown message types, keys and records (a later firmware's)."""
    NUMBERS_AS_STRINGS = auto()
    MISSING_FIELD = auto()
    COUNTER_GLITCH = auto()
    """An energy counter read as 0, then as lower than before."""
    REBOOT = auto()
    """Down for ~10 s; uptime starts again."""
    GONE = auto()
    """Connection refused for minutes."""
    CERTIFICATE_CHANGED = auto()
    API_GONE = auto()
    """An API version or endpoint answers 404/410."""


class Outcome(Enum):
    """What a user must see while the fault lasts."""

    STEADY = auto()
    """Entities stay available throughout (a single bad frame, a token hiccup)."""
    RECOVERS = auto()
    """Entities may go unavailable; they are back soon after the fault ends."""
    GOES_UNAVAILABLE = auto()
    """The device is really gone: unavailable within 3 update intervals, and
    no value is shown again until it is back."""
    REAUTH = auto()
    """Home Assistant asks the user for credentials or trust; entities unavailable."""


type Action = Callable[[], Awaitable[None] | None]


@dataclass(frozen=True, kw_only=True)
class Fault:
    """How a rig's simulator produces a fault, and what must follow."""

    start: Action
    end: Action | None = None
    """Undo the fault (None: it ends by itself, e.g. a one-shot frame)."""
    outcome: Outcome
    lasts: float = 0.0
    """Seconds of (advanced) time the fault stays on before `end`."""
    lasts_updates: int = 0
    """Update cycles the device must go through with the fault on."""
    back_within: float = 60.0
    """Seconds after `end` by which the watched entities show values again."""
    max_unavailable: float | None = None
    """The longest the watched entities may stay unavailable at a time (a stream
    that reconnects at once must not wait for anything slow)."""
    check: Callable[[HomeAssistant], Awaitable[None]] | None = None
    """Extra assertions once the cell has run (e.g. the fingerprint shown)."""


POLLED = "polled over REST: there is no stream"


@dataclass(frozen=True)
class Skip:
    """A cell that does not apply to the device type, with the reason."""

    reason: str


async def call(action: Action) -> None:
    """Run a fault action, awaiting it when it is a coroutine."""
    result = action()
    if result is not None:
        await result


class Rig(ABC):
    """One device type's simulator, entry and fault declarations."""

    device_type: str
    interval: float
    """Seconds between the device's updates (a push, or a poll)."""
    renewed_keys: frozenset[str] = frozenset()
    """Entry data the integration renews and saves by itself (tokens it is
    handed anew): their values may change, they must not disappear."""

    @abstractmethod
    async def start(self) -> None:
        """Start the simulator on 127.0.0.1."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop the simulator."""

    @abstractmethod
    def entry(self) -> MockConfigEntry:
        """A config entry for the running simulator."""

    @property
    @abstractmethod
    def watched(self) -> tuple[str, ...]:
        """Entities whose availability shows whether the device is reachable."""

    @property
    @abstractmethod
    def energy(self) -> tuple[str, ...]:
        """Energy totals that must never read 0 or go backwards."""

    @abstractmethod
    def updates(self, entry: MockConfigEntry) -> int:
        """Update cycles (messages received, polls ended) so far."""

    @abstractmethod
    def faults(self) -> Mapping[FaultKind, Fault | Skip]:
        """Every fault kind: how to produce it here, or why it does not apply."""

    async def after_tick(self, hass: HomeAssistant) -> None:  # noqa: B027
        """Let the device's work for the new time finish (optional)."""


class FaultSwitches(Protocol):
    """A simulator whose faults are switched by name (every simulator here)."""

    def set_fault(self, fault: Any, **params: Any) -> None:
        """Switch a fault on."""

    def clear_fault(self, fault: Any) -> None:
        """Switch a fault off."""

    async def start(self, host: str, port: int) -> None:
        """Listen on `host:port` (0: a free port)."""

    async def stop(self) -> None:
        """Stop listening."""


class SwitchedRig(Rig):
    """A rig whose faults are the simulator's switches of the shared vocabulary."""

    simulator: FaultSwitches
    faults_enum: type[StrEnum]
    """The simulator's fault switches (`http_error`, `slow_response`, ...)."""

    async def start(self) -> None:
        await self.simulator.start(host="127.0.0.1", port=0)

    async def stop(self) -> None:
        await self.simulator.stop()

    def on(self, name: str, **params: object) -> None:
        """Switch a fault on by its shared name."""
        self.simulator.set_fault(self.faults_enum(name), **params)

    def off(self, name: str) -> None:
        """Switch a fault off by its shared name."""
        self.simulator.clear_fault(self.faults_enum(name))

    def switched(
        self, name: str, lasts_updates: int, outcome: Outcome = Outcome.STEADY
    ) -> Fault:
        """A fault that is on for `lasts_updates` update cycles, then off."""
        return Fault(
            start=lambda: self.on(name),
            end=lambda: self.off(name),
            lasts_updates=lasts_updates,
            outcome=outcome,
        )

    def request_faults(
        self, *, slow_seconds: float, slow_lasts: float, **error: object
    ) -> dict[FaultKind, Fault | Skip]:
        """A polled device's bad answers: 5xx bursts, slow answers, a refused token.

        `error` narrows the 5xx answers (e.g. `path`); `slow_seconds` must exceed
        the client's request time limit.
        """
        return {
            FaultKind.STREAM_DROPPED: Skip(POLLED),
            FaultKind.STREAM_STALLS: Skip(POLLED),
            FaultKind.SERVER_ERRORS: Fault(
                start=lambda: self.on("http_error", status=503, **error),
                end=lambda: self.off("http_error"),
                lasts_updates=3,
                outcome=Outcome.RECOVERS,
            ),
            FaultKind.SLOW_ANSWERS: Fault(
                start=lambda: self.on("slow_response", seconds=slow_seconds),
                end=lambda: self.off("slow_response"),
                lasts=slow_lasts,
                outcome=Outcome.RECOVERS,
            ),
            FaultKind.UNAUTHORIZED: Fault(
                start=lambda: self.on("unauthorized_once"),
                lasts_updates=2,
                outcome=Outcome.STEADY,
            ),
        }

    def content_faults(self) -> dict[FaultKind, Fault]:
        """Answers garbled in the shared ways: the entities must stay steady."""
        return {
            FaultKind.MALFORMED_JSON: self.switched("malformed_json", 1),
            FaultKind.TRUNCATED: self.switched("truncated_body", 1),
            FaultKind.UNKNOWN_CONTENT: self.switched("extra_fields", 3),
            FaultKind.NUMBERS_AS_STRINGS: self.switched("numbers_as_strings", 3),
            FaultKind.MISSING_FIELD: self.switched("missing_field", 3),
            FaultKind.COUNTER_GLITCH: Fault(
                start=lambda: self.on("glitch_counter", mode="zero"),
                end=lambda: self.on("glitch_counter", mode="backwards"),
                lasts_updates=1,
                outcome=Outcome.STEADY,
            ),
        }


LONG_RUNNING_PREFIX = f"{DOMAIN} stream"
"""Background tasks named so run for the entry's lifetime; never waited for."""


async def settle(hass: HomeAssistant, spins: int = 2000) -> None:
    """Let what the last tick started finish: timers, polls, socket traffic.

    A request the simulator holds back (a slow answer) ends only when time is
    advanced further, so the wait is bounded by `spins` event-loop turns.
    """
    await hass.async_block_till_done()
    tasks: set[asyncio.Task[Any]] = hass._background_tasks
    for _ in range(spins):
        if not any(
            not task.done() and not task.get_name().startswith(LONG_RUNNING_PREFIX)
            for task in tasks
        ):
            break
        await asyncio.sleep(0)
    # Frames written to a loopback socket arrive within a few turns.
    for _ in range(30):
        await asyncio.sleep(0)
    await hass.async_block_till_done()


@dataclass
class Timeline:
    """The advanced clock and every state the cell's entities took on it."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    rig: Rig
    now: float = 0.0
    states: list[tuple[float, str, str]] = field(default_factory=list)

    @callback
    def record(self, event: Event[EventStateChangedData]) -> None:
        """Note a state written for a watched entity or an energy total."""
        if (state := event.data["new_state"]) is not None:
            self.states.append((self.now, state.entity_id, state.state))

    async def tick(self) -> None:
        """Advance one second and let what it starts finish."""
        self.freezer.tick(timedelta(seconds=1))
        self.now += 1
        async_fire_time_changed(self.hass)
        await settle(self.hass)
        await self.rig.after_tick(self.hass)

    async def run(self, seconds: float) -> None:
        """Advance by `seconds`."""
        end = self.now + seconds
        while self.now < end:
            await self.tick()

    async def run_until(self, condition: Callable[[], bool], limit: float) -> bool:
        """Advance until `condition` holds (checked before each tick) or `limit` s."""
        end = self.now + limit
        while not condition():
            if self.now >= end:
                return False
            await self.tick()
        return True

    def available(self) -> bool:
        """Whether every watched entity shows a value (or unknown) now."""
        for entity_id in self.rig.watched:
            state = self.hass.states.get(entity_id)
            if state is None or state.state == STATE_UNAVAILABLE:
                return False
        return True

    def watched_states(
        self, since: float = 0.0, only: str | None = None
    ) -> list[tuple[float, str]]:
        """(time, state) of the watched entities (or `only` one) from `since` on."""
        watched = {only} if only is not None else set(self.rig.watched)
        return [
            (at, value)
            for at, entity_id, value in self.states
            if entity_id in watched and at >= since
        ]
