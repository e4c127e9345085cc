"""A full firmware install through the update entity, timed, with its progress.

Starts Home Assistant with the integration and a simulated reader (default OTA
pace: 0.3 s per 10 % of download, 0.3 s validation, 5 s reboot), presses
*Install*, and prints every state the update entity showed until it reports the
new version, with the time since the press.

    python -m benchmarks.han_ota_install
"""

from __future__ import annotations

import asyncio
import time

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, EventStateChangedData, callback
from homeassistant.helpers.event import async_track_state_change_event

from .harness import running_han

UPDATE = "update.cozify_han_123_456_firmware"


async def measure() -> None:
    """Install once and print the timeline."""
    async with running_han() as (hass, simulator):
        offered = simulator.ota["version"]
        started = time.perf_counter()
        timeline: list[tuple[float, str]] = []
        finished = asyncio.Event()

        @callback
        def on_change(event: Event[EventStateChangedData]) -> None:
            state = event.data["new_state"]
            if state is None:
                return
            attributes = state.attributes
            timeline.append(
                (
                    time.perf_counter() - started,
                    f"{state.state:<12} in_progress={attributes.get('in_progress')!s:<5} "
                    f"update_percentage={attributes.get('update_percentage')} "
                    f"installed={attributes.get('installed_version')}",
                )
            )
            if attributes.get("installed_version") == offered:
                finished.set()

        unsubscribe = async_track_state_change_event(hass, [UPDATE], on_change)
        await hass.services.async_call(
            "update", "install", {ATTR_ENTITY_ID: UPDATE}, blocking=True
        )
        returned = time.perf_counter() - started
        await asyncio.wait_for(finished.wait(), timeout=120)
        total = time.perf_counter() - started
        unsubscribe()

    for moment, line in timeline:
        print(f"{moment:7.3f} s  {line}")
    print(f"install action returned after {returned:.2f} s (download + validation)")
    print(
        f"new version {offered} shown after {total:.2f} s (incl. reboot and reconnect)"
    )


if __name__ == "__main__":
    asyncio.run(measure())
