"""End-to-end check: a real Home Assistant, the simulators, the frontend's HTTP calls.

Run by scripts/e2e with .venv's Python (it needs aiohttp). For every Home Assistant
virtual environment given with --venv: start the HAN (HTTP) and EMS (HTTPS,
self-signed) simulators and `python -m homeassistant` on free loopback ports with a
fresh configuration folder, complete the onboarding, run every device type's config
flow, check entries, devices, entities, a live value and home-assistant.log, then
stop everything. Prints one line per version and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import json
import math
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "energy_gateways"
HAN_INTERVAL = 2  # seconds between the HAN simulator's pushes
EMS_USER, EMS_PASSWORD = "api", "api-password"
ZIGGY_USER, ZIGGY_PASSWORD = "admin", "ziggy-password"
BUZZN_EMAIL, BUZZN_PASSWORD = "erika@example.com", "buzzn-password"
BUZZN_INTERVAL = 2  # seconds between the BUZZN simulator's live messages
COZIFY_EMAIL = "maija@example.com"
COZIFY_CODE = re.compile(rf"Cozify code for {re.escape(COZIFY_EMAIL)}: (\d+)")
"""How the Cozify simulator prints a mailed one-time code."""
# Entities that are unavailable on purpose: nothing to end before a challenge
# runs; a device the simulated hub reports as unreachable.
UNAVAILABLE_BY_DESIGN = frozenset(
    {
        "button.buzzn_erika_end_challenge",
        # The simulated home's bedside light is unreachable (the hub says so).
        "light.makuuhuone_yopoydan_valo",
    }
)
START_TIMEOUT = 240.0  # hass start-up on a busy 2-core machine
STEP_TIMEOUT = 60.0  # one HTTP call, an entry loading, entities appearing
LIVE_TIMEOUT = 30.0  # a pushed power value changing
STOP_TIMEOUT = 30.0
# The only WARNING Home Assistant always logs for a custom integration.
EXPECTED_WARNING = re.compile(
    r" WARNING \(\S+\) \[homeassistant\.loader\] We found a custom integration "
    rf"{DOMAIN} which has not been tested by Home Assistant\b"
)
# Entries not about the integration that the offline test machine causes, with why.
KNOWN_ENVIRONMENT = re.compile(
    "|".join(
        (
            # we run hass with --skip-pip on purpose
            r"Skipping pip installation",
            # HA's log throttle when a first start registers some 200 entities at once
            r"Module homeassistant\.helpers\.entity_registry is logging too frequently",
            # optional compression accelerators (not in requirements_dev.txt)
            r"zlib_ng and isal are not available",
            # Debian's ffmpeg binary and libturbojpeg are not installed
            r"FFmpeg",
            r"Error loading libturbojpeg",
            # the onboarding's core_config step sets these up; they need their
            # packages and the internet, which the e2e run has neither of
            r"(?<=components/)(met|radio_browser|google_translate|shopping_list)(?=/)",
            r"(?<=integration )(met|radio_browser|google_translate|shopping_list)\b",
            r"(?<=for )(met|radio_browser|google_translate|shopping_list)$",
        )
    ),
    re.MULTILINE,
)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\S* (?P<level>[A-Z]+) ")
# Minimal and offline: no default_config (go2rtc, discovery, cloud). frontend,
# api, config and onboarding come with the integrations hass always sets up.
CONFIGURATION_YAML = """\
homeassistant:
  name: e2e
  latitude: 60.17
  longitude: 24.94
  elevation: 10
  unit_system: metric
  time_zone: Europe/Helsinki
  currency: EUR
  country: FI
recorder:
logger:
  default: info
  logs:
    custom_components.energy_gateways: debug
"""
# Run with the target venv's Python: HA's own schema writes its own storage format.
SEED_HTTP = """\
import json, os, sys
from pathlib import Path
from homeassistant.components.http import config as c
from homeassistant.util import dt
stable = {**c.HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": int(sys.argv[2])}),
          "created_at": dt.utcnow().isoformat(), "error": None, "error_message": None}
store = {"version": c.STORAGE_VERSION, "minor_version": c.STORAGE_MINOR_VERSION, "key": c.STORAGE_KEY,
         "data": {"stable": stable, "pending": None, "yaml_migration_done": True}}
