"""``python -m simulators cozify_hub``: run a Cozify cloud with its hubs."""

import argparse
import asyncio
import logging

from ..params import add_server_arguments, parse_start_faults
from .cloud import LAN_IP_FORMS
from .faults import CozifyFault, parse_fault, validate_params
from .simulator import CozifySimulator

_LOGGER = logging.getLogger(__name__)

HELP = "Cozify Hub (Cozify cloud login, hub keys and relay; hubs on the LAN)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the cozify_hub options to its sub-command parser."""
    add_server_arguments(parser, port=None, faults=CozifyFault)
    parser.add_argument(
        "--cloud-port", type=int, default=8447, help="cloud TCP port (0: any)"
    )
    parser.add_argument(
        "--hub-port",
        type=int,
        default=8893,
        help="first hub's TCP port, the next hub on the next port (0: any)",
    )
    parser.add_argument("--email", default="maija@example.com", help="account e-mail")
    parser.add_argument("--hubs", type=int, default=2, help="1: Koti, 2: also Mökki")
    parser.add_argument(
        "--change-interval",
        type=float,
        default=5.0,
        help="seconds between simulated state changes (0: none)",
    )
    parser.add_argument(
        "--lan-ip-form",
        choices=LAN_IP_FORMS,
        default="url",
        help='lan_ip lists "http://ip:port" (url) or "ip" (bare: port 8893 assumed)',
    )
    parser.add_argument("--cloud-base", default="/ui/0.2", help="cloud base path")
    parser.add_argument(
        "--tls", action="store_true", help="cloud over HTTPS (self-signed)"
    )
    parser.add_argument(
        "--no-decoy", action="store_true", help="lan_ip lists no HAN reader"
    )
    parser.add_argument(
        "--strict-commands",
        action="store_true",
        help="refuse (400) read-only and unsupported CMD_DEVICE keys, not ignore them",
    )


def check_arguments(
    args: argparse.Namespace,
) -> list[tuple[CozifyFault, dict[str, object]]]:
    """Validate the options; return the start faults. Raises ValueError."""
    if args.hubs < 1:
        raise ValueError("--hubs must be at least 1")
    if args.change_interval < 0:
        raise ValueError("--change-interval must not be negative")
    return parse_start_faults(args.fault, parse_fault, validate_params)


def simulator_from(args: argparse.Namespace) -> CozifySimulator:
    """Return the simulator the options describe (not started)."""
    simulator = CozifySimulator(
        args.email,
        hubs=args.hubs,
        cloud_base=args.cloud_base,
        lan_ip_form=args.lan_ip_form,
        lan_decoy=not args.no_decoy,
        change_interval=args.change_interval or None,
        strict_commands=args.strict_commands,
    )
    simulator.on_code = lambda code: print_code(args.email, code)
    return simulator


def print_code(email: str, code: str) -> None:
    """Show a mailed code on stdout (never through a logger: it is a secret)."""
    print(f"Cozify code for {email}: {code}", flush=True)  # noqa: T201


async def run(args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Run the simulator until ``stop`` is set."""
    faults = check_arguments(args)
    simulator = simulator_from(args)
    hub_ports = (
        [args.hub_port + index for index in range(args.hubs)] if args.hub_port else None
    )
    await simulator.start(args.host, args.cloud_port, hub_ports, tls=args.tls)
    try:
        for fault, params in faults:
            simulator.set_fault(fault, **params)
        _LOGGER.info(
            "Cozify cloud simulator on %s (control: %s/_sim/status)",
            simulator.cloud_url,
            simulator.cloud.url,
        )
        for hub in simulator.hubs:
            _LOGGER.info("Cozify hub %r (%s) on %s", hub.name, hub.hub_id, hub.url)
        if simulator.decoy is not None:
            _LOGGER.info("HAN reader decoy on %s", simulator.decoy.url)
        _LOGGER.info(
            "In Home Assistant enter the cloud URL and the account's e-mail; "
            "the login code is printed here"
        )
        await stop.wait()
    finally:
        await simulator.stop()
