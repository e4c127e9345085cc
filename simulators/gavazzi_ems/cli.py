"""``python -m simulators gavazzi_ems``: run a Carlo Gavazzi EMS gateway simulator."""

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path
import signal

from ..params import add_server_arguments, parse_start_faults
from .faults import EmsFault, parse_fault, validate_params
from .simulator import EmsSimulator

_LOGGER = logging.getLogger(__name__)

HELP = "Carlo Gavazzi EMS gateway (EMS Webapi 1.0.0, HTTP or HTTPS)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the gavazzi_ems options to its sub-command parser."""
    add_server_arguments(parser, port=8443, faults=EmsFault)
    parser.add_argument(
        "--tls", action="store_true", help="serve HTTPS with a self-signed certificate"
    )
    parser.add_argument(
        "--cert-dir",
        type=Path,
        metavar="DIR",
        help="with --tls: reuse ems.crt and ems.key from DIR (made there when "
        "missing or unusable), so the certificate survives restarts",
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
    if args.cert_dir is not None and not args.tls:
        raise ValueError("--cert-dir needs --tls")
    return parse_start_faults(args.fault, parse_fault, validate_params)


async def run(args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Run the simulator until ``stop`` is set.

    SIGUSR1 takes the gateway offline (connections refused) and, sent again,
    brings it back; the control endpoints share its port, so they cannot.
    """
    faults = check_arguments(args)
    simulator = EmsSimulator(
        args.username,
        args.password,
        serial=args.serial,
        extra_signals=args.extra_signals,
    )
    simulator.token_lifetime = args.token_lifetime
    await simulator.start(
        host=args.host, port=args.port, tls=args.tls, cert_dir=args.cert_dir
    )
    loop = asyncio.get_running_loop()
    toggles: set[asyncio.Task[None]] = set()
    toggle_signal: int | None = getattr(signal, "SIGUSR1", None)

    def toggle() -> None:
        task = loop.create_task(toggle_online(simulator))
        toggles.add(task)
        task.add_done_callback(toggles.discard)

    if toggle_signal is not None:
        # not on Windows, nor outside the main thread
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(toggle_signal, toggle)
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
            _LOGGER.info(
                "Certificate SHA-256: %s (%s)",
                simulator.certificate_sha256,
                simulator.certificate_path,
            )
        await stop.wait()
    finally:
        if toggle_signal is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(toggle_signal)
        await asyncio.gather(*toggles, return_exceptions=True)
        await simulator.stop()


async def toggle_online(simulator: EmsSimulator) -> None:
    """Take the simulator offline, or bring it back when it is offline."""
    if simulator.online:
        await simulator.go_offline()
        _LOGGER.info("Gavazzi EMS simulator offline (SIGUSR1 again: come back)")
        return
    try:
        await simulator.come_back()
    except OSError as err:
        _LOGGER.error("Gavazzi EMS simulator cannot listen again: %s", err)
        return
    _LOGGER.info("Gavazzi EMS simulator back on %s (new boot)", simulator.url)
