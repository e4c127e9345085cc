"""Soak: one Home Assistant core, a HAN reader and an EMS gateway, random faults.

Runs ONE real Home Assistant core in-process (`harness.running_hass`) with two
entries against simulators on 127.0.0.1 only: a Cozify HAN reader pushing one
meter message per second over its WebSocket, and a Carlo Gavazzi EMS gateway
over HTTPS (certificate pinned by fingerprint) polled every 10 s, the default.

Timeline, in seconds after set-up: a 30 s warm-up, then the start figures (task
count and RSS); random faults from then until 60 s before the end, one every
~`--fault-every` s (uniform jitter of +/-50 %, drawn from `--seed`, so a seed
repeats the same faults at the same times), each cleared again after its hold
time; the last minute is quiet so that everything reconnects and settles; then
the end figures. The faults are the simulators' own (`fault_actions`, the one
place that looks up faults added to the simulators later), only those the
integration must survive unattended: nothing that needs a reauth.

What is measured, and how:

- HAN messages. The reader's *Meter time* sensor (disabled by default; the soak
  enables it in the entity registry before set-up) shows each message's own
  time stamp, so every meter message changes its state. Counting writes of a
  value sensor (power) would not do: two readings can have the same power,
  and the burst a reader sends on every reconnect repeats the latest reading.
  Home Assistant shows the time stamp to the whole second, so messages are
  keyed by their meter-time second: the reader's 1 s push is started half-way
  through a wall-clock second (it would take a 0.5 s stall of the event loop
  to put two pushes into one second), and faults are injected a quarter
  second after a push, never at the moment of one (a malformed message with
  a fresh time stamp then shares the second of the push before it). A
  message counts as *sent* when the simulator broadcast it while a stream
  client was attached (not stalled, not rebooting, not taken offline by the
  soak), and as *shown* once `hass.states` holds its meter time. Missing =
  sent - shown, after a grace of a few seconds; it must be 0. A message
  whose second HA already shows cannot be checked and is counted apart: the
  one case is the first push after a reboot, whose reconnect burst carried
  a fresh reading of the same second.
- Also per message: the delay from the broadcast to `hass.states`.
- Reconnects: the HAN coordinator's `stats.reconnects`.
- EMS polls: Home Assistant's DataUpdateCoordinator logs every refresh at debug
  level ("Finished fetching ... (success: ...)"); the soak raises the
  integration's logger to DEBUG and counts those lines. Failed = refreshes -
  cycles that succeeded by the EMS coordinator's own count (`stats.cycles`),
  since one failed cycle alone keeps the last values and looks like a success
  to HA; the refreshes HA saw fail are printed too.
- Memory: VmRSS from /proc/self/status (after a garbage collection); tasks:
  `len(asyncio.all_tasks())`, the least of samples over 5 s (a poll in flight
  is not a leak), at the start and at the end.
- Log records of `custom_components.energy_gateways` (captured, not printed as
  they come): tracebacks, WARNING/ERROR records, and apart from them the one
  ERROR "Error fetching ... data" per EMS outage and its "recovered" INFO line,
  which are expected. Records of other loggers (HA core, simulators) are
  counted separately.

Verdict (PASS/FAIL): no HAN message missing, task count at the end at most the
start's + 5, RSS growth below 5 MB per 30 minutes (scaled down linearly for
shorter runs, never below 2 MB), no traceback from the integration, and
everything recovered at the end (stream up, EMS poll succeeding, no reauth,
no entry reloaded). The run is bounded: --minutes after set-up, plus a few
seconds to set up and tear down.

    python -m benchmarks.soak [--minutes 10] [--fault-every 20] [--seed N]
                              [--faults han.offline,ems.] [--verbose]

`--faults` draws only the fault kinds starting with one of the given prefixes;
`--verbose` prints every fault as it is switched on (+) and off (-).
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
import gc
import inspect
import logging
import math
from pathlib import Path
import random
import sys
import time
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntry, ConfigEntryState
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.cozify_han.coordinator import (
    HanCoordinator,
)
from custom_components.energy_gateways.devices.gavazzi_ems.coordinator import (
    EmsCoordinator,
)
from simulators.cozify_han import HanFault, HanSimulator
from simulators.cozify_han.simulator import MALFORMED_KINDS
from simulators.gavazzi_ems import EmsFault, EmsSimulator

from .harness import (
    LOOPBACK,
    async_set_up,
    async_wait_for_stream,
    ems_entry,
    han_entry,
    running_hass,
)

INTEGRATION_LOGGER = "custom_components.energy_gateways"
PUSH_INTERVAL = 1.0
WARM_UP = 30.0
QUIET = 60.0
"""No fault in the last minute: the integration reconnects and settles."""
SAMPLE_SECONDS = 5.0
DELIVERY_GRACE = 3.0
"""A message not shown this long after it was sent is missing."""
TASK_SLACK = 5
MEMORY_MB_PER_30_MIN = 5.0
MEMORY_FLOOR_MB = 2.0
STEP_TIMEOUT = 30.0
"""Longest a fault's injection or clearing may take."""

