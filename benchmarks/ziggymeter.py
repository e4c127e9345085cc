"""ZiggyMeter: the firmware upload rate against the reader's limit, requests per hour.

Starts a real Home Assistant core with the integration and one ZiggyMeter
entry pointing at the simulator (HTTPS on loopback, certificate pinned).

Upload: sends an image of `--size` bytes (64 KiB by default) with the
`energy_gateways.upload_firmware` action at the configured rate (`--rate`,
default 1024 B/s, the vendor's limit, which the simulator enforces too) and
prints the rate the reader measured after the first 4 KiB (how it judges),
the rate over the whole body, the upload's duration and the time until the
reader ran the new build. `--rate-factor 4` uploads 4 x faster than the
reader accepts, to show the refusal.

Requests: runs `--cycles` polling cycles and counts what the simulator
received per cycle (status; version only after a restart) and the logins;
requests per hour follow from the intervals (30 s on USB, 300 s on batteries)
and the token lifetime (renewed 5 minutes before it ends).

    python -m benchmarks.ziggymeter [--size 65536] [--rate 1024] [--cycles 50]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import tempfile
import time

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.ziggymeter.client import (
    TOKEN_RENEW_MARGIN,
)
from custom_components.energy_gateways.devices.ziggymeter.options_flow import (
    BATTERY_INTERVAL,
    UPLOAD_RATE,
    USB_INTERVAL,
)
from simulators.ziggymeter import ZiggySimulator, ota_image

from .harness import async_set_up, running_hass, ziggy_entry

HOUR = 3600.0


async def upload(
    hass: HomeAssistant, simulator: ZiggySimulator, entry: MockConfigEntry, size: int
) -> None:
    """Upload one image through the action and print what the reader saw."""
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, str(entry.unique_id)), entry.entry_id
    )
    assert device is not None
    build = simulator.build_number + 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, f"ZiggyMeter-1.0.{build}.ota")
        await asyncio.to_thread(
            path.write_bytes, ota_image(build, f"1.0.{build}", size)
        )
        hass.config.allowlist_external_dirs = {folder}
        started = time.monotonic()
        error = None
        try:
            await hass.services.async_call(
                DOMAIN,
                "upload_firmware",
                {"device_id": device.id, "path": str(path)},
                blocking=True,
            )
        except HomeAssistantError as err:
            error = str(err)
        installed = time.monotonic() - started
    attempt = simulator.uploads[-1]
    body = attempt.ended - attempt.started
    print(f"  image:                 {size} bytes ({size / 1024:.0f} KiB)")
    print(f"  configured rate:       {UPLOAD_RATE.value(entry.options)} B/s")
    print(f"  reader's limit:        {simulator.ota_limit:.0f} B/s")
    print(f"  accepted:              {attempt.accepted} ({attempt.reason or 'ok'})")
    if attempt.measured_rate is not None:
        print(
            f"  rate after first 4 KiB (reader's measure): {attempt.measured_rate:.1f} B/s"
        )
    print(f"  rate over the body:    {attempt.size / body:.1f} B/s")
    print(f"  upload time:           {body:.1f} s")
    if error is None:
        print(
            f"  until the new build ran: {installed:.1f} s (build {simulator.build_number})"
        )
    else:
        print(f"  error shown:           {error}")


async def requests_per_hour(
    simulator: ZiggySimulator, entry: MockConfigEntry, cycles: int
) -> None:
    """Count requests per polling cycle; derive the hourly figures."""
    coordinator = entry.runtime_data.coordinator
    before = sum(simulator.requests.values())
    logins = simulator.logins
    for _ in range(cycles):
        await coordinator.async_refresh()
    per_cycle = (sum(simulator.requests.values()) - before) / cycles
    lifetime = simulator.token_lifetime
    renewals = HOUR / max(lifetime - min(TOKEN_RENEW_MARGIN, lifetime / 2), 1.0)
    print(
        f"  {cycles} cycles: {per_cycle:.2f} requests per cycle, "
        f"{simulator.logins - logins} logins"
    )
    for name, option, note in (
        ("USB", USB_INTERVAL, ""),
        ("batteries", BATTERY_INTERVAL, " at most: asleep, an attempt sends nothing"),
    ):
        polls = HOUR / option.default
        total = polls * per_cycle + renewals
        print(
            f"  on {name} (every {option.default} s): {polls:.0f} cycles/h x "
            f"{per_cycle:.2f} + {renewals:.2f} logins/h = {total:.1f} requests/h{note}"
        )


async def main(args: argparse.Namespace) -> None:
    """Run both measurements."""
    simulator = ZiggySimulator(ota_limit=args.rate, reboot_seconds=5.0)
    await simulator.start(host="127.0.0.1", port=0)
    try:
        async with running_hass() as hass:
            entry = ziggy_entry(
                simulator, {"upload_rate": round(args.rate * args.rate_factor)}
            )
            await async_set_up(hass, entry)
            print("requests")
            await requests_per_hour(simulator, entry, args.cycles)
            print("upload")
            await upload(hass, simulator, entry, args.size)
    finally:
        await simulator.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64 * 1024)
    parser.add_argument("--rate", type=float, default=1024.0)
    parser.add_argument("--rate-factor", type=float, default=1.0)
    parser.add_argument("--cycles", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
