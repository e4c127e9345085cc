"""``python -m simulators buzzn``: run a BUZZN broker simulator."""

import argparse
import asyncio
import logging

from ..params import add_server_arguments, parse_start_faults
from .faults import BuzznFault, parse_fault, validate_params
from .simulator import VARIANTS, BuzznSimulator

_LOGGER = logging.getLogger(__name__)

HELP = "BUZZN broker (myBUZZN backend: REST, /live WebSocket, Socket.IO 2)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the buzzn options to its sub-command parser."""
    add_server_arguments(parser, port=8445, faults=BuzznFault)
    parser.add_argument(
        "--variant",
        choices=VARIANTS,
        default="document",
        help="document: everything in the API document; reference: as the "
        "reference backend (no hints/challenges/logout, Socket.IO only)",
    )
    parser.add_argument("--email", default="erika@example.com", help="account e-mail")
    parser.add_argument("--password", default="buzzn-password", help="its password")
    parser.add_argument(
        "--session-lifetime",
        type=float,
        help="seconds a session token is valid (default 900 reference, 3600 document)",
    )
    parser.add_argument(
        "--live-interval",
        type=float,
        default=20.0,
        help="seconds between live messages",
    )
    parser.add_argument(
        "--no-wrap-data",
        action="store_true",
        help='/live sends the object itself instead of {"data": "<json>"}',
    )


def check_arguments(
    args: argparse.Namespace,
) -> list[tuple[BuzznFault, dict[str, object]]]:
    """Validate the options; return the start faults. Raises ValueError."""
    if args.live_interval <= 0:
        raise ValueError("--live-interval must be positive")
    if args.session_lifetime is not None and args.session_lifetime <= 0:
        raise ValueError("--session-lifetime must be positive")
    return parse_start_faults(args.fault, parse_fault, validate_params)


def simulator_from(args: argparse.Namespace) -> BuzznSimulator:
    """Return the simulator the options describe (not started)."""
    return BuzznSimulator(
        variant=args.variant,
        email=args.email,
        password=args.password,
        session_lifetime=args.session_lifetime,
        live_interval=args.live_interval,
        wrap_data=not args.no_wrap_data,
    )


async def run(args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Run the simulator until ``stop`` is set."""
    faults = check_arguments(args)
    simulator = simulator_from(args)
    await simulator.start(host=args.host, port=args.port)
    try:
        for fault, params in faults:
            simulator.set_fault(fault, **params)
        _LOGGER.info(
            "BUZZN simulator (%s variant) listening on %s (control: %s/_sim/status)",
            simulator.variant,
            simulator.url,
            simulator.url,
        )
        _LOGGER.info(
            "In Home Assistant enter server URL %s, e-mail %s, password %s",
            simulator.url,
            args.email,
            args.password,
        )
        await stop.wait()
    finally:
        await simulator.stop()