FINISHED = "Finished fetching %s data in %.3f seconds (success: %s)"
OUTAGE = "Error fetching %s data: %s"
RECOVERED = "Fetching %s data recovered"
LOST = "Lost connection to "
"""How the stream's INFO line per outage starts."""


# ---- HAN messages: sent vs shown ------------------------------------------------


@dataclass(slots=True)
class Ledger:
    """Meter messages sent with a stream open, and which of them HA showed."""

    counting: bool = True
    link_cut: bool = False
    """Set while the soak holds the reader offline: nothing sent counts."""
    last_push: float | None = None
    """Monotonic time of the newest push (sets the phase of the injections)."""
    sent: int = 0
    """Distinct meter-time seconds broadcast while a stream client was attached."""
    sent_unconnected: int = 0
    unchecked: int = 0
    """Messages whose meter-time second HA showed already (they cannot be told
    apart): the previous message's, or a reconnect burst's taking a fresh reading."""
    shown: int = 0
    late: int = 0
    """Shown more than 1 s after they were sent."""
    delay_max: float = 0.0
    delay_max_at: float = 0.0
    """Monotonic time the slowest message was shown."""
    delay_total: float = 0.0
    _pending: dict[int, float] = field(default_factory=dict)
    _last_sent: int | None = None
    _last_shown: int | None = None

    def note_sent(self, ts_ms: int, *, connected: bool) -> None:
        """Note a meter message the simulator broadcast."""
        second = ts_ms // 1000
        previous, self._last_sent = self._last_sent, second
        if not self.counting:
            return
        if not connected:
            self.sent_unconnected += 1
        elif second in (previous, self._last_shown):
            self.unchecked += 1
        else:
            self.sent += 1
            self._pending[second] = time.monotonic()

    def note_shown(self, second: int) -> None:
        """Note a meter time that reached `hass.states`."""
        self._last_shown = second
        sent_at = self._pending.pop(second, None)
        if sent_at is None:
            return  # sent with no stream open, or a repeat of the reconnect burst
        now = time.monotonic()
        delay = now - sent_at
        self.shown += 1
        self.delay_total += delay
        if delay > self.delay_max:
            self.delay_max, self.delay_max_at = delay, now
        if delay > 1.0:
            self.late += 1

    def missing(self, grace: float = DELIVERY_GRACE) -> int:
        """Messages sent more than `grace` s ago and not shown."""
        limit = time.monotonic() - grace
        return sum(1 for sent_at in self._pending.values() if sent_at < limit)

    @property
    def pending(self) -> int:
        """Messages sent and not shown (yet)."""
        return len(self._pending)

    def next_gap(self, target: float) -> float:
        """Return the first monotonic time >= `target` between two pushes.

        A quarter interval after a push: far from both pushes, and a message
        a fault sends with a fresh time stamp (`send_malformed`) falls into the
        second of the push before it, not of the one after.
        """
        if self.link_cut:
            # The reader pushes again 1 s after it is back: keep the pushes
            # half-way through a wall-clock second.
            wall = time.time() - time.monotonic() + target
            return target + (0.5 - wall % 1.0) % 1.0
        last = self.last_push
        if last is None:
            return target
        first = last + PUSH_INTERVAL / 4
        steps = max(0, math.ceil((target - first) / PUSH_INTERVAL))
        return first + steps * PUSH_INTERVAL

    @callback
    def async_watch(self, hass: HomeAssistant, entity_id: str) -> Callable[[], None]:
        """Note every meter time `entity_id` shows; return the unsubscribe."""

        @callback
        def on_change(event: Event[EventStateChangedData]) -> None:
            state = event.data["new_state"]
            if state is None:
                return
            try:
                moment = datetime.fromisoformat(state.state)
            except ValueError:
                return  # unavailable or unknown
            self.note_shown(int(moment.timestamp()))

        return async_track_state_change_event(hass, [entity_id], on_change)


