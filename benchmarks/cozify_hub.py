"""Cozify Hub: delay from a change on the hub to HA, requests to the hub and the cloud.

For both ways to the hub, the LAN (entry mode local, `hub/poll` every 2 s) and
the Cozify cloud relay (entry mode cloud, no LAN address, every 15 s), starts
a simulated Cozify account on loopback (no drift of its own: only the
benchmark's changes), adds synthetic multisensors to hub "Koti" (copies of
one of its own, new ids and names), logs in, loads the entry in a real Home
Assistant core and, in real time:

1. changes one sensor's temperature N times (`hub.change`), one change every
   U(0.2, 0.8) s on the LAN and U(0.5, 2.5) s through the relay (seeded), so
   the changes land at every phase of the poll timer over many cycles; the
   sensors take turns (round-robin), so no sensor changes again before its
   previous value shows. Every change writes its own value (15 + i/100 °C).
   Delay: monotonic clock just before `hub.change()` -> a `state_changed`
   listener on the bus seeing that value in `hass.states` for the sensor's
   entity (found in the entity registry by its unique id). A change that has
   not shown 3 poll intervals + 5 s later stops the benchmark;
2. counts the requests the simulator received: on the LAN, in a steady window
   without changes after the delays (`hub.requests` by path, and the cloud's);
   through the relay, over the change run (the poll timer alone decides how
   often the hub is asked: changes add no requests), and the time between
   the ends of two poll cycles;
3. prints the cloud requests per day: measured ones, and the derivation from
   the integration's intervals and token upkeep.

Prints per route changes, median, p95 and worst delay in ms, requests per
minute by path and the per-day figures.

    python -m benchmarks.cozify_hub [--changes 200] [--steady 60] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
import copy
from dataclasses import dataclass, field
import itertools
import logging
import random
import statistics
import time

from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.cozify_hub.client import (
    LOCAL_RETRY_SECONDS,
    TOKEN_REFRESH_AGE,
)
from custom_components.energy_gateways.devices.cozify_hub.coordinator import (
    CozifyHubCoordinator,
)
from custom_components.energy_gateways.devices.cozify_hub.options_flow import (
    LOCAL_INTERVAL,
    REMOTE_INTERVAL,
)
from simulators.cozify_hub import CozifySimulator
from simulators.cozify_hub.hub import HubServer

from .harness import LOOPBACK, async_set_up, cozify_entry, running_hass

TEMPLATE = "Olohuoneen lämpötila"
"""Koti's multisensor (STATE_MULTI_SENSOR) the synthetic sensors copy."""
SENSORS = 32
"""Synthetic sensors; through the relay one changes about every 48 s."""
DAY = 86400.0
POLL = "GET /cc/{v}/hub/poll"
RELAY_POLL = "GET /hub/remote/cc/{v}/hub/poll"
SETTLE = 0.5
"""Seconds after the last change showed before the LAN's steady window."""


@dataclass(frozen=True, slots=True)
class Route:
    """One way to the hub, and how the benchmark spaces its changes on it."""

    name: str
    """The client's route: "local" or "remote"."""
    title: str
    cloud: bool
    """The entry talks to the hub through the relay only."""
    spacing: tuple[float, float]
    """Seconds between two changes: uniform in [low, high]."""
    steady: bool
    """Count requests in a window without changes after the delays."""


ROUTES = (
    Route("local", "LAN (entry mode local)", False, (0.2, 0.8), True),
    Route("remote", "Cloud relay (entry mode cloud)", True, (0.5, 2.5), False),
)


@dataclass(slots=True)
class Change:
    """One temperature change on the hub."""

    index: int
    entity_id: str
    value: float
    at: float
    """time.monotonic() just before `hub.change()`."""
    shown: float | None = None
    """time.monotonic() when `hass.states` first held the value."""


@dataclass(slots=True)
class Window:
    """Requests the simulator received in a time window."""

    seconds: float
    hub: Counter[str]
    cloud: Counter[str]
    polls: int
    """Poll cycles the coordinator ended meanwhile."""

    def per_minute(self, count: int) -> float:
        """Return `count` in this window as a rate per minute."""
        return count * 60.0 / self.seconds


@dataclass(slots=True)
class Figures:
    """What one route's run measured."""

    route: Route
    interval: float
    """The coordinator's poll interval (s)."""
    changes: list[Change]
    run: Window
    """From the end of the set-up to the last change showing."""
    whole_cloud: Counter[str]
    """The integration's cloud requests from the set-up to the end."""
    setup_hub: Counter[str]
    setup_cloud: Counter[str]
    steady: Window | None
    hub_key_lifetime: float
    routes: list[str]
    """The client's route history (route: reason)."""
    poll_ends: list[float]
    """time.monotonic() of each poll cycle's end after the set-up."""
    log: list[str] = field(default_factory=list)


