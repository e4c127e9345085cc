"""``python -m simulators gavazzi_ems``: run a Carlo Gavazzi EMS gateway simulator."""

import argparse
import asyncio
import logging

from ..params import parse_start_faults
from .faults import EmsFault, parse_fault, validate_params
from .simulator import EmsSimulator

_LOGGER = logging.getLogger(__name__)

HELP = "Carlo Gavazzi EMS gateway (EMS Webapi 1.0.0, HTTP or HTTPS)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the gavazzi_ems options to its sub-command parser."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8443, help="TCP port (0: any)")
    parser.add_argument(
        "--tls", action="store_true", help="serve HTTPS with a self-signed certificate"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[:KEY=VALUE,...]",
        help="fault to switch on at start, repeatable; one of: "
        + ", ".join(fault.value for fault in EmsFault),
    )
    parser.add_argument("--username", default="api", help="API role account")
    parser.add_argument("--password", default="api-password", help="its password")
    parser.add_argument("--serial", default="BX10000000", help="gateway serial")
    parser.add_argument(
        "--extra-signals",
        type=int,
        default=0,
        help="add N signals with unknown codes (exercises pagination)",
    )
    parser.add_argument(
        "--token-lifetime", type=float, default=1800.0, help="seconds (default 1800)"
    )


def check_arguments(
    args: argparse.Namespace,
) -> list[tuple[EmsFault, dict[str, object]]]:
    """Validate the options; return the start faults. Raises ValueError."""
    if args.extra_signals < 0:
        raise ValueError("--extra-signals must not be negative")
    if args.token_lifetime <= 0:
        raise ValueError("--token-lifetime must be positive")
    return parse_start_faults(args.fault, parse_fault, validate_params)


async def run(args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Run the simulator until ``stop`` is set."""
    faults = check_arguments(args)
    simulator = EmsSimulator(
        args.username,
        args.password,
        serial=args.serial,
        extra_signals=args.extra_signals,
    )
    simulator.token_lifetime = args.token_lifetime
    await simulator.start(host=args.host, port=args.port, tls=args.tls)
    try:
        for fault, params in faults:
            simulator.set_fault(fault, **params)
        _LOGGER.info(
            "Gavazzi EMS simulator %s listening on %s (control: %s/_sim/status)",
            args.serial,
            simulator.url,
            simulator.url,
        )
        if simulator.certificate_sha256:
            _LOGGER.info("Certificate SHA-256: %s", simulator.certificate_sha256)
        await stop.wait()
    finally:
        await simulator.stop()
