"""``python -m simulators ziggymeter``: run a ZiggyMeter meter reader simulator."""

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path
import signal

from ..params import add_server_arguments, parse_start_faults
from ..tls import colon_fingerprint
from .faults import ZiggyFault, parse_fault, validate_params
from .simulator import LOGIN_PATHS, POWER_SOURCES, ZiggySimulator

_LOGGER = logging.getLogger(__name__)

HELP = "ZiggyMeter meter reader (REST API over HTTPS, battery sleep, throttled OTA)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ziggymeter options to its sub-command parser."""
    add_server_arguments(parser, port=8444, faults=ZiggyFault)
    parser.add_argument(
        "--cert-dir",
        type=Path,
        metavar="DIR",
        help="reuse ziggymeter.crt and ziggymeter.key from DIR (made there when "
        "missing or unusable), so the certificate survives restarts",
    )
    parser.add_argument("--username", default="admin", help="account name")
    parser.add_argument("--password", default="ziggy-password", help="its password")
    parser.add_argument(
        "--login-paths",
        choices=tuple(LOGIN_PATHS),
        default="both",
        help="api: only /api/v1/system/login, legacy: only /login",
    )
    parser.add_argument("--power", choices=POWER_SOURCES, default="usb")
    parser.add_argument(
        "--awake-seconds", type=float, default=20.0, help="battery: awake window"
    )
    parser.add_argument(
        "--asleep-seconds", type=float, default=280.0, help="battery: sleep between"
    )
    parser.add_argument("--phases", type=int, choices=(1, 3), default=3)
    parser.add_argument(
        "--no-export", action="store_true", help="no export counter or power"
    )
    parser.add_argument(
        "--token-lifetime", type=float, default=3600.0, help="seconds (default 3600)"
    )
    parser.add_argument(
        "--ota-limit", type=float, default=1024.0, help="OTA upload bytes/s"
    )
    parser.add_argument(
        "--extra-keys", action="store_true", help="status carries unknown keys"
    )
    parser.add_argument(
        "--integers", action="store_true", help="whole numbers instead of floats"
    )
    parser.add_argument(
        "--identifier", help='status carries "serial": IDENTIFIER (default: none)'
    )


def check_arguments(
    args: argparse.Namespace,
) -> list[tuple[ZiggyFault, dict[str, object]]]:
    """Validate the options; return the start faults. Raises ValueError."""
    for name in ("token_lifetime", "ota_limit", "awake_seconds", "asleep_seconds"):
        if getattr(args, name) <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive")
    return parse_start_faults(args.fault, parse_fault, validate_params)


def simulator_from(args: argparse.Namespace) -> ZiggySimulator:
    """Return the simulator the options describe (not started)."""
    return ZiggySimulator(
        args.username,
        args.password,
        login_paths=args.login_paths,
        token_lifetime=args.token_lifetime,
        phases=args.phases,
        export=not args.no_export,
        power=args.power,
        awake_seconds=args.awake_seconds,
        asleep_seconds=args.asleep_seconds,
        ota_limit=args.ota_limit,
        extra_keys=args.extra_keys,
        integers=args.integers,
        identifier=args.identifier,
    )


async def run(args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Run the simulator until ``stop`` is set.

    SIGUSR1 puts the reader to sleep (connections refused) and, sent again,
    wakes it; SIGUSR2 switches between USB and battery power. The control
    endpoints share its port, so they cannot wake a sleeping reader.
    """
    faults = check_arguments(args)
    simulator = simulator_from(args)
    await simulator.start(host=args.host, port=args.port, cert_dir=args.cert_dir)
    loop = asyncio.get_running_loop()
    handlers = {
        getattr(signal, "SIGUSR1", None): lambda: toggle_sleep(simulator),
        getattr(signal, "SIGUSR2", None): lambda: toggle_power(simulator),
    }
    installed: list[int] = []
    for signum, handler in handlers.items():
        if signum is None:
            continue
        # not on Windows, nor outside the main thread
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, handler)
            installed.append(signum)
    try:
        for fault, params in faults:
            simulator.set_fault(fault, **params)
        host = args.host if ":" not in args.host else f"[{args.host}]"
        _LOGGER.info(
            "ZiggyMeter simulator listening on %s (%s power; control: %s/_sim/status)",
            simulator.url,
            simulator.power,
            simulator.url,
        )
        _LOGGER.info(
            "In Home Assistant enter host %s:%s, username %s, password %s",
            host,
            simulator.port,
            args.username,
            args.password,
        )
        _LOGGER.info(
            "Certificate SHA-256: %s (%s)",
            colon_fingerprint(simulator.certificate_sha256 or ""),
            simulator.certificate_path,
        )
        await stop.wait()
    finally:
        for signum in installed:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)
        await simulator.stop()


def toggle_sleep(simulator: ZiggySimulator) -> None:
    """Put the simulator to sleep, or wake it when it sleeps."""
    try:
        if simulator.awake:
            simulator.sleep_now()
            _LOGGER.info("ZiggyMeter simulator asleep (SIGUSR1 again: wake)")
        else:
            simulator.wake_now()
            _LOGGER.info("ZiggyMeter simulator awake on %s", simulator.url)
    except OSError as err:
        _LOGGER.error("ZiggyMeter simulator cannot listen again: %s", err)


def toggle_power(simulator: ZiggySimulator) -> None:
    """Switch between USB and battery power."""
    try:
        simulator.set_power("usb" if simulator.power == "battery" else "battery")
    except OSError as err:
        _LOGGER.error("ZiggyMeter simulator cannot listen again: %s", err)
        return
    _LOGGER.info("ZiggyMeter simulator now on %s power", simulator.power)
