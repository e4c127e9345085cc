"""Delay from the BUZZN simulator sending a live message to the new state in HA.

For both live transports, the plain WebSocket (`/live`, the API document's
server) and Socket.IO 2 (the reference backend, which refuses the plain
upgrade), starts a real Home Assistant core with the integration and a
simulated BUZZN server on loopback whose own timer is off, sends N live
messages one at a time (`push_now`, each after the previous one arrived) and
measures for each the time from the simulator's send (`sent_log`: monotonic
clock just before the frame is written) until the message is applied:

- arrival: a coordinator listener added after the entities' listeners (so it
  runs after every entity has written its state for the message) sees the
  coordinator's `stats.messages` counter advance with the live message of the
  sent `date`. The counter advances for every message, unlike a state change
  (the power value of two messages may be equal);
- check: at that moment `hass.states` must hold the message's own energy
  counter and power (`sensor.buzzn_erika_energy_consumption`, `..._power`).

Prints per transport messages, median, p95 and worst in ms.

    python -m benchmarks.buzzn_live_latency [--messages 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity import FLOAT_PRECISION

from custom_components.energy_gateways.devices.buzzn.coordinator import (
    BuzznCoordinator,
)
from simulators.buzzn import BuzznSimulator

from .harness import LOOPBACK, async_set_up, buzzn_entry, running_hass

ENERGY = "sensor.buzzn_erika_energy_consumption"
POWER = "sensor.buzzn_erika_power"
TRANSPORTS = (("document", "websocket"), ("reference", "socketio"))
"""(simulator variant, transport the integration must end up on)."""
NO_TIMER = 10.0**6
"""live_interval: seconds; only the benchmark's pushes are sent."""
CONNECT_TIMEOUT = 30.0
MESSAGE_TIMEOUT = 5.0


def _holds(hass: HomeAssistant, entity_id: str, value: float | None) -> bool:
    """Whether the state of `entity_id` is `value` (as HA writes a float)."""
    state = hass.states.get(entity_id)
    if state is None or value is None:
        return False
    text = f"{value:.{FLOAT_PRECISION}}" if isinstance(value, float) else str(value)
    return state.state == text


async def _wait_connected(
    simulator: BuzznSimulator, coordinator: BuzznCoordinator, transport: str
) -> None:
    async with asyncio.timeout(CONNECT_TIMEOUT):
        while not (  # noqa: ASYNC110 - a socket, not an event
            simulator.live_clients == 1
            and coordinator.stats.transport == transport
            and coordinator.stats.state == "connected"
        ):
            await asyncio.sleep(0.01)


async def measure(variant: str, transport: str, messages: int) -> None:
    """Run one transport's measurement and print its figures."""
    simulator = BuzznSimulator(variant=variant, live_interval=NO_TIMER)
    await simulator.start(host=LOOPBACK, port=0)
    try:
        async with running_hass() as hass:
            entry = buzzn_entry(simulator)
            await async_set_up(hass, entry)
            coordinator: BuzznCoordinator = entry.runtime_data.coordinator
            await _wait_connected(simulator, coordinator, transport)
            stats = coordinator.stats

            arrived: list[tuple[float, object]] = []
            mismatches: list[str] = []
            waiter: asyncio.Future[None] | None = None
            seen = stats.messages
            last_live = coordinator.data.live

            @callback
            def on_update() -> None:
                nonlocal seen, last_live
                live = coordinator.data.live
                if stats.messages == seen or live is None or live is last_live:
                    return  # a polled update or a greeting, no new live message
                now = time.monotonic()
                seen, last_live = stats.messages, live
                data = coordinator.data
                for entity_id, value in ((ENERGY, data.energy), (POWER, data.power)):
                    if not _holds(hass, entity_id, value):
                        state = hass.states.get(entity_id)
                        mismatches.append(
                            f"{entity_id}={state.state if state else None} "
                            f"expected {value}"
                        )
                arrived.append((now, live.raw.get("date")))
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

            unsubscribe = coordinator.async_add_listener(on_update)
            delays: list[float] = []
            logins = simulator.logins
            started = time.perf_counter()
            for _ in range(messages):
                index = len(simulator.sent_log)
                waiter = hass.loop.create_future()
                simulator.push_now()
                await asyncio.wait_for(waiter, timeout=MESSAGE_TIMEOUT)
                sent, date = simulator.sent_log[index]
                applied, applied_date = arrived[-1]
                if applied_date != date:
                    raise RuntimeError(f"sent date {date}, applied {applied_date}")
                delays.append(applied - sent)
            elapsed = time.perf_counter() - started
            unsubscribe()
            reconnects = stats.reconnects
            clients = simulator.live_clients
            relogins = simulator.logins - logins
    finally:
        await simulator.stop()

    delays_ms = sorted(delay * 1000 for delay in delays)
    quantiles = statistics.quantiles(delays_ms, n=100)
    print(f"{transport} (simulator variant {variant!r}):")
    print(f"  messages:        {len(delays_ms)} over {elapsed:.2f} s")
    print(f"  median delay:    {statistics.median(delays_ms):.3f} ms")
    print(f"  p95 delay:       {quantiles[94]:.3f} ms")
    print(f"  worst delay:     {delays_ms[-1]:.3f} ms")
    print(
        "  measured:        simulator sent_log (just before the frame is written) "
        "-> coordinator listener after the entities' writes, on stats.messages "
        "advancing with the sent message's date"
    )
    print(
        f"  hass.states held the message's energy and power: "
        f"{len(delays_ms) - len(mismatches)}/{len(delays_ms)}"
        + (f" (first mismatch: {mismatches[0]})" if mismatches else "")
    )
    print(
        f"  reconnects: {reconnects}, live connections: {clients}, "
        f"logins during the run: {relogins}"
    )


async def run(messages: int) -> None:
    """Measure both transports, one after the other, each with its own core."""
    for variant, transport in TRANSPORTS:
        await measure(variant, transport, messages)


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(run(args.messages))


if __name__ == "__main__":
    main()