class SoakHanSimulator(HanSimulator):
    """The HAN reader simulator, telling the ledger about every meter message."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__(push_interval=PUSH_INTERVAL)
        self.ledger = ledger

    def push_meter(self) -> dict[str, Any]:
        """Push as the simulator does; note the message if it was broadcast."""
        self.ledger.last_push = time.monotonic()
        connected = (
            self.stream_clients > 0 and not self.rebooting and not self.ledger.link_cut
        )
        before = self.meter_messages_sent
        message = super().push_meter()
        if self.meter_messages_sent > before:  # not when the stream is stalled
            self.ledger.note_sent(int(message["ts"]), connected=connected)
        return message


# ---- faults ------------------------------------------------------------------

type Step = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class FaultAction:
    """One kind of fault: how to switch it on and, after `hold` s, off again."""

    kind: str
    inject: Step
    clear: Step | None = None
    hold: tuple[float, float] = (0.0, 0.0)
    """Range of seconds the fault stays on (a reboot: its down time)."""
    group: str | None = None
    """Faults of one group (one device's link) never overlap."""
    recover: float = 0.0
    """Seconds the integration may need after the clear to reconnect."""
    weight: float = 1.0


def _step(call: Callable[[], object]) -> Step:
    """Wrap `call` as a step, awaiting its result when it is awaitable."""

    async def run() -> None:
        result = call()
        if inspect.isawaitable(result):
            await result

    return run


def fault_actions(
    han: SoakHanSimulator, ems: EmsSimulator, ledger: Ledger
) -> list[FaultAction]:
    """List the faults to draw from: every one the simulators offer here and now.

    Faults being added to the simulators are used only when present: this is
    the one place that looks them up (enum members by name, methods with
    getattr), so the soak runs before and after they land. Left out: faults
    that need a reauth (password or certificate change, tokens expiring for
    good), and tree changes that reload the entry.
    """

    def han_fault(fault: HanFault, **params: Any) -> tuple[Step, Step]:
        return (
            _step(lambda: han.set_fault(fault, **params)),
            _step(lambda: han.clear_fault(fault)),
        )

    def ems_fault(fault: EmsFault, **params: Any) -> tuple[Step, Step]:
        return (
            _step(lambda: ems.set_fault(fault, **params)),
            _step(lambda: ems.clear_fault(fault)),
        )

    def malformed(kind: str) -> Step:
        return _step(lambda: han.send_malformed(kind))

    def on_off(
        kind: str, steps: tuple[Step, Step], hold: tuple[float, float], **more: Any
    ) -> FaultAction:
        return FaultAction(kind, steps[0], steps[1], hold=hold, **more)

    actions = [
        FaultAction("han.drop_streams", _step(han.drop_streams)),
        on_off(
            "han.stall_stream",
            han_fault(HanFault.STALL_STREAM),
            (35.0, 45.0),
            group="han.link",
            recover=5.0,
        ),
        on_off("han.http_503", han_fault(HanFault.HTTP_ERROR, status=503), (5.0, 20.0)),
        on_off(
            "han.slow_15s",
            han_fault(HanFault.SLOW_RESPONSE, seconds=15.0),
            (20.0, 45.0),
        ),
        *(
            on_off(
                f"han.glitch_{mode}",
                han_fault(HanFault.GLITCH_COUNTER, mode=mode),
                (3.0, 3.0),
                weight=0.5,
            )
            for mode in ("zero", "backwards")
        ),
        *(
            FaultAction(
                f"han.malformed_{kind}",
                malformed(kind),
                weight=2.0 / len(MALFORMED_KINDS),
            )
            for kind in MALFORMED_KINDS
        ),
        FaultAction(
            "han.reboot_10s",
            _step(lambda: han.reboot(duration=10.0)),
            hold=(10.0, 10.0),
            group="han.link",
            recover=10.0,
        ),
        on_off("ems.http_503", ems_fault(EmsFault.HTTP_ERROR, status=503), (5.0, 30.0)),
        on_off(
            "ems.slow_15s",
            ems_fault(EmsFault.SLOW_RESPONSE, seconds=15.0),
            (20.0, 40.0),
        ),
        FaultAction("ems.expire_tokens_now", _step(ems.expire_tokens_now)),
        on_off(
            "ems.malformed_values", ems_fault(EmsFault.MALFORMED_VALUES), (10.0, 30.0)
        ),
    ]
    reboot: Callable[..., object] = han.reboot
    if "refuse_connections" in inspect.signature(reboot).parameters:
        actions.append(
            FaultAction(
                "han.reboot_10s_refusing",
                _step(lambda: reboot(10.0, refuse_connections=True)),
                hold=(10.0, 10.0),
                group="han.link",
                recover=10.0,
            )
        )
    if (extra := HanFault.__members__.get("EXTRA_FIELDS")) is not None:
        actions.append(on_off("han.extra_fields", han_fault(extra), (10.0, 30.0)))
    newer_ems_faults = (
        EmsFault.__members__.get(name)
        for name in (
            "UNAUTHORIZED_ONCE",
            "MALFORMED_JSON",
            "TRUNCATED_BODY",
            "EXTRA_FIELDS",
            "NUMBERS_AS_STRINGS",
            "MISSING_FIELD",
            "GLITCH_COUNTER",
        )
    )
    actions.extend(
        on_off(f"ems.{fault.value}", ems_fault(fault), (10.0, 30.0))
        for fault in newer_ems_faults
        if fault is not None
    )
    han_offline = _offline_steps(han, ledger)
    if han_offline is not None:
        actions.append(
            on_off(
                "han.offline",
                han_offline,
                (60.0, 120.0),
                group="han.link",
                recover=45.0,
            )
        )
    ems_offline = _offline_steps(ems, None)
    if ems_offline is not None:
        actions.append(
            on_off(
                "ems.offline",
                ems_offline,
                (60.0, 120.0),
                group="ems.link",
                recover=15.0,
            )
        )
    ems_reboot = getattr(ems, "reboot", None)
    if callable(ems_reboot):
        actions.append(
            FaultAction(
                "ems.reboot_20s",
                _step(lambda: ems_reboot(duration=20.0)),
                hold=(20.0, 20.0),
                group="ems.link",
                recover=15.0,
            )
        )
    return actions


def _offline_steps(
    simulator: object, ledger: Ledger | None
) -> tuple[Step, Step] | None:
    """`go_offline()` / `come_back()` of a simulator that has them."""
    go_offline = getattr(simulator, "go_offline", None)
    come_back = getattr(simulator, "come_back", None)
    if not callable(go_offline) or not callable(come_back):
        return None
    leave, back = _step(go_offline), _step(come_back)

    async def offline() -> None:
        if ledger is not None:
            ledger.link_cut = True
        try:
            await leave()
        except BaseException:
            if ledger is not None:
                ledger.link_cut = False
            raise

    async def online() -> None:
        try:
            await back()
        finally:
            if ledger is not None:
                ledger.link_cut = False

    return offline, online


@dataclass(frozen=True, slots=True)
class Planned:
    """One fault of the plan, in seconds after set-up."""

    at: float
    action: FaultAction
    hold: float


def plan_faults(
    actions: list[FaultAction],
    rng: random.Random,
    *,
    start: float,
    end: float,
    settled_by: float,
    every: float,
) -> list[Planned]:
    """Draw the faults: one every `every` s +/-50 % after `start`.

    Each is cleared by `end` and leaves its `recover` time before `settled_by`;
    a fault is not repeated while on, and a group's faults do not overlap.
    """
    plan: list[Planned] = []
    busy: dict[str, float] = {}
    at = start
    while (at := at + rng.uniform(0.5, 1.5) * every) < end:
        fitting = [
            action
            for action in actions
            if busy.get(action.kind, 0.0) <= at
            and (action.group is None or busy.get(action.group, 0.0) <= at)
            and at + action.hold[0] <= end
            and at + action.hold[0] + action.recover <= settled_by
        ]
        if not fitting:
            continue
        action = rng.choices(fitting, [action.weight for action in fitting])[0]
        hold = min(
            rng.uniform(*action.hold), end - at, settled_by - action.recover - at
        )
        plan.append(Planned(at, action, hold))
        busy[action.kind] = at + hold + action.recover
        if action.group is not None:
            busy[action.group] = at + hold + action.recover
    return plan


# ---- log records ------------------------------------------------------------------


class LogCapture(logging.Handler):
    """Counts the records of the integration (and, apart, of everything else)."""

    def __init__(self, ems_name: str) -> None:
        super().__init__(logging.DEBUG)
        self.ems_name = ems_name
        self.polls: Counter[bool] = Counter()
        """EMS refreshes by success."""
        self.outages: Counter[str] = Counter()
        """Expected 'Error fetching ... data' ERROR lines, per coordinator."""
        self.recoveries: Counter[str] = Counter()
        self.outages_logged = 0
        """The stream's 'Lost connection' INFO lines."""
        self.unexpected: Counter[str] = Counter()
        """Other WARNING/ERROR records of the integration, per template."""
        self.others: Counter[str] = Counter()
        """WARNING/ERROR records of other loggers, per logger and template."""
        self.examples: dict[str, str] = {}
        self.tracebacks: list[str] = []
        """Tracebacks from the integration's code (the first few)."""
        self.traceback_count = 0
        self.other_tracebacks: list[str] = []
        self.other_traceback_count = 0
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        """Count one record."""
        try:
            self._count(record)
        except Exception:  # a logging handler must not raise
            self.handleError(record)

    def _count(self, record: logging.LogRecord) -> None:
        ours = record.name == INTEGRATION_LOGGER or record.name.startswith(
            INTEGRATION_LOGGER + "."
        )
        template = str(record.msg)
        args = record.args if isinstance(record.args, tuple) else ()
        if record.levelno < logging.WARNING:
            if not ours:
                return
            if template == FINISHED and args and args[0] == self.ems_name:
                self.polls[bool(args[2])] += 1
            elif template == RECOVERED and args:
                self.recoveries[str(args[0])] += 1
            elif template.startswith(LOST):
                self.outages_logged += 1
            return
        if record.exc_info is not None and record.exc_info[0] is not None:
            text = (
                f"{record.levelname} {record.name}: {record.getMessage()}\n"
                + self._formatter.formatException(record.exc_info)
            )
            if ours or "custom_components/energy_gateways" in text:
                self.traceback_count += 1
                if len(self.tracebacks) < 5:
                    self.tracebacks.append(text)
            else:
                self.other_traceback_count += 1
                if len(self.other_tracebacks) < 3:
                    self.other_tracebacks.append(text)
            return
        if ours and template == OUTAGE and record.levelno == logging.ERROR and args:
            self.outages[str(args[0])] += 1
            return
        if record.name == "homeassistant.loader" and "custom integration" in template:
            return  # "We found a custom integration ...": this one, on every start
        key = f"{record.levelname} {record.name}: {template}"
        (self.unexpected if ours else self.others)[key] += 1
        self.examples.setdefault(key, record.getMessage()[:300])


@contextmanager
def capturing(capture: LogCapture) -> Iterator[None]:
    """Route the integration's records (debug and up) and everyone's warnings to `capture`."""
    ours = logging.getLogger(INTEGRATION_LOGGER)
    root = logging.getLogger()
    level, propagate = ours.level, ours.propagate
    ours.setLevel(logging.DEBUG)
    ours.propagate = False
    ours.addHandler(capture)
    root_handler = _Forward(capture)
    root.addHandler(root_handler)
    try:
        yield
    finally:
        root.removeHandler(root_handler)
        ours.removeHandler(capture)
        ours.setLevel(level)
        ours.propagate = propagate


class _Forward(logging.Handler):
    """Other loggers' WARNING and up, to the capture (and off the console)."""

    def __init__(self, capture: LogCapture) -> None:
        super().__init__(logging.WARNING)
        self._capture = capture

    def emit(self, record: logging.LogRecord) -> None:
        self._capture.emit(record)


# ---- figures ----------------------------------------------------------------------


def rss_kib() -> int:
    """Resident set size of this process, in KiB (VmRSS)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _task_names() -> Counter[str]:
    names: Counter[str] = Counter()
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        names[str(getattr(coro, "__qualname__", type(coro).__name__))] += 1
    return names


@dataclass(frozen=True, slots=True)
class Steady:
    """Task count (least of the samples) and RSS at one point of the run."""

    tasks: int
    by_coroutine: Counter[str]
    rss_kib: int
    at: float


async def steady_figures(seconds: float = SAMPLE_SECONDS) -> Steady:
    """Sample the task count over `seconds` (keep the least), then the RSS."""
    least: Counter[str] | None = None
    for _ in range(10):
        names = _task_names()
        if least is None or names.total() < least.total():
            least = names
        await asyncio.sleep(seconds / 10)
    assert least is not None
    gc.collect()
    return Steady(least.total(), least, rss_kib(), time.monotonic())


def _mb(kib: float) -> str:
    return f"{kib / 1024:.1f} MB"


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes:2d}:{rest:02d}"


# ---- the run --------------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """What the soak saw, for the report."""

    start: Steady
    end: Steady
    elapsed: float
    fault_window: tuple[float, float]
    recovered: list[str]
    """Why the run has not recovered at the end (empty: it has)."""
    ems_polls: int
    """EMS refreshes (HA's 'Finished fetching' lines), failed or not."""
    ems_failed_in_ha: int
    """Refreshes HA saw fail (entities unavailable)."""
    ems_cycles: int
    """Polling cycles that succeeded, by the coordinator's own count."""


class Soak:
    """The running soak: both entries loaded, the faults to inject."""

    def __init__(
        self,
        hass: HomeAssistant,
        han: SoakHanSimulator,
        ems: EmsSimulator,
        han_entry: ConfigEntry,
        ems_entry: ConfigEntry,
        logs: LogCapture,
        *,
        verbose: bool = False,
    ) -> None:
        self.hass = hass
        self.verbose = verbose
        self.han = han
        self.ems = ems
        self.ledger = han.ledger
        self.han_entry = han_entry
        self.ems_entry = ems_entry
        self.han_coordinator: HanCoordinator = han_entry.runtime_data.coordinator
        self.ems_coordinator: EmsCoordinator = ems_entry.runtime_data.coordinator
        self.logs = logs
        self.injected: Counter[str] = Counter()
        self.injection_errors: list[str] = []
        self.t0 = time.monotonic()

    def progress(self) -> str:
        """One line of figures so far."""
        ledger = self.ledger
        return (
            f"[{_clock(time.monotonic() - self.t0)}] HAN sent {ledger.sent}"
            f" shown {ledger.shown} missing {ledger.missing()}"
            f" (in flight {ledger.pending - ledger.missing()})"
            f" | reconnects {self.han_coordinator.stats.reconnects}"
            f" | faults {self.injected.total()}"
            f" | EMS polls {self.logs.polls.total()}"
            f" ({self.logs.polls.total() - self.ems_coordinator.stats.cycles} failed)"
            f" | RSS {_mb(rss_kib())} | tasks {len(asyncio.all_tasks())}"
        )

    async def wait_until(self, seconds: float) -> None:
        """Sleep until `seconds` after set-up, printing progress every minute."""
        target = self.t0 + seconds
        while True:
            now = time.monotonic()
            minute = self.t0 + 60.0 * (math.floor((now - self.t0) / 60.0) + 1)
            if minute > target:
                await asyncio.sleep(max(0.0, target - now))
                return
            await asyncio.sleep(max(0.0, minute - now))
            print(self.progress(), flush=True)

    async def run(self, total: float, plan: list[Planned]) -> Outcome:
        """Warm up, inject the faults of `plan`, settle; return the figures."""
        await self.wait_until(WARM_UP - SAMPLE_SECONDS)
        start = await steady_figures()
        injector = asyncio.create_task(self._inject(plan))
        await self.wait_until(total - SAMPLE_SECONDS - DELIVERY_GRACE)
        if not injector.done():  # a step hung: never past the quiet minute
            injector.cancel()
            self.injection_errors.append("the injector had not finished; cancelled")
        await asyncio.gather(injector, return_exceptions=True)
        self._check_all_cleared()
        self.ledger.counting = False
        await asyncio.sleep(DELIVERY_GRACE)
        recovered = self._not_recovered()
        end = await steady_figures()
        return Outcome(
            start=start,
            end=end,
            elapsed=time.monotonic() - self.t0,
            fault_window=(WARM_UP, total - QUIET),
            recovered=recovered,
            ems_polls=self.logs.polls.total(),
            ems_failed_in_ha=self.logs.polls[False],
            ems_cycles=self.ems_coordinator.stats.cycles,
        )

    async def _sleep_until_gap(self, seconds: float) -> None:
        """Sleep until `seconds` after set-up, then on to a moment between pushes."""
        target = self.ledger.next_gap(self.t0 + seconds)
        await asyncio.sleep(max(0.0, target - time.monotonic()))

    async def _inject(self, plan: list[Planned]) -> None:
        clears: set[asyncio.Task[None]] = set()
        for planned in plan:
            await self._sleep_until_gap(planned.at)
            action = planned.action
            if not await self._do(action.kind, action.inject):
                continue
            self.injected[action.kind] += 1
            self._say(
                f"+ {action.kind}"
                + (f" for {planned.hold:.0f} s" if action.clear else "")
            )
            if action.clear is not None:
                task = asyncio.create_task(self._clear_later(planned, action.clear))
                clears.add(task)
                task.add_done_callback(clears.discard)
        if clears:
            await asyncio.gather(*clears)

    async def _clear_later(self, planned: Planned, clear: Step) -> None:
        await self._sleep_until_gap(planned.at + planned.hold)
        if await self._do(f"{planned.action.kind} (clear)", clear):
            self._say(f"- {planned.action.kind}")

    def _say(self, text: str) -> None:
        if self.verbose:
            print(f"[{_clock(time.monotonic() - self.t0)}] {text}", flush=True)

    async def _do(self, what: str, step: Step) -> bool:
        try:
            async with asyncio.timeout(STEP_TIMEOUT):
                await step()
        except Exception as err:  # reported; the soak goes on
            self.injection_errors.append(f"{what}: {err!r}")
            return False
        return True

    def _check_all_cleared(self) -> None:
        for name, simulator in (("han", self.han), ("ems", self.ems)):
            if simulator.faults:
                self.injection_errors.append(
                    f"{name} faults left on: {simulator.faults}"
                )
                simulator.clear_faults()
        if self.ledger.link_cut:
            self.injection_errors.append("the HAN reader was left offline")

    def _not_recovered(self) -> list[str]:
        hass = self.hass
        problems = [
            f"{entry.title} is {entry.state}"
            for entry in hass.config_entries.async_entries(DOMAIN)
            if entry.state is not ConfigEntryState.LOADED
        ]
        reauths = [
            flow
            for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["context"].get("source") == SOURCE_REAUTH
        ]
        if reauths:
            problems.append(f"{len(reauths)} reauth flow(s) started")
        for entry, coordinator in (
            (self.han_entry, self.han_coordinator),
            (self.ems_entry, self.ems_coordinator),
        ):
            runtime = getattr(entry, "runtime_data", None)
            if getattr(runtime, "coordinator", None) is not coordinator:
                # Nothing here should need a reload; the figures are the old one's.
                problems.append(f"{entry.title} was reloaded")
        if not self.han_coordinator.link_up or self.han.stream_clients == 0:
            problems.append(
                f"HAN stream not up ({self.han_coordinator.stats.state},"
                f" last error {self.han_coordinator.stats.last_error})"
            )
        if not self.ems_coordinator.last_update_success:
            problems.append(
                f"EMS poll failing ({self.ems_coordinator.last_exception!r})"
            )
        return problems


def _enable_meter_time(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Enable the disabled-by-default Meter time sensor; return its entity id.

    Registered before set-up, as a user enabling it would leave it; the unique
    id is `<serial>_<description key>` (entity.py).
    """
    registry = er.async_get(hass)
    return registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{entry.unique_id}_meter_timestamp",
        config_entry=entry,
    ).entity_id


@dataclass(frozen=True, slots=True)
class Options:
    """The command line."""

    minutes: float
    fault_every: float
    seed: int
    only: tuple[str, ...] = ()
    """Draw only faults whose kind starts with one of these (empty: all)."""
    verbose: bool = False


async def soak(options: Options) -> bool:
    """Run the soak and print its figures; return whether it passed."""
    total = options.minutes * 60.0
    ledger = Ledger()
    han = SoakHanSimulator(ledger)
    ems = EmsSimulator()
    logs = LogCapture(ems_name=f"EMS {ems.serial}")
    with capturing(logs):
        # The meter time shows whole seconds: push half-way through a second.
        await asyncio.sleep((0.5 - time.time() % 1.0) % 1.0)
        await han.start(host=LOOPBACK, port=0)
        try:
            await ems.start(host=LOOPBACK, port=0, tls=True)
            actions = [
                action
                for action in fault_actions(han, ems, ledger)
                if not options.only or action.kind.startswith(options.only)
            ]
            if not actions:
                raise SystemExit(f"no fault kind starts with {options.only}")
            plan = plan_faults(
                actions,
                random.Random(options.seed),  # noqa: S311 - repeatable, not security
                start=WARM_UP,
                end=total - QUIET,
                settled_by=total - 2 * SAMPLE_SECONDS - DELIVERY_GRACE,
                every=options.fault_every,
            )
            print(
                f"soak: {options.minutes:g} min, seed {options.seed}: {len(plan)}"
                f" faults planned (~1 every {options.fault_every:g} s) of"
                f" {len(actions)} kinds; HAN pushes every 1 s, EMS polled every"
                " 10 s, all on 127.0.0.1",
                flush=True,
            )
            async with running_hass() as hass:
                han_config = han_entry(han)
                han_config.add_to_hass(hass)
                meter_time = _enable_meter_time(hass, han_config)
                await async_set_up(hass, han_config)
                await async_wait_for_stream(han)
                ems_config = ems_entry(ems)
                await async_set_up(hass, ems_config)
                if hass.states.get(meter_time) is None:
                    raise RuntimeError(f"{meter_time} did not appear")
                unsubscribe = ledger.async_watch(hass, meter_time)
                runner = Soak(
                    hass,
                    han,
                    ems,
                    han_config,
                    ems_config,
                    logs,
                    verbose=options.verbose,
                )
                outcome = await runner.run(total, plan)
                unsubscribe()
        finally:
            await ems.stop()
            await han.stop()
    return report(runner, outcome)


def report(soak: Soak, outcome: Outcome) -> bool:
    """Print the figures and the verdict; return whether the soak passed."""
    ledger, logs = soak.ledger, soak.logs
    stats = soak.han_coordinator.stats
    client = soak.han_coordinator.client
    start, end = outcome.start, outcome.end
    missing = ledger.pending
    window_minutes = (end.at - start.at) / 60.0
    budget_kib = 1024 * max(MEMORY_FLOOR_MB, MEMORY_MB_PER_30_MIN * window_minutes / 30)
    growth_kib = end.rss_kib - start.rss_kib
    print("--- soak figures")
    print(
        f"elapsed:               {outcome.elapsed:.1f} s after set-up"
        f" (faults from {outcome.fault_window[0]:.0f} s to"
        f" {outcome.fault_window[1]:.0f} s, then quiet)"
    )
    print(
        f"HAN meter messages:    {ledger.sent} sent with a stream open,"
        f" {ledger.shown} shown in HA, difference {missing}"
        f" ({ledger.sent_unconnected} more sent with no stream open)"
    )
    mean = ledger.delay_total / ledger.shown if ledger.shown else 0.0
    print(
        f"  delivery:            mean {mean * 1000:.1f} ms,"
        f" max {ledger.delay_max * 1000:.1f} ms"
        f" (shown at {_clock(ledger.delay_max_at - soak.t0).strip()}),"
        f" {ledger.late} shown more than 1 s after sending"
    )
    if ledger.unchecked:
        print(
            f"  not checked:         {ledger.unchecked} message(s) whose meter-time"
            " second HA showed already (previous message or reconnect burst)"
        )
    print(
        f"HAN stream:            {stats.reconnects} reconnects ({stats.attempts}"
        f" connection attempts, {logs.outages_logged} outages logged);"
        f" {client.malformed_messages} malformed and {client.unknown_messages}"
        " unknown messages skipped"
    )
    print(
        f"EMS polls:             {outcome.ems_polls} done,"
        f" {outcome.ems_polls - outcome.ems_cycles} failed"
        f" ({outcome.ems_failed_in_ha} of them reported to HA as failed);"
        f" {soak.ems.tokens_issued} logins"
    )
    print(f"faults injected:       {soak.injected.total()}")
    for kind, count in sorted(soak.injected.items()):
        print(f"  {kind:<34} {count}")
    if soak.injection_errors:
        print(f"fault injection errors: {len(soak.injection_errors)}")
        for error in soak.injection_errors:
            print(f"  {error}")
    print(
        f"tasks:                 start {start.tasks}, end {end.tasks}"
        " (least of 10 samples over 5 s)"
    )
    grown = end.by_coroutine - start.by_coroutine
    for name, count in grown.most_common(10):
        print(f"  +{count} {name}")
    print(
        f"RSS:                   start {_mb(start.rss_kib)}, end {_mb(end.rss_kib)},"
        f" growth {_mb(growth_kib)} (budget {_mb(budget_kib)})"
    )
    print(f"log records of {INTEGRATION_LOGGER}:")
    print(
        f"  expected:            {logs.outages.total()} ERROR 'Error fetching ... data'"
        f" {dict(logs.outages)}, {logs.recoveries.total()} INFO '... data recovered'"
        f" {dict(logs.recoveries)}"
    )
    print(f"  tracebacks:          {logs.traceback_count}")
    for text in logs.tracebacks:
        print("    " + text.replace("\n", "\n    "))
    print(f"  other WARNING/ERROR: {logs.unexpected.total()}")
    for key, count in logs.unexpected.most_common():
        print(f"    {count} x {key}\n      e.g. {logs.examples[key]}")
    print(
        f"other loggers:         {logs.others.total()} WARNING/ERROR records,"
        f" {logs.other_traceback_count} tracebacks"
    )
    for key, count in logs.others.most_common(10):
        print(f"    {count} x {key}\n      e.g. {logs.examples[key]}")
    for text in logs.other_tracebacks:
        print("    " + text.replace("\n", "\n    "))
    print(
        "recovered at the end:  "
        + ("yes" if not outcome.recovered else "; ".join(outcome.recovered))
    )
    checks = [
        (ledger.sent > 0 and missing == 0, f"HAN messages missing: {missing}"),
        (
            end.tasks <= start.tasks + TASK_SLACK,
            f"tasks {start.tasks} -> {end.tasks} (slack {TASK_SLACK})",
        ),
        (growth_kib < budget_kib, f"RSS growth {_mb(growth_kib)}"),
        (logs.traceback_count == 0, f"tracebacks: {logs.traceback_count}"),
        (not outcome.recovered, "not recovered at the end"),
    ]
    failed = [text for ok, text in checks if not ok]
    print("PASS" if not failed else "FAIL: " + "; ".join(failed))
    return not failed


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fault-every", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=None, help="default: random")
    parser.add_argument(
        "--faults",
        default="",
        help="comma-separated kind prefixes to draw from, e.g. han.offline,ems.",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="print every fault as it comes"
    )
    args = parser.parse_args()
    if args.minutes < 2 or args.fault_every <= 0:
        parser.error("--minutes must be at least 2, --fault-every positive")
    options = Options(
        minutes=args.minutes,
        fault_every=args.fault_every,
        seed=args.seed
        if args.seed is not None
        else random.SystemRandom().randrange(2**32),
        only=tuple(prefix for prefix in args.faults.split(",") if prefix),
        verbose=args.verbose,
    )
    try:
        passed = asyncio.run(
            asyncio.wait_for(soak(options), timeout=options.minutes * 60.0 + 180.0)
        )
    except TimeoutError:
        print("FAIL: the soak did not finish in time")
        passed = False
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
