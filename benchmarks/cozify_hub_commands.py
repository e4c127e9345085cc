"""Cozify Hub: time from `light.turn_on` to the confirmed state, requests per command.

Issue #13. For both ways to the hub, the LAN (entry mode local) and the Cozify
cloud relay (entry mode cloud, no LAN address), each with its own simulated
Cozify account (no drift: only the benchmark's commands change anything) and
its own Home Assistant core, in real time:

1. sends N `light.turn_on` service calls (`blocking=True`) to hub "Koti"'s
   HS+CT light "Olohuoneen värivalo" (its entity found in the entity registry
   by the unique id `<hub id>_<device id>_light`), one after the other. The
   calls take turns: a brightness, a colour temperature, an HS colour; the
   brightness cycles through distinct values and the colour switches the
   colour mode, so every command changes the state (checked before the call).
   Confirmation time: `time.monotonic()` just before
   `hass.services.async_call` -> the first `state_changed` event of the light
   whose new state has what was asked (brightness within 1, colour mode
   `color_temp` with the Kelvin asked, clamped to the light's range, within 1 K,
   or mode `hs` with hue within 1° and saturation within 1 %). The service call
   itself returns once the hub answered the command, before the confirmation;
   its duration is printed too. Between commands the benchmark waits for the
   follow-up polls to end (`async_block_till_done(wait_background_tasks=True)`),
   so commands never overlap;
2. counts per command the requests the simulator received from just before
   the call to the end of its follow-up polls: `hub.requests` on the LAN,
   `sim.cloud.requests` through the relay, by path template. The entry's poll
   interval option is set to its maximum (60 s LAN, 300 s relay) so the timer
   adds no requests; each follow-up poll restarts that timer anyway, and the
   benchmark checks that no gap between two polls reached the interval (no
   timer poll could have fired).

Prints per route the confirmation time (median, p95, worst, best in ms), the
service call's duration, and the PUT commands and follow-up polls per command
(mean and max).

    python -m benchmarks.cozify_hub_commands [--commands 100]
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from dataclasses import dataclass, field
import itertools
import logging
import statistics
import time
from typing import Any

from homeassistant.components.light.const import ColorMode
from homeassistant.const import ATTR_ENTITY_ID, EVENT_STATE_CHANGED, STATE_ON
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers import entity_registry as er

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.cozify_hub.coordinator import (
    FOLLOW_UP_PAUSES,
    CozifyHubCoordinator,
)
from custom_components.energy_gateways.devices.cozify_hub.models import clamp_kelvin
from custom_components.energy_gateways.devices.cozify_hub.options_flow import (
    LOCAL_INTERVAL,
    REMOTE_INTERVAL,
)
from simulators.cozify_hub import CozifySimulator

from .cozify_hub import POLL, RELAY_POLL, _counts, _delta, _Records, _watch_polls
from .harness import LOOPBACK, async_set_up, cozify_entry, running_hass

LIGHT = "Olohuoneen värivalo"
"""Koti's Philips HS+CT light (2000-6535 K in the simulator)."""
COMMAND = "PUT /cc/{v}/devices/command"
RELAY_COMMAND = "PUT /hub/remote/cc/{v}/devices/command"
BRIGHTNESSES = 200
"""Brightness i is 40 + (53 * i) % 200: 200 distinct values, neighbours differ."""
KELVINS = (2200, 2700, 1800, 4000, 5000, 6500, 3000)
"""1800 K lies below the light's range: the hub clamps it (to 2000 K)."""
HS_COLOURS = ((0.0, 100.0), (30.0, 80.0), (120.0, 60.0), (240.0, 100.0), (300.0, 45.0))
BRIGHTNESS_SLACK = 1
KELVIN_SLACK = 1
HUE_SLACK = 1.0
SATURATION_SLACK = 1.0


@dataclass(frozen=True, slots=True)
class Route:
    """One way to the hub."""

    name: str
    """The client's route: "local" or "remote"."""
    title: str
    cloud: bool
    """The entry talks to the hub through the relay only."""
    option: str
    interval: int
    """The poll interval option the entry gets (its maximum)."""
    put: str
    poll: str
    """Path templates of a command and a poll in the route's request counter."""


