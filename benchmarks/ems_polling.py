"""Requests and time of the EMS polling cycle, against a simulated gateway.

Starts a real Home Assistant core with the integration and one Carlo Gavazzi
EMS entry pointing at the simulator (plain HTTP on loopback), then runs polling
cycles one after the other, as the coordinator's timer would, and prints for
each cycle the signals read, the requests sent (as the coordinator counts them
and as the simulator saw them) and the time taken.

The default run measures the simulated installation as it is (four meters of
22 signals), then once more with 1500 extra signals on the main meter: more
than one page of realtime values, so a cycle needs two requests. The
simulator runs in the same process and event loop: a cycle's time includes the
simulator building its answer.

    python -m benchmarks.ems_polling [--cycles 100] [--extra-signals 1500]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
import statistics
import time

from homeassistant.const import CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import CONF_IMPORT_HISTORY
from custom_components.energy_gateways.devices.gavazzi_ems.coordinator import (
    EmsCoordinator,
)
from custom_components.energy_gateways.devices.gavazzi_ems.options_flow import (
    SCAN_INTERVAL,
)
from simulators.gavazzi_ems import EmsSimulator

from .harness import ems_entry, running_hass

USERNAME = "api"
PASSWORD = "api-password"  # noqa: S105 - the simulator's account


@dataclass(slots=True)
class Running:
    """One loaded EMS entry, and the simulator behind it."""

    simulator: EmsSimulator
    entry: MockConfigEntry
    setup_requests: int
    """Requests the set-up sent: login, the gateway's tree, the first values."""

    @property
    def coordinator(self) -> EmsCoordinator:
        """The entry's polling coordinator."""
        coordinator: EmsCoordinator = self.entry.runtime_data.coordinator
        return coordinator


@asynccontextmanager
async def running_ems(
    hass: HomeAssistant, serial: str = "BX10000000", extra_signals: int = 0
) -> AsyncIterator[Running]:
    """Yield an EMS entry set up against a fresh simulator; remove both after.

    The timer polls only every few minutes and the history import is off, so
    the caller's cycles are the only requests the simulator sees.
    """
    simulator = EmsSimulator(
        username=USERNAME, password=PASSWORD, serial=serial, extra_signals=extra_signals
    )
    await simulator.start(host="127.0.0.1", port=0)
    try:
        entry = ems_entry(
            simulator,
            {CONF_SCAN_INTERVAL: SCAN_INTERVAL.maximum, CONF_IMPORT_HISTORY: False},
        )
        entry.add_to_hass(hass)
        if not await hass.config_entries.async_setup(entry.entry_id):
            raise RuntimeError(f"the EMS entry did not load: {entry.state}")
        await hass.async_block_till_done()
        yield Running(simulator, entry, sum(simulator.requests.values()))
        await hass.config_entries.async_remove(entry.entry_id)
        await hass.async_block_till_done()
    finally:
        await simulator.stop()


@dataclass(slots=True)
class Figures:
    """What the cycles of one run took."""

    meters: int
    signals: int
    active: int
    realtime: int
    setup_requests: int
    counted: list[int]
    """Requests per cycle as the coordinator counted them."""
    seen: list[int]
    """Requests per cycle as the simulator received them."""
    paths: dict[str, int]
    """Requests per path over all cycles, as the simulator received them."""
    durations_ms: list[float]


async def measure(
    hass: HomeAssistant, serial: str, cycles: int, extra_signals: int
) -> Figures:
    """Set up an entry, run `cycles` polling cycles and return their figures."""
    async with running_ems(hass, serial, extra_signals) as running:
        coordinator, simulator = running.coordinator, running.simulator
        counted: list[int] = []
        seen: list[int] = []
        durations: list[float] = []
        before_run = simulator.requests.copy()
        for _ in range(cycles):
            before = sum(simulator.requests.values())
            await coordinator.async_refresh()
            if not coordinator.last_update_success:
                raise RuntimeError(
                    f"a polling cycle failed: {coordinator.last_exception}"
                )
            seen.append(sum(simulator.requests.values()) - before)
            counted.append(coordinator.stats.last_requests)
            assert coordinator.stats.last_duration is not None
            durations.append(coordinator.stats.last_duration * 1000)
        paths = dict(simulator.requests - before_run)
        data = coordinator.data
        return Figures(
            meters=len(data.configuration.devices),
            signals=len(data.configuration.signals),
            active=len(data.configuration.active_signals),
            realtime=len(data.samples),
            setup_requests=running.setup_requests,
            counted=counted,
            seen=seen,
            paths=paths,
            durations_ms=durations,
        )


def _spread(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low} to {high}"


def report(title: str, figures: Figures) -> None:
    """Print one run's figures."""
    durations = sorted(figures.durations_ms)
    p95 = (
        statistics.quantiles(durations, n=20, method="inclusive")[18]
        if len(durations) > 1
        else durations[-1]
    )
    paths = ", ".join(
        f"{path} {count}" for path, count in sorted(figures.paths.items())
    )
    print(f"--- {title}")
    print(
        f"installation:        {figures.meters} meters, {figures.signals} signals"
        f" ({figures.active} active)"
    )
    print(f"set-up requests:     {figures.setup_requests} (login, tree, first values)")
    print(f"cycles:              {len(durations)}")
    print(f"realtime signals:    {figures.realtime} per cycle")
    print(
        f"requests per cycle:  {_spread(figures.counted)} (coordinator),"
        f" {_spread(figures.seen)} (simulator: {paths})"
    )
    print(
        f"cycle time:          median {statistics.median(durations):.2f} ms,"
        f" p95 {p95:.2f} ms, max {durations[-1]:.2f} ms"
    )


async def run(cycles: int, extra_signals: int) -> None:
    """Measure the installation as it is, then with the extra signals."""
    started = time.perf_counter()
    async with running_hass() as hass:
        report("simulated installation", await measure(hass, "BX10000000", cycles, 0))
        if extra_signals:
            report(
                f"with {extra_signals} extra signals",
                await measure(hass, "BX10000001", cycles, extra_signals),
            )
    print(f"--- total {time.perf_counter() - started:.1f} s")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--extra-signals", type=int, default=1500)
    # scripts/bench passes the same arguments to every benchmark.
    args, _unknown = parser.parse_known_args()
    if args.cycles < 1 or args.extra_signals < 0:
        parser.error("--cycles must be at least 1, --extra-signals not negative")
    asyncio.run(run(args.cycles, args.extra_signals))


if __name__ == "__main__":
    main()