path = Path(sys.argv[1], ".storage", "http")
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text(json.dumps(store, indent=2))
os.chmod(path, 0o600)
"""


class E2EError(Exception):
    """A check failed; the message says which and why."""


@dataclass
class Result:
    """What one Home Assistant version did."""

    version: str
    install: float = 0.0
    startup: float = math.nan
    flows: float = math.nan
    total: float = 0.0
    error: str | None = None
    log_lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    work: Path | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.log_lines


def say(text: str) -> None:
    print(f"e2e: {text}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Processes:
    """Children in their own process groups, listed in a pid file for the trap."""

    def __init__(self, pid_file: Path | None) -> None:
        self._pid_file = pid_file
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(
        self, args: list[str], log: Path, cwd: Path = ROOT
    ) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            proc = subprocess.Popen(
                args,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._procs.append(proc)
        if self._pid_file is not None:
            with self._pid_file.open("a") as pids:
                pids.write(f"{proc.pid}\n")
        return proc

    def stop(
        self, proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT
    ) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                say(f"pid {proc.pid} ignored TERM for {timeout:.0f} s: killed")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # and whatever it left in its group
        proc.wait()

    def stop_all(self) -> None:
        for proc in reversed(self._procs):
            self.stop(proc)
        self._procs.clear()


async def wait_for[T](
    what: str,
    probe: Callable[[], Awaitable[T | None]],
    limit: float,
    interval: float = 0.5,
) -> T:
    """Call `probe` until it returns something other than None, at most `limit` s."""
    deadline = time.monotonic() + limit
    last_error = ""
    while True:
        try:
            value = await probe()
        except E2EError:
            raise
        except (
            aiohttp.ClientError,
            OSError,
            TimeoutError,
            ValueError,
            KeyError,
        ) as err:
            value, last_error = None, f" (last error: {err!r})"
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise E2EError(
                f"timed out after {limit:.0f} s waiting for {what}{last_error}"
            )
        await asyncio.sleep(interval)


class HomeAssistantClient:
    """The calls the frontend makes, over HTTP and the websocket."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.token = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ws_id = 0

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        expect: int = 200,
        form: bool = False,
    ) -> Any:
        kwargs: dict[str, Any] = {"data": body} if form else {"json": body}
        async with self.session.request(
            method, self.base + path, headers=self._headers(), **kwargs
        ) as resp:
            text = await resp.text()
            if resp.status != expect:
                raise E2EError(
                    f"{method} {path}: HTTP {resp.status} (expected {expect}): {text[:500]}"
                )
            return json.loads(text) if text else None

    async def ws(self, message: dict[str, Any]) -> Any:
        if self._ws is None:
            self._ws = await self.session.ws_connect(self.base + "/api/websocket")
            await self._ws.receive_json()  # auth_required
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            if (reply := await self._ws.receive_json())["type"] != "auth_ok":
                raise E2EError(f"websocket auth failed: {reply}")
        self._ws_id += 1
        await self._ws.send_json({"id": self._ws_id, **message})
        while True:
            reply = await self._ws.receive_json(timeout=STEP_TIMEOUT)
            if reply.get("id") == self._ws_id and reply.get("type") == "result":
                break
        if not reply["success"]:
            raise E2EError(f"websocket {message['type']}: {reply.get('error')}")
        return reply["result"]

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def onboard(self) -> None:
        """Create the owner, log in, finish the remaining onboarding steps."""
        client_id = f"{self.base}/"
        steps = {
            s["step"]: s["done"] for s in await self.request("GET", "/api/onboarding")
        }
        if steps.get("user", True):
            raise E2EError(
                f"a fresh configuration should start with the user step: {steps}"
            )
        user = await self.request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": client_id,
                "name": "E2E Owner",
                "username": "owner",
                "password": "e2e-password-123",
                "language": "en",
            },
        )
        tokens = await self.request(
            "POST",
            "/auth/token",
            {
                "grant_type": "authorization_code",
                "code": user["auth_code"],
                "client_id": client_id,
            },
            form=True,
        )
        self.token = tokens["access_token"]
        for step in steps:
            if step == "core_config":
                await self.request("POST", "/api/onboarding/core_config", {})
            elif step == "analytics":
                await self.request("POST", "/api/onboarding/analytics", {})
            elif step == "integration":
                await self.request(
                    "POST",
                    "/api/onboarding/integration",
                    {
                        "client_id": client_id,
                        "redirect_uri": f"{client_id}?auth_callback=1",
                    },
                )
            elif step != "user":
                raise E2EError(
                    f"unknown onboarding step {step!r}: teach scripts/e2e.py"
                )
        left = [
            s["step"]
            for s in await self.request("GET", "/api/onboarding")
            if not s["done"]
        ]
        if left:
            raise E2EError(f"onboarding steps not done: {left}")

    async def flow_step(
        self, flow_id: str, data: dict[str, Any], expect_type: str
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self.request(
            "POST", f"/api/config/config_entries/flow/{flow_id}", data
        )
        if result.get("errors") or result["type"] != expect_type:
            raise E2EError(f"flow step {data}: expected {expect_type}, got {result}")
        return result


def expect_fields(form: dict[str, Any], fields: set[str], what: str) -> None:
    """Fail when a form's fields are not the ones this script fills in."""
    shown = {field["name"] for field in form["data_schema"]}
    if shown != fields:
        raise E2EError(f"{what} form fields changed: {shown}")


@dataclass
class Simulators:
    """Where the simulators listen."""

    han_port: int
    ems_port: int
    ziggy_port: int
    buzzn_port: int
    cozify_cloud_port: int = 0
    cozify_hub_port: int = 0
    cozify_log: Path | None = None
    """The Cozify simulator's output, where it prints the mailed codes."""
    ems_sha256: str = ""
    ziggy_sha256: str = ""


async def add_han(
    ha: HomeAssistantClient, flow_id: str, sims: Simulators
) -> dict[str, Any]:
    form = await ha.flow_step(flow_id, {"next_step_id": "cozify_han"}, "form")
    expect_fields(form, {"host", "port"}, "HAN")
    return await ha.flow_step(
        flow_id, {"host": "127.0.0.1", "port": sims.han_port}, "create_entry"
    )


async def add_trusted(
    ha: HomeAssistantClient,
    flow_id: str,
    device_type: str,
    form: dict[str, Any],
    sha256: str,
) -> dict[str, Any]:
    """An account device over HTTPS: its form, then trust its certificate."""
    shown_form = await ha.flow_step(flow_id, {"next_step_id": device_type}, "form")
    expect_fields(
        shown_form, {"host", "verify_ssl", "username", "password"}, device_type
    )
    cert = await ha.flow_step(flow_id, {**form, "verify_ssl": True}, "form")
    if cert["step_id"] != "certificate":
        raise E2EError(f"expected the certificate step, got {cert}")
    shown = re.sub(
        r"[^0-9a-f]", "", str(cert["description_placeholders"]["fingerprint"]).lower()
    )
    if shown != sha256.lower():
        raise E2EError(f"fingerprint shown {shown} is not the simulator's {sha256}")
    return await ha.flow_step(flow_id, {}, "create_entry")


async def add_ems(
    ha: HomeAssistantClient, flow_id: str, sims: Simulators
) -> dict[str, Any]:
    form = {
        "host": f"https://127.0.0.1:{sims.ems_port}",
        "username": EMS_USER,
        "password": EMS_PASSWORD,
    }
    return await add_trusted(ha, flow_id, "gavazzi_ems", form, sims.ems_sha256)


async def add_ziggymeter(
    ha: HomeAssistantClient, flow_id: str, sims: Simulators
) -> dict[str, Any]:
    form = {
        "host": f"127.0.0.1:{sims.ziggy_port}",
        "username": ZIGGY_USER,
        "password": ZIGGY_PASSWORD,
    }
    return await add_trusted(ha, flow_id, "ziggymeter", form, sims.ziggy_sha256)


async def add_buzzn(
    ha: HomeAssistantClient, flow_id: str, sims: Simulators
) -> dict[str, Any]:
    form = await ha.flow_step(flow_id, {"next_step_id": "buzzn"}, "form")
    expect_fields(form, {"url", "email", "password"}, "BUZZN")
    return await ha.flow_step(
        flow_id,
        {
            "url": f"http://127.0.0.1:{sims.buzzn_port}",
            "email": BUZZN_EMAIL,
            "password": BUZZN_PASSWORD,
        },
        "create_entry",
    )


async def add_cozify_hub(
    ha: HomeAssistantClient, flow_id: str, sims: Simulators
) -> dict[str, Any]:
    """E-mail, the mailed code (read from the simulator's output), the LAN hub."""
    form = await ha.flow_step(flow_id, {"next_step_id": "cozify_hub"}, "form")
    expect_fields(form, {"email", "advanced"}, "Cozify Hub")
    cloud = f"http://127.0.0.1:{sims.cozify_cloud_port}/ui/0.2"
    await ha.flow_step(
        flow_id, {"email": COZIFY_EMAIL, "advanced": {"cloud_url": cloud}}, "form"
    )
    log = sims.cozify_log
    assert log is not None

    async def mailed_code() -> str | None:
        codes = COZIFY_CODE.findall(log.read_text(errors="replace"))
        return codes[-1] if codes else None

    code = await wait_for("the mailed Cozify code", mailed_code, STEP_TIMEOUT)
    connection = await ha.flow_step(flow_id, {"code": code, "resend": False}, "form")
    hub = f"http://127.0.0.1:{sims.cozify_hub_port}"
    if connection["step_id"] != "cozify_hub_connection":
        raise E2EError(f"expected the connection step, got {connection}")
    return await ha.flow_step(flow_id, {"connection": hub}, "create_entry")


DEVICE_FLOWS = {
    "cozify_han": add_han,
    "cozify_hub": add_cozify_hub,
    "gavazzi_ems": add_ems,
    "ziggymeter": add_ziggymeter,
    "buzzn": add_buzzn,
}
SINGLE_DEVICE_TYPES = {"ziggymeter"}
"""Device types whose entry is one device, with nothing behind it."""
READINGS = {"cozify_hub": "temperature"}
"""Device class of the values that must be numbers after set-up: energy totals
(total_increasing), except for device types without a meter."""


def is_reading(device_type: str, state: dict[str, Any]) -> bool:
    """Whether a state is one of the device type's readings that must be numeric."""
    attributes = state["attributes"]
    device_class = READINGS.get(device_type, "energy")
    return attributes.get("device_class") == device_class and (
        device_class != "energy" or attributes.get("state_class") == "total_increasing"
    )


async def run_flows(ha: HomeAssistantClient, sims: Simulators) -> dict[str, str]:
    """Run every device type's flow from the menu; return entry ids by device type."""
    entries: dict[str, str] = {}
    menu: list[str] | None = None
    while menu is None or len(entries) < len(menu):
        flow = await ha.request(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": DOMAIN, "show_advanced_options": False},
        )
        if flow["type"] != "menu" or flow["step_id"] != "user":
            raise E2EError(f"expected the device-type menu, got {flow}")
        options = flow["menu_options"]
        menu = list(options)  # a list, or a dict of labels
        missing = set(menu) - set(DEVICE_FLOWS)
        if missing:
            raise E2EError(f"device types without an e2e flow: {sorted(missing)}")
        device_type = next(d for d in menu if d not in entries)
        created = await DEVICE_FLOWS[device_type](ha, flow["flow_id"], sims)
        entries[device_type] = created["result"]["entry_id"]
        say(f"  flow {device_type}: entry {created['title']!r}")

    async def all_loaded() -> bool | None:
        states = {
            e["entry_id"]: e["state"]
            for e in await ha.request(
                "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
            )
        }
        bad = {
            k: states.get(v) for k, v in entries.items() if states.get(v) != "loaded"
        }
        if any(
            s in ("setup_error", "migration_error", "failed_unload")
            for s in bad.values()
        ):
            raise E2EError(f"entries failed: {bad}")
        return True if not bad else None

    await wait_for("every entry LOADED", all_loaded, STEP_TIMEOUT)
    return entries


def number(value: str) -> float | None:
    try:
        result = float(value)
    except ValueError:
        return None
    return result if math.isfinite(result) else None


async def check_devices_entities(
    ha: HomeAssistantClient, entries: dict[str, str], result: Result
) -> None:
    devices = await ha.ws({"type": "config/device_registry/list"})
    for device_type, entry_id in entries.items():
        own = [d for d in devices if entry_id in d["config_entries"]]
        ids = {d["id"] for d in own}
        hubs = [d for d in own if d["via_device_id"] not in ids]
        children = [d for d in own if d["via_device_id"] in ids]
        if len(hubs) != 1 or (not children and device_type not in SINGLE_DEVICE_TYPES):
            raise E2EError(
                f"{device_type}: expected one gateway with devices behind it, got "
                f"{[(d['name'], d['via_device_id']) for d in own]}"
            )
        result.notes.append(
            f"{device_type}: {hubs[0]['name']} ({hubs[0]['model']}) + {len(children)} device(s)"
        )

    registry = [
        e
        for e in await ha.ws({"type": "config/entity_registry/list"})
        if e["platform"] == DOMAIN
    ]
    enabled = {e["entity_id"]: e for e in registry if e["disabled_by"] is None}

    async def states_ready() -> dict[str, dict[str, Any]] | None:
        states = {s["entity_id"]: s for s in await ha.request("GET", "/api/states")}
        missing = sorted(set(enabled) - set(states))
        if missing:
            raise E2EError(f"enabled entities without a state: {missing[:10]}")
        for device_type, entry_id in entries.items():
            readings = [
                s
                for eid, s in states.items()
                if eid in enabled
                and enabled[eid]["config_entry_id"] == entry_id
                and is_reading(device_type, s)
            ]
            if not readings or any(number(s["state"]) is None for s in readings):
                return None
        return states

    states = await wait_for(
        "numeric readings (energy totals) of every entry", states_ready, STEP_TIMEOUT
    )
    for device_type, entry_id in entries.items():
        mine = [
            states[e] for e, r in enabled.items() if r["config_entry_id"] == entry_id
        ]
        readings = [s for s in mine if is_reading(device_type, s)]
        unavailable = [
            s["entity_id"]
            for s in mine
            if s["state"] == "unavailable"
            and s["entity_id"] not in UNAVAILABLE_BY_DESIGN
        ]
        if unavailable:
            raise E2EError(f"{device_type}: unavailable entities: {unavailable[:10]}")
        result.notes.append(
            f"{device_type}: {len(mine)} enabled entities, {len(readings)} "
            f"{READINGS.get(device_type, 'energy')} readings, e.g. "
            f"{readings[0]['entity_id']} = {readings[0]['state']} "
            f"{readings[0]['attributes'].get('unit_of_measurement')}"
        )

    han_power = sorted(
        e
        for e, r in enabled.items()
        if r["config_entry_id"] == entries["cozify_han"]
        and states[e]["attributes"].get("device_class") == "power"
    )
    if not han_power:
        raise E2EError("no HAN power entities")
    before = {e: states[e]["state"] for e in han_power}

    async def changed() -> str | None:
        now = {
            s["entity_id"]: s["state"] for s in await ha.request("GET", "/api/states")
        }
        return next((e for e in han_power if now.get(e) != before[e]), None)

    moved = await wait_for(
        "a pushed HAN power value to change", changed, LIVE_TIMEOUT, 1.0
    )
    result.notes.append(f"live: {moved} changed from {before[moved]}")


COMMANDED_LIGHT = "light.olohuone_olohuoneen_kattovalo"
"""A light of the simulated Cozify home, dimmed through Home Assistant's API."""


async def check_command(ha: HomeAssistantClient, result: Result) -> None:
    """Dim a Cozify light through the frontend's API; the hub's state must follow."""
    brightness = 77
    await ha.request(
        "POST",
        "/api/services/light/turn_on",
        {"entity_id": COMMANDED_LIGHT, "brightness": brightness},
    )

    async def dimmed() -> bool | None:
        state = await ha.request("GET", f"/api/states/{COMMANDED_LIGHT}")
        return True if state["attributes"].get("brightness") == brightness else None

    started = time.monotonic()
    await wait_for(
        f"{COMMANDED_LIGHT} at brightness {brightness}", dimmed, STEP_TIMEOUT
    )
    result.notes.append(
        f"command: {COMMANDED_LIGHT} dimmed, shown after {time.monotonic() - started:.1f} s"
    )


def check_log(log: Path, result: Result) -> None:
    """Every WARNING/ERROR/CRITICAL entry (with its traceback) but the expected ones.

    Anything naming the integration fails. So does anything else, except the
    lines of KNOWN_ENVIRONMENT (counted in the notes).
    """
    if not log.exists():
        result.notes.append(f"no {log}")
        return
    entries: list[list[str]] = []
    for line in log.read_text(errors="replace").splitlines():
        if LOG_LINE.match(line) or not entries:
            entries.append([line])
        else:
            entries[-1].append(line)  # a traceback or a multi-line message
    ignored: dict[str, int] = {}
    for entry in entries:
        match = LOG_LINE.match(entry[0])
        level = match["level"] if match else ""
        text = "\n".join(entry)
        if level not in ("WARNING", "ERROR", "CRITICAL") and "Traceback" not in text:
            continue
        if EXPECTED_WARNING.search(entry[0]):
            continue
        if DOMAIN not in text and (known := KNOWN_ENVIRONMENT.search(text)):
            ignored[known[0]] = ignored.get(known[0], 0) + 1
            continue
        result.log_lines.extend(entry)
    if ignored:
        result.notes.append(
            f"log: ignored {sum(ignored.values())} known environment entries "
            f"({', '.join(sorted(ignored))})"
        )


async def start_simulators(procs: Processes, python: str, work: Path) -> Simulators:
    sims = Simulators(free_port(), free_port(), free_port(), free_port())
    sims.cozify_cloud_port, sims.cozify_hub_port = free_port(), free_port()
    sims.cozify_log = work / "sim-cozify_hub.log"
    sim = [python, "-m", "simulators", "--log-level", "INFO"]
    procs.start(
        [
            *sim,
            "cozify_hub",
            "--host",
            "127.0.0.1",
            "--cloud-port",
            str(sims.cozify_cloud_port),
            "--hub-port",
            str(sims.cozify_hub_port),
            "--hubs",
            "1",
            "--change-interval",
            "2",
        ],
        sims.cozify_log,
    )
    procs.start(
        [
            *sim,
            "cozify_han",
            "--host",
            "127.0.0.1",
            "--port",
            str(sims.han_port),
            "--interval",
            str(HAN_INTERVAL),
        ],
        work / "sim-cozify_han.log",
    )
    procs.start(
        [
            *sim,
            "gavazzi_ems",
            "--host",
            "127.0.0.1",
            "--port",
            str(sims.ems_port),
            "--tls",
        ],
        work / "sim-gavazzi_ems.log",
    )
    procs.start(
        [*sim, "ziggymeter", "--host", "127.0.0.1", "--port", str(sims.ziggy_port)],
        work / "sim-ziggymeter.log",
    )
    procs.start(
        [
            *sim,
            "buzzn",
            "--host",
            "127.0.0.1",
            "--port",
            str(sims.buzzn_port),
            "--live-interval",
            str(BUZZN_INTERVAL),
        ],
        work / "sim-buzzn.log",
    )
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:

        async def han() -> bool | None:
            async with session.get(
                f"http://127.0.0.1:{sims.han_port}/_sim/status"
            ) as resp:
                return True if resp.status == 200 else None

        def fingerprint(port: int) -> Callable[[], Awaitable[str | None]]:
            async def read() -> str | None:
                async with session.get(
                    f"https://127.0.0.1:{port}/_sim/status", ssl=insecure
                ) as resp:
                    return (
                        str((await resp.json())["certificate_sha256"])
                        if resp.status == 200
                        else None
                    )

            return read

        async def buzzn() -> bool | None:
            async with session.get(
                f"http://127.0.0.1:{sims.buzzn_port}/_sim/status"
            ) as resp:
                return True if resp.status == 200 else None

        async def cozify() -> bool | None:
            async with session.get(
                f"http://127.0.0.1:{sims.cozify_cloud_port}/_sim/status"
            ) as resp:
                return True if resp.status == 200 else None

        await wait_for("the HAN simulator", han, 30)
        await wait_for("the Cozify simulator", cozify, 30)
        await wait_for("the BUZZN simulator", buzzn, 30)
        sims.ems_sha256 = await wait_for(
            "the EMS simulator", fingerprint(sims.ems_port), 30
        )
        sims.ziggy_sha256 = await wait_for(
            "the ZiggyMeter simulator", fingerprint(sims.ziggy_port), 30
        )
    return sims


def prepare(venv: Path, result: Result) -> tuple[Path, int]:
    """A fresh config folder: the integration linked in, HTTP on a free loopback port."""
    work = result.work = Path(
        tempfile.mkdtemp(prefix=f"energy-gateways-e2e-{result.version}-")
    )
    config = work / "config"
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / DOMAIN).symlink_to(
        ROOT / "custom_components" / DOMAIN
    )
    (config / "configuration.yaml").write_text(CONFIGURATION_YAML)
    ha_port = free_port()
    subprocess.run(
        [str(venv / "bin" / "python"), "-c", SEED_HTTP, str(config), str(ha_port)],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return work, ha_port


async def run_version(venv: Path, procs: Processes, result: Result) -> None:
    """Start the simulators and hass from `venv`, run the checks, stop everything."""
    python = str(venv / "bin" / "python")
    work, ha_port = prepare(venv, result)
    config = work / "config"
    log = config / "home-assistant.log"
    ha_proc: subprocess.Popen[bytes] | None = None
    try:
        sims = await start_simulators(
            procs, str(ROOT / ".venv" / "bin" / "python"), work
        )
        started = time.monotonic()
        # --skip-pip: everything comes from the venv, nothing is installed at run time.
        ha_proc = procs.start(
            [python, "-m", "homeassistant", "-c", str(config), "--skip-pip"],
            work / "hass-stdout.log",
        )
        base = f"http://127.0.0.1:{ha_port}"
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=STEP_TIMEOUT)
        ) as session:
            ha = HomeAssistantClient(session, base)

            async def up() -> bool | None:
                if ha_proc is not None and ha_proc.poll() is not None:
                    raise E2EError(
                        f"hass exited with {ha_proc.returncode} during start-up"
                    )
                async with session.get(
                    base + "/api/onboarding", timeout=aiohttp.ClientTimeout(total=5)
                ) as resp:
                    return True if resp.status == 200 else None

            await wait_for(f"hass to answer on {base}", up, START_TIMEOUT, 0.25)
            result.startup = time.monotonic() - started
            try:
                flows_started = time.monotonic()
                await ha.onboard()
                entries = await run_flows(ha, sims)
                result.flows = time.monotonic() - flows_started
                await check_devices_entities(ha, entries, result)
                await check_command(ha, result)
            finally:
                await ha.close()
    finally:
        if ha_proc is not None:
            procs.stop(ha_proc)
            if ha_proc.returncode not in (0, -signal.SIGTERM):
                result.notes.append(f"hass exit code {ha_proc.returncode}")
        procs.stop_all()
        check_log(log, result)