class _Records(logging.Handler):
    """Keeps WARNING and worse log lines (text only) of a run."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "has not been tested by Home Assistant" in message:
            return  # HA says so of every custom integration (scripts/bench hides it)
        self.lines.append(f"{record.levelname} {record.name}: {message}")


async def _watch_polls(coordinator: CozifyHubCoordinator, ends: list[float]) -> None:
    """Note when each poll cycle ends (`coordinator.polls` advancing, 10 ms steps)."""
    seen = coordinator.polls
    while True:
        await asyncio.sleep(0.01)
        if coordinator.polls != seen:
            seen = coordinator.polls
            ends.append(time.monotonic())


def _add_sensors(hub: HubServer, count: int) -> list[str]:
    """Add `count` copies of Koti's multisensor (new ids and names); their ids."""
    template = hub.devices[hub.device_named(TEMPLATE)]
    ids = []
    for number in range(1, count + 1):
        record = copy.deepcopy(template)
        record["id"] = f"be{number:06x}-9857-4f57-ad53-bc9cbe667c35"
        record["name"] = f"Mittari {number:02d}"
        hub.add_device(record)
        ids.append(record["id"])
    return ids


def _delta(after: Counter[str], before: Counter[str]) -> Counter[str]:
    return Counter({k: n - before[k] for k, n in after.items() if n > before[k]})


def _check_overdue(changes: dict[str, Change], limit: float) -> None:
    now = time.monotonic()
    for change in changes.values():
        if now - change.at > limit:
            raise RuntimeError(
                f"change {change.index} ({change.entity_id} = {change.value}) "
                f"not in hass.states after {limit:.0f} s"
            )


async def _change_run(
    hass: HomeAssistant,
    hub: HubServer,
    sensors: list[tuple[str, str]],
    route: Route,
    count: int,
    limit: float,
    rng: random.Random,
) -> list[Change]:
    """Make `count` changes round-robin over `sensors`; wait until all showed."""
    pending: dict[str, Change] = {}

    @callback
    def on_state(event: Event[EventStateChangedData]) -> None:
        now = time.monotonic()
        change = pending.get(event.data["entity_id"])
        new = event.data["new_state"]
        if change is None or new is None:
            return
        try:
            value = float(new.state)
        except ValueError:
            return
        if round(value, 2) == change.value:
            change.shown = now
            del pending[change.entity_id]

    unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, on_state)
    changes: list[Change] = []
    low, high = route.spacing
    try:
        for index in range(count):
            await asyncio.sleep(rng.uniform(low, high))
            _check_overdue(pending, limit)
            device_id, entity_id = sensors[index % len(sensors)]
            if entity_id in pending:
                raise RuntimeError(
                    f"change {index}: {entity_id} still waits for change "
                    f"{pending[entity_id].index}; use more sensors"
                )
            value = round(15 + index / 100, 2)
            change = Change(index, entity_id, value, time.monotonic())
            pending[entity_id] = change
            changes.append(change)
            hub.change(device_id, temperature=value)
        while pending:
            _check_overdue(pending, limit)
            await asyncio.sleep(0.05)
    finally:
        unsubscribe()
    return changes


async def _window(
    simulator: CozifySimulator, coordinator: CozifyHubCoordinator, seconds: float
) -> Window:
    """Count the requests of `seconds` without changes."""
    hub, cloud = Counter(simulator.hub.requests), Counter(simulator.cloud.requests)
    polls, started = coordinator.polls, time.monotonic()
    await asyncio.sleep(seconds)
    return Window(
        time.monotonic() - started,
        _delta(simulator.hub.requests, hub),
        _delta(simulator.cloud.requests, cloud),
        coordinator.polls - polls,
    )