ROUTES = (
    Route(
        "local",
        "LAN (entry mode local)",
        False,
        LOCAL_INTERVAL.key,
        LOCAL_INTERVAL.maximum,
        COMMAND,
        POLL,
    ),
    Route(
        "remote",
        "Cloud relay (entry mode cloud)",
        True,
        REMOTE_INTERVAL.key,
        REMOTE_INTERVAL.maximum,
        RELAY_COMMAND,
        RELAY_POLL,
    ),
)


@dataclass(slots=True)
class Command:
    """One `light.turn_on` call and what it cost."""

    index: int
    asked: dict[str, Any]
    """The service data besides the entity id."""
    started: float = 0.0
    """time.monotonic() just before `hass.services.async_call`."""
    answered: float = 0.0
    """time.monotonic() when the (blocking) service call returned."""
    confirmed: float | None = None
    """time.monotonic() of the first state_changed showing what was asked."""
    polls_to_confirm: int | None = None
    """Poll requests from the call to the confirmation."""
    requests: Counter[str] = field(default_factory=Counter)
    """The route's requests from the call to the end of its follow-up polls."""
    other: Counter[str] = field(default_factory=Counter)
    """Requests of the other counter meanwhile (LAN on the relay, and vice versa)."""


@dataclass(slots=True)
class Figures:
    """What one route's run measured."""

    route: Route
    interval: float
    commands: list[Command]
    seconds: float
    longest_gap: float
    """Longest time (s) between two poll ends from the set-up to the end."""
    routes: list[str]
    log: list[str]


def plan(count: int) -> list[dict[str, Any]]:
    """Return the service data of `count` commands (brightness, Kelvin, HS in turn)."""
    asked: list[dict[str, Any]] = []
    for index in range(count):
        turn, kind = divmod(index, 3)
        if kind == 0:
            asked.append({"brightness": 40 + (53 * turn) % BRIGHTNESSES})
        elif kind == 1:
            asked.append({"color_temp_kelvin": KELVINS[turn % len(KELVINS)]})
        else:
            hue, saturation = HS_COLOURS[turn % len(HS_COLOURS)]
            asked.append({"hs_color": (hue, saturation)})
    return asked


def _hue_apart(a: float, b: float) -> float:
    difference = abs(a - b) % 360.0
    return min(difference, 360.0 - difference)


def shows(state: State | None, asked: dict[str, Any]) -> bool:
    """Whether a light's state has what a `light.turn_on` asked for."""
    if state is None or state.state != STATE_ON:
        return False
    attributes = state.attributes
    if (brightness := asked.get("brightness")) is not None:
        shown = attributes.get("brightness")
        if shown is None or abs(shown - brightness) > BRIGHTNESS_SLACK:
            return False
    if (kelvin := asked.get("color_temp_kelvin")) is not None:
        wanted = clamp_kelvin(
            kelvin,
            attributes["min_color_temp_kelvin"],
            attributes["max_color_temp_kelvin"],
        )
        shown = attributes.get("color_temp_kelvin")
        if (
            attributes.get("color_mode") != ColorMode.COLOR_TEMP
            or shown is None
            or abs(shown - wanted) > KELVIN_SLACK
        ):
            return False
    if (hs := asked.get("hs_color")) is not None:
        shown = attributes.get("hs_color")
        if (
            attributes.get("color_mode") != ColorMode.HS
            or shown is None
            or _hue_apart(shown[0], hs[0]) > HUE_SLACK
            or abs(shown[1] - hs[1]) > SATURATION_SLACK
        ):
            return False
    return True


def _light_entity(hass: HomeAssistant, hub_id: str, device_id: str) -> str:
    unique_id = f"{hub_id}_{device_id}_light"
    entity_id = er.async_get(hass).async_get_entity_id("light", DOMAIN, unique_id)
    if entity_id is None:
        raise RuntimeError(f"no light entity with unique id {unique_id}")
    return entity_id