def ha_version(venv: Path) -> str:
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "from homeassistant.const import __version__; print(__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return out.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--venv",
        action="append",
        required=True,
        metavar="DIR[=SECONDS]",
        help="a venv with homeassistant; =SECONDS: how long installing it took",
    )
    parser.add_argument(
        "--pid-file", type=Path, help="append every child's pid (for the caller's trap)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary config folders"
    )
    args = parser.parse_args()
    procs = Processes(args.pid_file)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: list[Result] = []
    try:
        for spec in args.venv:
            venv, _, install = str(spec).partition("=")
            result = Result(ha_version(Path(venv)), install=float(install or 0))
            results.append(result)
            say(f"Home Assistant {result.version} ({venv})")
            started = time.monotonic()
            try:
                asyncio.run(run_version(Path(venv), procs, result))
            except (
                E2EError,
                aiohttp.ClientError,
                OSError,
                TimeoutError,
                subprocess.CalledProcessError,
            ) as err:
                result.error = f"{type(err).__name__}: {err}"
            result.total = result.install + time.monotonic() - started
            if result.work is not None:
                if args.keep or not result.ok:
                    result.notes.append(
                        f"kept {result.work} (config/home-assistant.log, *.log)"
                    )
                else:
                    shutil.rmtree(result.work, ignore_errors=True)
            for note in result.notes:
                say(f"  {note}")
    finally:
        procs.stop_all()

    failed = False
    print("\nHome Assistant   install  start-up    flows    total  result")
    for r in results:
        ok = r.ok
        failed |= not ok
        print(
            f"{r.version:<15} {r.install:7.1f}s {r.startup:8.1f}s {r.flows:7.1f}s "
            f"{r.total:7.1f}s  {'PASS' if ok else 'FAIL'}"
        )
    for r in results:
        if r.error:
            print(f"\n{r.version}: {r.error}")
        if r.log_lines:
            print(
                f"\n{r.version}: home-assistant.log has {len(r.log_lines)} unexpected line(s):"
            )
            print("\n".join(r.log_lines[:60]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