async def measure(route: Route, count: int, steady: float, seed: int) -> Figures:
    """Run one route: set up, change, count; return the figures."""
    simulator = CozifySimulator(change_interval=None)
    await simulator.start(host=LOOPBACK)
    records = _Records()
    logging.getLogger().addHandler(records)
    try:
        hub = simulator.hub
        device_ids = _add_sensors(hub, SENSORS)
        entry = await cozify_entry(simulator, cloud=route.cloud)
        hub_before = Counter(hub.requests)
        cloud_before = Counter(simulator.cloud.requests)
        async with running_hass() as hass:
            await async_set_up(hass, entry)
            coordinator: CozifyHubCoordinator = entry.runtime_data.coordinator
            client = coordinator.client
            if client.route != route.name:
                raise RuntimeError(f"{route.title}: the client is on {client.route}")
            assert coordinator.update_interval is not None
            interval = coordinator.update_interval.total_seconds()
            setup_hub = _delta(hub.requests, hub_before)
            setup_cloud = _delta(simulator.cloud.requests, cloud_before)

            registry = er.async_get(hass)
            sensors = []
            for device_id in device_ids:
                unique_id = f"{hub.hub_id}_{device_id}_temperature"
                entity_id = registry.async_get_entity_id("sensor", DOMAIN, unique_id)
                if entity_id is None:
                    raise RuntimeError(f"no temperature sensor for {device_id}")
                sensors.append((device_id, entity_id))

            poll_ends: list[float] = []
            watcher = hass.async_create_background_task(
                _watch_polls(coordinator, poll_ends), "cozify_hub benchmark polls"
            )
            run_hub, run_cloud = (
                Counter(hub.requests),
                Counter(simulator.cloud.requests),
            )
            run_polls, started = coordinator.polls, time.monotonic()
            changes = await _change_run(
                hass,
                hub,
                sensors,
                route,
                count,
                3 * interval + 5,
                random.Random(seed),  # noqa: S311 - repeatable, not security
            )
            run = Window(
                time.monotonic() - started,
                _delta(hub.requests, run_hub),
                _delta(simulator.cloud.requests, run_cloud),
                coordinator.polls - run_polls,
            )
            window = None
            if route.steady and steady > 0:
                await asyncio.sleep(SETTLE)
                window = await _window(simulator, coordinator, steady)
            if client.route != route.name:
                raise RuntimeError(f"{route.title}: the client ended on {client.route}")
            watcher.cancel()
            whole_cloud = _delta(simulator.cloud.requests, cloud_before)
            routes = [f"{name}: {reason}" for _, name, reason in client.routes]
    finally:
        logging.getLogger().removeHandler(records)
        await simulator.stop()
    return Figures(
        route=route,
        interval=interval,
        changes=changes,
        run=run,
        whole_cloud=whole_cloud,
        setup_hub=setup_hub,
        setup_cloud=setup_cloud,
        steady=window,
        hub_key_lifetime=simulator.cloud.hub_key_lifetime,
        routes=routes,
        poll_ends=poll_ends,
        log=records.lines,
    )


def _by_path(counts: Counter[str], window: Window) -> str:
    if not counts:
        return "none"
    return ", ".join(
        f"{path} {n} ({window.per_minute(n):.2f}/min)"
        for path, n in sorted(counts.items())
    )


def _counts(counts: Counter[str]) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{path} {n}" for path, n in sorted(counts.items()))


def _print_delays(figures: Figures) -> None:
    route, changes = figures.route, figures.changes
    delays = sorted(
        (change.shown - change.at) * 1000
        for change in changes
        if change.shown is not None
    )
    low, high = route.spacing
    print(f"{route.title}, poll interval {figures.interval:g} s:")
    print(
        f"  changes:         {len(delays)} over {figures.run.seconds:.1f} s, "
        f"one every U({low:g}, {high:g}) s on {SENSORS} sensors in turn"
    )
    print(f"  median delay:    {statistics.median(delays):.1f} ms")
    print(f"  p95 delay:       {statistics.quantiles(delays, n=100)[94]:.1f} ms")
    print(f"  worst delay:     {delays[-1]:.1f} ms")
    print(f"  best delay:      {delays[0]:.1f} ms")
    print(
        "  measured:        time.monotonic() just before hub.change() -> "
        "state_changed listener seeing the new value in hass.states; a change "
        f"waits for the next poll, so expect a median near {figures.interval / 2:g} s "
        f"and a worst near {figures.interval:g} s"
    )


