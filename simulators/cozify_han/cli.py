"""``python -m simulators cozify_han``: run a Cozify HAN reader simulator."""

import argparse
import asyncio
import logging

from ..params import add_server_arguments, parse_start_faults
from .faults import HanFault, parse_fault, validate_params
from .simulator import HanSimulator

_LOGGER = logging.getLogger(__name__)

HELP = "Cozify HAN reader (REST, /ws, /sse)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the cozify_han options to its sub-command parser."""
    add_server_arguments(parser, port=8080, faults=HanFault)
    parser.add_argument(
        "--interval",
        type=float,
        default=10.0,
        help="seconds between meter pushes; 0 turns the periodic push off",
    )
    parser.add_argument("--serial", default="HAN12345678", help="device serial")
    parser.add_argument("--phases", type=int, choices=(1, 2, 3), default=3)
    parser.add_argument(
        "--no-solar", action="store_true", help="no rooftop PV (never exports)"
    )
    parser.add_argument(
        "--refuse-while-rebooting",
        action="store_true",
        help="reboots (POST /reboot, OTA activation) refuse connections instead "
        "of answering 503",
    )


def check_arguments(
    args: argparse.Namespace,
) -> list[tuple[HanFault, dict[str, object]]]:
    """Validate the options; return the start faults. Raises ValueError."""
    if args.interval < 0:
        raise ValueError("--interval must not be negative")
    return parse_start_faults(args.fault, parse_fault, validate_params)


async def run(args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Run the simulator until ``stop`` is set."""
    faults = check_arguments(args)
    simulator = HanSimulator(
        push_interval=args.interval or None,
        serial=args.serial,
        phases=args.phases,
        solar=not args.no_solar,
    )
    simulator.reboot_refuses_connections = args.refuse_while_rebooting
    await simulator.start(host=args.host, port=args.port)
    try:
        for fault, params in faults:
            simulator.set_fault(fault, **params)
        _LOGGER.info(
            "Cozify HAN simulator %s listening on %s (control: %s/_sim/status)",
            args.serial,
            simulator.url,
            simulator.url,
        )
        await stop.wait()
    finally:
        await simulator.stop()
