"""Rows and time of importing a HAN reader's history into long-term statistics.

Starts a real Home Assistant core with a recorder (SQLite file) and a simulated
reader on loopback, then runs the history import the integration runs on first
set-up: 7 days of 15-minute buckets (plus the days and months before them), and
once more to show that a repeated import writes nothing. Prints the rows per
statistic and the time until the rows are committed.

    python -m benchmarks.han_history_import [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

import aiohttp
from homeassistant.components.recorder.models import (
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
)
from homeassistant.const import UnitOfEnergy
from homeassistant.helpers.recorder import async_initialize_recorder, get_instance
from homeassistant.setup import async_setup_component
from homeassistant.util.unit_conversion import EnergyConverter
from pytest_homeassistant_custom_component.common import async_test_home_assistant

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.cozify_han.client import HanClient
from custom_components.energy_gateways.devices.cozify_han.history import (
    ImportResult,
    async_import_history,
)
from custom_components.energy_gateways.devices.cozify_han.models import HistoryPeriod
from custom_components.energy_gateways.statistics import statistic_id
from simulators.cozify_han import HanSimulator


async def _run_once(
    port: int, serial: str
) -> tuple[ImportResult, float, ImportResult, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        return await _import_twice(port, serial, f"sqlite:///{folder}/bench.db")


async def _import_twice(
    port: int, serial: str, db_url: str
) -> tuple[ImportResult, float, ImportResult, float, float]:
    async with async_test_home_assistant() as hass:
        async_initialize_recorder(hass)  # what bootstrap does before any set-up
        await async_setup_component(hass, "recorder", {"recorder": {"db_url": db_url}})
        await hass.async_block_till_done()
        recorder = get_instance(hass)
        await hass.async_start()  # the recorder opens its database once started
        async with asyncio.timeout(60):
            await recorder.async_db_ready
        session = aiohttp.ClientSession()
        client = HanClient(session, "127.0.0.1", port)
        timings: list[float] = []
        results: list[ImportResult] = []
        started = time.perf_counter()
        for period in (
            HistoryPeriod.WEEKLY,
            HistoryPeriod.MONTHLY,
            HistoryPeriod.YEARLY,
        ):
            await client.get_history(period)
        fetch = time.perf_counter() - started
        # A reader set up with an earlier version: its external energy
        # statistics exist (without rows), so the import writes them. (Without
        # entities there is no sensor statistic to backfill.)
        for key in ("energy_import", "energy_export"):
            async_add_external_statistics(
                hass,
                StatisticMetaData(
                    mean_type=StatisticMeanType.NONE,
                    has_sum=True,
                    name=key,
                    source=DOMAIN,
                    statistic_id=statistic_id(serial, key),
                    unit_class=EnergyConverter.UNIT_CLASS,
                    unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
                ),
                [],
            )
        await recorder.async_block_till_done()
        for _ in range(2):
            started = time.perf_counter()
            results.append(
                await async_import_history(hass, client, device=serial, name="HAN")
            )
            await recorder.async_block_till_done()
            timings.append(time.perf_counter() - started)
        await session.close()
        await hass.async_stop(force=True)
    return results[0], timings[0], results[1], timings[1], fetch


async def measure(runs: int) -> None:
    """Run the measurement and print the figures."""
    simulator = HanSimulator(push_interval=None)
    await simulator.start(host="127.0.0.1", port=0)
    serial = str(simulator.state["serial"])
    first: list[float] = []
    again: list[float] = []
    fetches: list[float] = []
    result = repeat = None
    for _ in range(runs):
        result, took, repeat, took_again, fetch = await _run_once(
            simulator.port, serial
        )
        fetches.append(fetch)
        first.append(took)
        again.append(took_again)
    await simulator.stop()
    assert result is not None
    assert repeat is not None

    weekly_hours = result.power  # one power row per complete hour of the week
    print(f"complete hours in the 7-day history: {weekly_hours}")
    print(
        "rows written on first set-up:        "
        f"{result.rows} (energy import {result.energy_import}, "
        f"export {result.energy_export}, power {result.power})"
    )
    print(f"  of them from the 7-day history:   {3 * weekly_hours}")
    print(
        "  days/months before it (energy):   "
        f"{result.energy_import - weekly_hours} per energy statistic"
    )
    print(
        f"first import, committed:            median {statistics.median(first) * 1000:.0f} ms,"
        f" worst {max(first) * 1000:.0f} ms over {runs} runs"
    )
    print(
        "  of it reading the three histories (simulator + HTTP + parse): "
        f"median {statistics.median(fetches) * 1000:.0f} ms"
    )
    print(
        f"repeated import:                    {repeat.rows} rows, "
        f"median {statistics.median(again) * 1000:.0f} ms"
    )


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args, _unknown = parser.parse_known_args()
    asyncio.run(measure(args.runs))


if __name__ == "__main__":
    main()
