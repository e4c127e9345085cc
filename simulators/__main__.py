"""Command line: ``python -m simulators <device> [options]`` and ``... fault``.

Every device type is one sub-command; add a new one to ``DEVICES``.
"""

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
import json
import logging
import signal
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

from simulators.buzzn import cli as buzzn_cli
from simulators.cozify_han import cli as cozify_han_cli
from simulators.cozify_hub import cli as cozify_hub_cli
from simulators.gavazzi_ems import cli as gavazzi_ems_cli
from simulators.params import parse_params
from simulators.ziggymeter import cli as ziggymeter_cli

_LOGGER = logging.getLogger("simulators")


@dataclass(frozen=True, slots=True)
class DeviceCommand:
    """A device simulator sub-command."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, asyncio.Event], Awaitable[None]]


DEVICES = (
    DeviceCommand(
        "buzzn",
        buzzn_cli.HELP,
        buzzn_cli.add_arguments,
        buzzn_cli.run,
    ),
    DeviceCommand(
        "cozify_han",
        cozify_han_cli.HELP,
        cozify_han_cli.add_arguments,
        cozify_han_cli.run,
    ),
    DeviceCommand(
        "cozify_hub",
        cozify_hub_cli.HELP,
        cozify_hub_cli.add_arguments,
        cozify_hub_cli.run,
    ),
    DeviceCommand(
        "gavazzi_ems",
        gavazzi_ems_cli.HELP,
        gavazzi_ems_cli.add_arguments,
        gavazzi_ems_cli.run,
    ),
    DeviceCommand(
        "ziggymeter",
        ziggymeter_cli.HELP,
        ziggymeter_cli.add_arguments,
        ziggymeter_cli.run,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one sub-command per device plus ``fault``."""
    parser = argparse.ArgumentParser(
        prog="python -m simulators", description="Energy Gateways device simulators"
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for device in DEVICES:
        device_parser = commands.add_parser(device.name, help=device.help)
        device_parser.set_defaults(device=device)
        device.add_arguments(device_parser)
    fault = commands.add_parser(
        "fault", help="switch a fault of a running simulator on or off"
    )
    fault.add_argument(
        "--url", default="http://127.0.0.1:8080", help="base URL of the simulator"
    )
    fault.add_argument(
        "name",
        nargs="?",
        help="fault name; without it: list the active faults (or clear all)",
    )
    fault.add_argument("--clear", action="store_true", help="switch the fault off")
    fault.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fault parameter, repeatable (e.g. status=500, mode=backwards)",
    )
    fault.add_argument("--timeout", type=float, default=10.0)
    _add_insecure(fault)
    control = commands.add_parser(
        "control",
        help="POST /_sim/ACTION to a running simulator (reboot, sleep, wake, power, "
        "certificate, tokens/expire)",
    )
    control.add_argument(
        "--url", default="http://127.0.0.1:8080", help="base URL of the simulator"
    )
    control.add_argument("action", help="e.g. sleep, wake, power, reboot")
    control.add_argument(
        "query",
        nargs="*",
        metavar="KEY=VALUE",
        help="query parameters, e.g. seconds=60, source=battery, duration=10",
    )
    control.add_argument("--timeout", type=float, default=10.0)
    _add_insecure(control)
    return parser


def _add_insecure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-k",
        "--insecure",
        action="store_true",
        help="do not verify the certificate (simulators with a self-signed one)",
    )


def _context(args: argparse.Namespace) -> ssl.SSLContext | None:
    if not args.insecure:
        return None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # a local simulator's self-signed certificate
    return context


def _call(args: argparse.Namespace, url: str, method: str, data: bytes | None) -> int:
    """Send one request to a simulator; print the answer; return the exit status."""
    request = urllib.request.Request(  # noqa: S310 - scheme checked by the caller
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=args.timeout, context=_context(args)
        ) as response:
            sys.stdout.write(response.read().decode() + "\n")
    except urllib.error.HTTPError as err:
        sys.stderr.write(f"HTTP {err.code}: {err.read().decode(errors='replace')}\n")
        return 1
    except (urllib.error.URLError, OSError) as err:
        sys.stderr.write(f"cannot reach {args.url}: {err}\n")
        return 1
    return 0


def _base_url(args: argparse.Namespace) -> str | None:
    base = str(args.url).rstrip("/")
    if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
        sys.stderr.write("--url must be an http:// or https:// URL\n")
        return None
    return base


def control_command(args: argparse.Namespace) -> int:
    """POST ``/_sim/{action}?key=value...`` to a running simulator."""
    base = _base_url(args)
    if base is None:
        return 2
    try:
        query = {key: str(value) for key, value in parse_params(args.query).items()}
    except ValueError as err:
        sys.stderr.write(f"{err}\n")
        return 2
    action = urllib.parse.quote(str(args.action).strip("/"), safe="/")
    url = f"{base}/_sim/{action}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    return _call(args, url, "POST", b"")


def fault_command(args: argparse.Namespace) -> int:
    """Call the control endpoint ``/_sim/fault`` of a running simulator."""
    base = _base_url(args)
    if base is None:
        return 2
    name = urllib.parse.quote(args.name or "", safe="")
    path = f"/_sim/fault/{name}" if name else "/_sim/fault"
    data: bytes | None = None
    if args.clear:
        method = "DELETE"
    elif name:
        method = "POST"
        try:
            data = json.dumps(parse_params(args.param)).encode()
        except ValueError as err:
            sys.stderr.write(f"{err}\n")
            return 2
    else:
        method = "GET"
    return _call(args, base + path, method, data)


async def _serve(device: DeviceCommand, args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # not available on Windows; Ctrl-C then arrives as KeyboardInterrupt
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    await device.run(args, stop)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=str(args.log_level).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "fault":
        return fault_command(args)
    if args.command == "control":
        return control_command(args)
    device: DeviceCommand = args.device
    try:
        asyncio.run(_serve(device, args))
    except KeyboardInterrupt:
        return 0
    except (ValueError, OSError) as err:
        _LOGGER.error("%s: %s", device.name, err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
