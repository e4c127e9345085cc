"""Delay from the HAN simulator sending a meter message to the new state in HA.

Starts a real Home Assistant core with the integration and a simulated reader on
loopback, sends 1000 meter messages with distinct power values, and measures for
each the time until `hass.states` holds the new value. Prints median, p95, p99
and worst, plus what the integration asked of the reader meanwhile.

    python -m benchmarks.han_push_latency [--messages 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from homeassistant.core import Event, EventStateChangedData, callback
from homeassistant.helpers.event import async_track_state_change_event

from .harness import running_han

POWER = "sensor.electricity_meter_power"


async def measure(messages: int) -> None:
    """Run the measurement and print the figures."""
    async with running_han() as (hass, simulator):
        arrived: dict[float, float] = {}
        waiter: asyncio.Future[None] | None = None
        expected = 0.0

        @callback
        def on_change(event: Event[EventStateChangedData]) -> None:
            state = event.data["new_state"]
            if state is not None and state.state == str(expected):
                arrived[expected] = time.perf_counter()
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

        unsubscribe = async_track_state_change_event(hass, [POWER], on_change)
        template = simulator.push_meter()
        delays: list[float] = []
        requests_before = sum(simulator.requests.values())
        started = time.perf_counter()
        for index in range(messages):
            # Distinct values, so every message changes the state.
            expected = float(100_000 + index)
            message = {**template, "p": [expected, *template["p"][1:]]}
            waiter = hass.loop.create_future()
            sent = time.perf_counter()
            simulator.broadcast(message)
            await asyncio.wait_for(waiter, timeout=5)
            delays.append(arrived[expected] - sent)
        elapsed = time.perf_counter() - started
        unsubscribe()
        requests = sum(simulator.requests.values()) - requests_before

    delays_ms = sorted(delay * 1000 for delay in delays)
    quantiles = statistics.quantiles(delays_ms, n=100)
    print(f"messages:          {len(delays_ms)} over {elapsed:.2f} s")
    print(f"median delay:      {statistics.median(delays_ms):.3f} ms")
    print(f"p95 / p99 delay:   {quantiles[94]:.3f} ms / {quantiles[98]:.3f} ms")
    print(f"worst delay:       {delays_ms[-1]:.3f} ms")
    print(f"REST requests to the reader during the run: {requests}")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(measure(args.messages))


if __name__ == "__main__":
    main()