async def _command_run(
    hass: HomeAssistant,
    simulator: CozifySimulator,
    route: Route,
    entity_id: str,
    count: int,
) -> list[Command]:
    """Send `count` light.turn_on calls one after the other; time and count them."""
    lan, cloud = simulator.hub.requests, simulator.cloud.requests
    counted, other = (cloud, lan) if route.cloud else (lan, cloud)
    pending: list[Command] = []
    polls_before = 0

    @callback
    def on_state(event: Event[EventStateChangedData]) -> None:
        now = time.monotonic()
        if not pending or event.data["entity_id"] != entity_id:
            return
        command = pending[0]
        if shows(event.data["new_state"], command.asked):
            command.confirmed = now
            command.polls_to_confirm = counted[route.poll] - polls_before
            pending.clear()

    unsubscribe = hass.bus.async_listen(EVENT_STATE_CHANGED, on_state)
    commands: list[Command] = []
    try:
        for index, asked in enumerate(plan(count)):
            if shows(hass.states.get(entity_id), asked):
                raise RuntimeError(
                    f"command {index} {asked}: the light shows it already"
                )
            command = Command(index, asked)
            commands.append(command)
            before, other_before = Counter(counted), Counter(other)
            polls_before = counted[route.poll]
            pending.append(command)
            command.started = time.monotonic()
            await hass.services.async_call(
                "light",
                "turn_on",
                {ATTR_ENTITY_ID: entity_id, **asked},
                blocking=True,
            )
            command.answered = time.monotonic()
            await hass.async_block_till_done(wait_background_tasks=True)
            pending.clear()
            command.requests = _delta(counted, before)
            command.other = _delta(other, other_before)
    finally:
        unsubscribe()
    return commands


async def measure(route: Route, count: int) -> tuple[Figures, float]:
    """Run one route: set up, send the commands; return the figures and the delay."""
    simulator = CozifySimulator(change_interval=None)
    await simulator.start(host=LOOPBACK)
    records = _Records()
    logging.getLogger().addHandler(records)
    try:
        hub = simulator.hub
        entry = await cozify_entry(simulator, cloud=route.cloud)
        async with running_hass() as hass:
            entry.add_to_hass(hass)
            hass.config_entries.async_update_entry(
                entry, options={route.option: route.interval}
            )
            set_up = time.monotonic()  # before the set-up's polls: conservative
            await async_set_up(hass, entry)
            coordinator: CozifyHubCoordinator = entry.runtime_data.coordinator
            client = coordinator.client
            if client.route != route.name:
                raise RuntimeError(f"{route.title}: the client is on {client.route}")
            assert coordinator.update_interval is not None
            interval = coordinator.update_interval.total_seconds()
            entity_id = _light_entity(hass, hub.hub_id, hub.device_named(LIGHT))

            # Not a hass task: block_till_done must not wait for it.
            poll_ends = [set_up]
            watcher = asyncio.create_task(_watch_polls(coordinator, poll_ends))
            started = time.monotonic()
            commands = await _command_run(hass, simulator, route, entity_id, count)
            seconds = time.monotonic() - started
            watcher.cancel()
            poll_ends.append(time.monotonic())
            if client.route != route.name:
                raise RuntimeError(f"{route.title}: the client ended on {client.route}")
            routes = [f"{name}: {reason}" for _, name, reason in client.routes]
    finally:
        logging.getLogger().removeHandler(records)
        await simulator.stop()
    gaps = [b - a for a, b in itertools.pairwise(poll_ends)]
    figures = Figures(
        route, interval, commands, seconds, max(gaps), routes, records.lines
    )
    return figures, hub.command_delay


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = (
        statistics.quantiles(ordered, n=100, method="inclusive")[94]
        if len(ordered) > 1
        else ordered[0]
    )
    return (
        f"median {statistics.median(ordered):.1f} ms, p95 {p95:.1f}, "
        f"worst {ordered[-1]:.1f}, best {ordered[0]:.1f}"
    )


def _per_command(values: list[int]) -> str:
    return f"mean {statistics.mean(values):.2f}, max {max(values)}"