def _print_local(figures: Figures, steady: float) -> None:
    _print_delays(figures)
    run = figures.run
    print(f"  set-up requests: LAN {_counts(figures.setup_hub)}")
    print(f"                   cloud {_counts(figures.setup_cloud)}")
    print(
        f"  during changes:  LAN {_by_path(run.hub, run)}; "
        f"cloud {_by_path(run.cloud, run)}"
    )
    window = figures.steady
    if window is None:
        print(f"  steady window:   skipped (--steady {steady:g})")
    else:
        polls = window.hub[POLL]
        print(
            f"  steady window:   {window.seconds:.1f} s without changes, "
            f"{window.polls} poll cycles"
        )
        print(f"    LAN requests:  {_by_path(window.hub, window)}")
        print(f"    cloud:         {_by_path(window.cloud, window)}")
        print(
            f"    per day:       {window.per_minute(polls) * 1440:.0f} LAN polls, "
            f"{window.per_minute(sum(window.cloud.values())) * 1440:.0f} cloud "
            "requests (measured rate x 1440)"
        )
    print(
        f"  cloud requests by the integration, whole run: {_counts(figures.whole_cloud)}"
    )
    refresh = DAY / TOKEN_REFRESH_AGE
    keys = DAY / figures.hub_key_lifetime
    relayed = DAY / REMOTE_INTERVAL.default
    print(
        f"  cloud per day:   {refresh + keys:.2f} derived while the LAN answers: "
        f"{refresh:g} user/refreshsession (the token is renewed every "
        f"{TOKEN_REFRESH_AGE / 3600:g} h) + {keys:.2f} user/hubkeys (a new key only "
        f"when the hub refuses the old one: the simulator's keys live "
        f"{figures.hub_key_lifetime / DAY:g} days; the real lifetime is unknown) "
        f"+ 0 relay calls (the relay only while the LAN fails: then "
        f"{relayed:.0f} relay polls per day, LAN probe every "
        f"{LOCAL_RETRY_SECONDS:g} s on the LAN)"
    )
    _print_tail(figures)


def _print_remote(figures: Figures) -> None:
    _print_delays(figures)
    run = figures.run
    print(f"  set-up requests: cloud {_counts(figures.setup_cloud)}")
    print(f"                   LAN {_counts(figures.setup_hub)}")
    relay = run.cloud[RELAY_POLL]
    print(
        f"  during changes:  {run.seconds:.1f} s, {run.polls} poll cycles "
        "(changes add no requests: the poll timer decides)"
    )
    print(f"    cloud:         {_by_path(run.cloud, run)}")
    print(f"    LAN requests:  {_by_path(run.hub, run)}")
    print(
        f"  cloud requests by the integration, whole run: {_counts(figures.whole_cloud)}"
    )
    refresh = DAY / TOKEN_REFRESH_AGE
    keys = DAY / figures.hub_key_lifetime
    polls = DAY / figures.interval
    print(
        f"  cloud per day:   {run.per_minute(relay) * 1440:.0f} measured "
        f"(relay polls per minute over the change run x 1440); "
        f"{polls + refresh + keys:.2f} derived: {polls:.0f} relay polls "
        f"(86400 / {figures.interval:g} s) + {refresh:g} user/refreshsession + "
        f"{keys:.2f} user/hubkeys (simulator's {figures.hub_key_lifetime / DAY:g}-day "
        "keys; the real lifetime is unknown)"
    )
    _print_tail(figures)


def _print_tail(figures: Figures) -> None:
    ends = figures.poll_ends
    if len(ends) >= 3:
        periods = [(b - a) * 1000 for a, b in itertools.pairwise(ends)]
        print(
            f"  poll period:     mean {statistics.mean(periods):.1f} ms, "
            f"min {min(periods):.1f}, max {max(periods):.1f} over {len(periods)} "
            "(end of one poll cycle to the next, seen in 10 ms steps)"
        )
    print(f"  client routes:   {'; '.join(figures.routes)}")
    print(f"  log lines at WARNING or worse: {len(figures.log)}")
    for line in figures.log[:5]:
        print(f"    {line}")


async def run(changes: int, steady: float, seed: int) -> None:
    """Measure the LAN, then the relay, each with its own simulator and core."""
    started = time.monotonic()
    print(
        f"defaults of the integration: LAN poll {LOCAL_INTERVAL.default} s, "
        f"relay poll {REMOTE_INTERVAL.default} s; seed {seed}"
    )
    for route in ROUTES:
        figures = await measure(route, changes, steady, seed)
        if route.name == "local":
            _print_local(figures, steady)
        else:
            _print_remote(figures)
    print(f"total {time.monotonic() - started:.1f} s")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--changes", type=int, default=200, help="per route")
    parser.add_argument(
        "--steady", type=float, default=60.0, help="seconds of the LAN's steady window"
    )
    parser.add_argument("--seed", type=int, default=1)
    args, _unknown = parser.parse_known_args()  # scripts/bench passes its own
    if args.changes < 2:
        parser.error("--changes needs at least 2")
    asyncio.run(run(args.changes, args.steady, args.seed))


if __name__ == "__main__":
    main()