def _print(figures: Figures) -> None:
    route, commands = figures.route, figures.commands
    confirmed = [c for c in commands if c.confirmed is not None]
    print(
        f"{route.title}: {len(commands)} light.turn_on calls in "
        f"{figures.seconds:.1f} s, poll interval option {figures.interval:g} s"
    )
    if confirmed:
        times = [((c.confirmed or 0.0) - c.started) * 1000 for c in confirmed]
        print(f"  confirmed:       {len(confirmed)} of {len(commands)}")
        print(f"  confirmation:    {_ms(times)}")
        polls = [c.polls_to_confirm or 0 for c in confirmed]
        print(
            f"    polls sent until confirmed: {_per_command(polls)} "
            f"(by kind: {_by_kind(confirmed)})"
        )
    else:
        print(f"  confirmed:       none of {len(commands)}")
    for command in commands:
        if command.confirmed is None:
            print(f"    not confirmed: command {command.index} {command.asked}")
    calls = [(c.answered - c.started) * 1000 for c in commands]
    print(f"  service call:    {_ms(calls)}")
    puts = [c.requests[route.put] for c in commands]
    polls_sent = [c.requests[route.poll] for c in commands]
    others = sum(
        (
            Counter(
                {
                    k: n
                    for k, n in c.requests.items()
                    if k not in (route.put, route.poll)
                }
            )
            for c in commands
        ),
        Counter(),
    )
    side = sum((c.other for c in commands), Counter())
    counter = "sim.cloud.requests" if route.cloud else "hub.requests"
    other_name = "hub.requests (LAN)" if route.cloud else "sim.cloud.requests"
    print(f"  requests per command ({counter}, call to end of its follow-up):")
    print(f"    PUT commands:   {_per_command(puts)}   ({route.put})")
    print(f"    follow-up polls: {_per_command(polls_sent)}   ({route.poll})")
    print(f"    any other, all commands together: {_counts(others)}")
    print(f"    {other_name} meanwhile, all together: {_counts(side)}")
    timer = "none could fire" if figures.longest_gap < figures.interval else "POSSIBLE"
    print(
        f"  timer polls:     {timer}: longest gap between two polls "
        f"{figures.longest_gap:.2f} s < interval {figures.interval:g} s"
    )
    print(f"  client routes:   {'; '.join(figures.routes)}")
    print(f"  log lines at WARNING or worse: {len(figures.log)}")
    for line in figures.log[:5]:
        print(f"    {line}")


def _by_kind(commands: list[Command]) -> str:
    kinds: dict[str, list[int]] = {}
    for command in commands:
        (kind,) = command.asked
        kinds.setdefault(kind, []).append(command.polls_to_confirm or 0)
    return ", ".join(
        f"{kind} mean {statistics.mean(polls):.2f}" for kind, polls in kinds.items()
    )


async def run(count: int) -> None:
    """Measure the LAN, then the relay, each with its own simulator and core."""
    started = time.monotonic()
    delay = 0.0
    for route in ROUTES:
        figures, delay = await measure(route, count)
        _print(figures)
    pauses = ", ".join(f"{p:g}" for p in FOLLOW_UP_PAUSES)
    print(
        f"simulator command_delay {delay:g} s (the hub answers the PUT at once and "
        f"applies the command that much later); follow-up pauses {pauses} s "
        f"(coordinator.FOLLOW_UP_PAUSES, {sum(FOLLOW_UP_PAUSES):g} s in all)"
    )
    print(
        "measured: confirmation = time.monotonic() just before "
        "hass.services.async_call(light.turn_on, blocking=True) -> first "
        "state_changed event of the light showing what was asked (brightness "
        f"within {BRIGHTNESS_SLACK}, Kelvin clamped to the light's range within "
        f"{KELVIN_SLACK} K in mode color_temp, hue within {HUE_SLACK:g} deg and "
        f"saturation within {SATURATION_SLACK:g} % in mode hs); service call = the "
        "same start -> the call returning (the hub answered the PUT); requests = "
        "the simulator's counters from just before the call to the end of the "
        "follow-up polls (async_block_till_done(wait_background_tasks=True)); "
        "the poll interval option at its maximum so no timer poll falls into a "
        "command (checked: every poll restarts the timer, no gap reached it)"
    )
    print(f"total {time.monotonic() - started:.1f} s")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commands", type=int, default=100, help="per route")
    args, _unknown = parser.parse_known_args()  # scripts/bench passes its own
    if args.commands < 3:
        parser.error("--commands needs at least 3")
    asyncio.run(run(args.commands))


if __name__ == "__main__":
    main()
