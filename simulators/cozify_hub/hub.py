"""The hubs' API (served on each hub's LAN listener and through the cloud relay).

:class:`Part` is what the cloud, the hubs and the decoy share: the fault board
and the ``/_sim`` control routes. :class:`HubServer` answers ``GET /hub`` and the
versioned ``/cc/<v>/...`` API; :meth:`HubServer.answer` is the one handler both
the LAN listener and the relay call.
"""

from abc import abstractmethod
import asyncio
from collections import Counter
from collections.abc import Callable
import contextlib
import copy
import functools
import json
import random
import secrets
import time
from typing import Any

from aiohttp import web
import jwt

from ..secrets import remember
from ..server import DeviceServer, Handler, SessionTokens, json_error, send_truncated
from . import home
from .faults import CozifyFault, FaultBoard
from .home import Record

TOMBSTONE_MS = 600_000
"""How long a removed device is reported as null; older ``ts`` get a full poll."""
HUB_FEATURES = [0, 1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 14]
TIMEZONE = "Europe/Helsinki"
DEVICE_COMMANDS = frozenset({"CMD_DEVICE_ON", "CMD_DEVICE_OFF", "CMD_DEVICE"})
SCENE_COMMANDS = frozenset({"CMD_SCENE_ON", "CMD_SCENE_OFF"})


def api_version(version: str) -> str:
    """``1.14.9.124`` -> ``1.14``: the path segment of the versioned API."""
    return ".".join(version.split(".")[:2])


def json_answer(payload: Any, status: int = 200) -> web.Response:
    """JSON with UTF-8 text as it is (names like ``Mökki`` unescaped)."""
    return web.json_response(
        payload, status=status, dumps=functools.partial(json.dumps, ensure_ascii=False)
    )


class Signer:
    """Issues and reads the simulator's JWTs (HS256, a random secret per simulator)."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def issue(
        self, tokens: SessionTokens, claims: dict[str, Any], lifetime: float
    ) -> str:
        """Issue a new token valid ``lifetime`` s, stored in ``tokens`` and remembered."""
        now = time.time()
        expiry = now + lifetime
        claims = {**claims, "iat": int(now), "exp": expiry, "jti": secrets.token_hex(8)}
        token = jwt.encode(claims, self._secret, algorithm="HS256")
        tokens[token] = expiry
        remember(token)
        return token

    def claims(self, token: str | None) -> dict[str, Any] | None:
        """Return the claims of a token this simulator signed (expiry not checked), or None."""
        if not token:
            return None
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.InvalidTokenError:
            return None


class Part(DeviceServer):
    """One listener of the simulator; every part shares the fault board."""

    def __init__(self, board: FaultBoard) -> None:
        super().__init__()
        self._board = board

    def set_fault(self, fault: str, **params: Any) -> None:
        """Switch a fault on (for the whole simulator)."""
        self._board.set(fault, **params)

    def clear_fault(self, fault: str) -> None:
        """Switch a fault off (for the whole simulator)."""
        self._board.clear(fault)

    def clear_faults(self) -> None:
        """Switch every fault off."""
        self._board.clear_all()

    @property
    def faults(self) -> dict[str, dict[str, Any]]:
        """Active faults of the simulator with their parameters."""
        return self._board.active

    def change_password(self, password: str) -> None:
        """Refused: a Cozify account logs in with e-mailed codes, not a password."""
        raise ValueError("Cozify has no password: logins use e-mailed codes")

    def listen(self, on: bool) -> None:
        """Start or stop listening at once (no reboot; state kept); no-op unstarted."""
        if self._runner is None:
            return
        if not on and self.online:
            self._go_down()
        elif on and not self.online and not self.rebooting:
            self._bring_up(boot=False)

    def _application(self) -> web.Application:
        @web.middleware
        async def middleware(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            if not request.path.startswith("/_sim/"):
                return await self._api(request, handler)
            try:
                return await handler(request)
            except ValueError as err:
                return json_error(400, str(err))

        app = web.Application(middlewares=[middleware])
        app.add_routes([*self._routes(), *self._control_routes()])
        return app

    def _routes(self) -> list[web.RouteDef]:
        """Routes besides the shared control ones."""
        return []

    @abstractmethod
    async def _api(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Answer a request outside ``/_sim`` (``handler`` is the matched route)."""

    async def _faulted(self, path: str, *alternatives: str) -> web.Response | None:
        """Return the http_error answer for ``path``, after a slow_response delay."""
        failure = self._board.get(CozifyFault.HTTP_ERROR)
        if failure is not None and any(
            p.startswith(failure["path"]) for p in (path, *alternatives)
        ):
            return json_error(int(failure["status"]), "unable to process request")
        slow = self._board.get(CozifyFault.SLOW_RESPONSE)
        if slow is not None:
            await self._sleep(float(slow["seconds"]))
        return None


class HubServer(Part):
    """A Cozify Hub: its LAN listener, its devices and its API."""

    LOG_NAME = "Cozify Hub simulator"

    def __init__(
        self,
        index: int,
        board: FaultBoard,
        signer: Signer,
        *,
        version: str,
        extra_delta: bool = True,
        poll_as_list: bool = False,
        command_delay: float = 0.2,
        strict_commands: bool = False,
    ) -> None:
        super().__init__(board)
        self._signer = signer
        self._keys = SessionTokens()
        self._clock = 0
        self.version = version
        self.extra_delta = extra_delta
        """Every poll answer ends with an ``ALARM_DELTA`` (a type clients ignore)."""
        self.poll_as_list = poll_as_list
        """Polls answer the bare ``polls`` list instead of the POLL_DELTA object."""
        self.command_delay = command_delay
        """Seconds between a command's answer and its effect."""
        self.requests: Counter[str] = Counter()
        """LAN requests by ``METHOD /path`` template (``{v}`` for the version)."""
        self.commands: list[Record] = []
        """Every well-formed device and scene command received (refused too), oldest first."""
        self.strict_commands = strict_commands
        """Refuse (400) read-only and unsupported ``CMD_DEVICE`` keys instead of ignoring them."""
        self.transitions: list[tuple[str, int]] = []
        """(device id, ms) of every light transition asked for in an accepted command."""
        now = self.now_ms()
        data = home.build(index, now)
        self.hub_id, self.name = data.hub_id, data.name
        self.devices, self.rooms, self.scenes = data.devices, data.rooms, data.scenes
        self.scene_states = data.scene_states
        """Scene id -> device id -> the (partial) state the scene sets when turned on."""
        for record in self.devices.values():
            record["timestamp"] = self.now_ms()
        self._removed: dict[str, int] = {}
        self._removed_scenes: dict[str, int] = {}
        self._room_times = dict.fromkeys(self.rooms, now)
        self._scene_times = dict.fromkeys(self.scenes, now)
        self._last_poll = 0
        self._rng = random.Random(index)
        self._timers: set[asyncio.TimerHandle] = set()
        self._effects: set[asyncio.TimerHandle] = set()
        self._closed = asyncio.Event()

    @property
    def api_version(self) -> str:
        """The version in the API path (``1.14``); others answer 410."""
        return api_version(self.version)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0: a free port), plain HTTP as a hub does."""
        self._closed = asyncio.Event()
        await self._start(host, port, tls_on=False, cert_dir=None)

    async def stop(self) -> None:
        """Stop listening and cancel pending commands and state changes."""
        self._closed.set()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._effects.clear()
        await super().stop()

    # ---- state ------------------------------------------------------------------

    def now_ms(self) -> int:
        """Tick the hub clock (epoch ms), strictly increasing even under a frozen clock."""
        self._clock = max(self._clock + 1, int(time.time() * 1000))
        return self._clock

    def change(self, device_id: str, **state: Any) -> int:
        """Merge ``state`` into the device's state; return the change's hub time.

        A reachable device counts as just seen (``lastSeen``) unless given.
        """
        record = self.devices[device_id]
        stamp = self.now_ms()
        record["state"].update(state)
        if record["state"].get("reachable") and "lastSeen" not in state:
            record["state"]["lastSeen"] = stamp
        record["timestamp"] = stamp
        return stamp

    def add_device(self, record: Record) -> int:
        """Add (or replace) a device record (copied); return its hub time."""
        if not isinstance(record.get("id"), str):
            raise ValueError("a device record needs a string id")
        stamp = self.now_ms()
        self.devices[record["id"]] = {**copy.deepcopy(record), "timestamp": stamp}
        self._removed.pop(record["id"], None)
        return stamp

    def remove_device(self, device_id: str) -> int:
        """Remove a device (polls report it as null); return the hub time."""
        del self.devices[device_id]
        self._removed[device_id] = stamp = self.now_ms()
        return stamp

    def set_reachable(self, device_id: str, reachable: bool) -> int:
        """Mark a device reachable or not; return the change's hub time."""
        return self.change(device_id, reachable=reachable)

    def set_room(self, room_id: str, name: str) -> int:
        """Add or rename a room (polls carry a ROOM_DELTA); return the hub time."""
        order = self.rooms.get(room_id, {}).get("order", len(self.rooms) + 1)
        self.rooms[room_id] = {"id": room_id, "name": name, "order": order}
        self._room_times[room_id] = stamp = self.now_ms()
        return stamp

    def device_named(self, name: str) -> str:
        """Return the id of the device called ``name`` (KeyError if none)."""
        for device_id, record in self.devices.items():
            if record["name"] == name:
                return device_id
        raise KeyError(name)

    @property
    def pending(self) -> int:
        """Accepted commands and scenes whose devices have not acted yet."""
        return len(self._effects)

    def scene_named(self, name: str) -> str:
        """Return the id of the scene called ``name`` (KeyError if none)."""
        for scene_id, scene in self.scenes.items():
            if scene["name"] == name:
                return scene_id
        raise KeyError(name)

    def set_scene(self, scene_id: str, on: bool) -> int:
        """Turn a scene on or off as ``CMD_SCENE_ON``/``OFF`` does; return the hub time.

        On: the other scenes go off at once and the scene's device states
        follow ``command_delay`` s later. Off: only the scene's ``isOn``.
        """
        scene = self.scenes[scene_id]
        scene["isOn"] = on
        self._scene_times[scene_id] = stamp = self.now_ms()
        if not on:
            return stamp
        for other, record in self.scenes.items():
            if other != scene_id and record["isOn"]:
                record["isOn"] = False
                self._scene_times[other] = stamp
        states = copy.deepcopy(self.scene_states.get(scene_id, {}))

        def act() -> None:
            for device, state in states.items():
                self._act(device, state)

        self._later(act)
        return stamp

    def add_scene(self, scene_id: str, name: str) -> int:
        """Add a scene (off, setting no device); return the hub time."""
        self.scenes[scene_id] = {"id": scene_id, "name": name, "isOn": False}
        self._scene_times[scene_id] = stamp = self.now_ms()
        self._removed_scenes.pop(scene_id, None)
        return stamp

    def remove_scene(self, scene_id: str) -> int:
        """Delete a scene (polls report it as null); return the hub time."""
        del self.scenes[scene_id]
        self._scene_times.pop(scene_id, None)
        self.scene_states.pop(scene_id, None)
        self._removed_scenes[scene_id] = stamp = self.now_ms()
        return stamp

    def update_software(self, version: str = "1.15.0.3") -> None:
        """Install a new version: the old API version answers 410 from now on."""
        self.version = version

    def run_changes(self, interval: float) -> None:
        """Drift the devices' states every ``interval`` seconds (loop timers)."""

        def tick() -> None:
            self._timers.discard(timer)
            self.drift()
            self.run_changes(interval)

        timer = asyncio.get_running_loop().call_later(interval, tick)
        self._timers.add(timer)

    def drift(self) -> None:
        """One step of plausible state changes (temperatures, motion, doors, ...)."""
        for device_id, record in list(self.devices.items()):
            change = home.drift(record, self._rng, self.now_ms())
            if change:
                self.change(device_id, **change)

    # ---- keys -------------------------------------------------------------------

    def issue_key(self, lifetime: float) -> str:
        """Issue a new hub key (JWT: hub_id, hub_name, role 32) valid ``lifetime`` s."""
        claims = {"hub_id": self.hub_id, "hub_name": self.name, "role": 32}
        return self._signer.issue(self._keys, claims, lifetime)

    def key_valid(self, key: str | None) -> bool:
        """Whether ``key`` is a hub key for this hub, unexpired and not revoked."""
        claims = self._signer.claims(key)
        return (
            key is not None
            and claims is not None
            and claims.get("hub_id") == self.hub_id
            and self._keys.valid(key)
        )

    def expire_keys_now(self) -> None:
        """Refuse (401) every hub key issued so far; new ones from hubkeys work."""
        self._keys.expire_all()

    def expire_tokens_now(self) -> None:
        """``/_sim/tokens/expire``: expire every hub key of this hub."""
        self.expire_keys_now()

    # ---- HTTP -------------------------------------------------------------------

    async def _api(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        self.requests[f"{request.method} {self.template(path)}"] += 1
        return await self.answer(request, path, request.headers.get("Authorization"))

    def template(self, path: str) -> str:
        """``/cc/1.14/hub/poll`` -> ``/cc/{v}/hub/poll`` (for request counters)."""
        parts = path.split("/", 3)
        if len(parts) >= 3 and parts[1] == "cc":
            parts[2] = "{v}"
        return "/".join(parts)

    async def answer(
        self, request: web.Request, path: str, key: str | None
    ) -> web.StreamResponse:
        """Answer the hub call ``path`` (query and body from ``request``).

        ``key``: the hub key sent (LAN: ``Authorization``; relay: ``X-Hub-Key``).
        """
        faulted = await self._faulted(path)
        if faulted is not None:
            return faulted
        if path == "/hub":
            return (
                self._meta() if request.method == "GET" else json_error(405, "GET only")
            )
        parts = path.split("/", 3)
        if len(parts) < 4 or parts[1] != "cc":
            return json_error(404, "not found")
        if parts[2] != self.api_version:
            return json_error(410, f"API version {parts[2]} is gone")
        if not self.key_valid(key) or self._board.take(CozifyFault.UNAUTHORIZED_ONCE):
            return json_error(401, "invalid hub key")
        routes = {
            ("GET", "hub/tz"): self._tz,
            ("GET", "devices"): self._devices,
            ("GET", "hub/poll"): self._poll,
            ("PUT", "devices/command"): self._device_command,
            ("GET", "scenes"): self._scenes,
            ("PUT", "scenes/command"): self._scene_command,
            ("GET", "rooms"): self._rooms,
        }
        route = routes.get((request.method, parts[3]))
        if route is None:
            known = any(name == parts[3] for _, name in routes)
            return json_error(405 if known else 404, "not found")
        return await route(request)

    def _meta(self) -> web.Response:
        return json_answer(
            {
                "type": "HUB_META_DATA",
                "hubId": self.hub_id,
                "name": self.name,
                "version": self.version,
                "connected": True,
                "features": HUB_FEATURES,
                "state": "claimed",
            }
        )

    async def _data(self, request: web.Request, payload: Any) -> web.StreamResponse:
        """Answer data, with the malformed_json and truncated_body faults."""
        text = json.dumps(payload, ensure_ascii=False)
        if self._board.get(CozifyFault.MALFORMED_JSON) is not None:
            text = text[: len(text) // 2]
        if self._board.get(CozifyFault.TRUNCATED_BODY) is not None:
            return await send_truncated(request, text.encode())
        return web.Response(text=text, content_type="application/json")

    def _served(self, record: Record) -> Record:
        if self._board.get(CozifyFault.EXTRA_FIELDS) is None:
            return record
        state = {**record["state"], "signalStrength": -67}
        return {**record, "state": state, "zigbee": {"lqi": 180, "parent": None}}

    async def _tz(self, _request: web.Request) -> web.StreamResponse:
        return json_answer(TIMEZONE)

    async def _devices(self, request: web.Request) -> web.StreamResponse:
        return await self._data(
            request, {key: self._served(record) for key, record in self.devices.items()}
        )

    async def _rooms(self, request: web.Request) -> web.StreamResponse:
        return await self._data(request, self.rooms)

    async def _scenes(self, request: web.Request) -> web.StreamResponse:
        return await self._data(request, self.scenes)

    async def _poll(self, request: web.Request) -> web.StreamResponse:
        try:
            since = int(request.query.get("ts", "0"))
        except ValueError:
            return json_error(400, "ts must be epoch milliseconds")
        now = self.now_ms()
        self._removed = {
            k: t for k, t in self._removed.items() if t > now - TOMBSTONE_MS
        }
        full = not now - TOMBSTONE_MS <= since < now
        devices: dict[str, Record | None] = {
            key: self._served(record)
            for key, record in self.devices.items()
            if full or record["timestamp"] > since
        }
        if not full:
            devices.update({key: None for key, t in self._removed.items() if t > since})
        polls: list[Record] = []
        if full or devices:
            polls.append({"type": "DEVICE_DELTA", "devices": devices})
        for kind, items, times in (
            ("ROOM", self.rooms, self._room_times),
            ("SCENE", self.scenes, self._scene_times),
        ):
            changed: dict[str, Record | None] = {
                k: v for k, v in items.items() if full or times[k] > since
            }
            if kind == "SCENE" and not full:
                changed.update(
                    {k: None for k, t in self._removed_scenes.items() if t > since}
                )
            if changed:
                polls.append({"type": f"{kind}_DELTA", f"{kind.lower()}s": changed})
        if self.extra_delta:
            polls.append({"type": "ALARM_DELTA", "alarms": {}})
        if self.poll_as_list:
            return await self._data(request, polls)
        glitch = self._board.get(CozifyFault.GLITCH_COUNTER)
        if glitch is None:
            self._last_poll = stamp = now
        elif glitch["mode"] == "zero":
            stamp = 0
        else:
            stamp = (self._last_poll or now) - int(glitch["amount"])
        answer = {
            "type": "POLL_DELTA",
            "full": full,
            "timestamp": stamp,
            "polls": polls,
        }
        return await self._data(request, answer)

    async def _commands(
        self, request: web.Request, kinds: frozenset[str]
    ) -> list[Record] | web.Response:
        """Return the request's command list, or a 400 answer."""
        try:
            body = await request.json()
        except ValueError:
            return json_error(400, "body is not valid JSON")
        if not isinstance(body, list) or not all(
            isinstance(item, dict)
            and isinstance(item.get("id"), str)
            and item.get("type") in kinds
            and (item["type"] != "CMD_DEVICE" or isinstance(item.get("state"), dict))
            for item in body
        ):
            return json_error(400, "body must be a list of known commands")
        self.commands.extend(body)
        return body

    async def _device_command(self, request: web.Request) -> web.StreamResponse:
        commands = await self._commands(request, DEVICE_COMMANDS)
        if isinstance(commands, web.Response):
            return commands
        refused = await self._refused(commands, self._device_problem)
        if refused is not None:
            return refused
        for command in commands:
            ms = (command.get("state") or {}).get("transitionMsec")
            light = self.devices[command["id"]]["state"].get("type") == "STATE_LIGHT"
            if light and isinstance(ms, int | float) and not isinstance(ms, bool):
                self.transitions.append((command["id"], round(ms)))

        def apply() -> None:
            for command in commands:
                self._apply(command)

        self._later(apply)
        return json_answer([])

    def _device_problem(self, command: Record) -> tuple[int, str] | None:
        record = self.devices.get(command["id"])
        if record is None:
            return 404, "unknown device"
        if command["type"] != "CMD_DEVICE":
            return None
        problem = home.command_problem(
            record, command["state"], strict=self.strict_commands
        )
        return None if problem is None else (400, problem)

    async def _refused(
        self,
        commands: list[Record],
        problem: Callable[[Record], tuple[int, str] | None],
    ) -> web.Response | None:
        """Delay (slow_command), then the refusal of a command list, or None.

        A list is refused whole (nothing applied): by its first bad command,
        else by the command_refused fault.
        """
        slow = self._board.get(CozifyFault.SLOW_COMMAND)
        if slow is not None:
            await self._sleep(float(slow["seconds"]))
        for command in commands:
            found = problem(command)
            if found is not None:
                return json_answer({"message": found[1]}, status=found[0])
        fault = self._board.get(CozifyFault.COMMAND_REFUSED)
        if fault is not None:
            return json_answer({"message": fault["reason"]}, status=fault["status"])
        return None

    async def _sleep(self, seconds: float) -> None:
        # ends early at stop() only: the relay still answers while the LAN is off
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closed.wait()

    def _later(self, action: Callable[[], None]) -> None:
        """Run ``action`` ``command_delay`` s from now (not after stop())."""
        if self._closed.is_set():
            return

        def run() -> None:
            self._timers.discard(timer)
            self._effects.discard(timer)
            action()

        timer = asyncio.get_running_loop().call_later(self.command_delay, run)
        self._timers.add(timer)
        self._effects.add(timer)

    def _apply(self, command: Record) -> None:
        wanted = command.get("state") or {"isOn": command["type"] == "CMD_DEVICE_ON"}
        self._act(command["id"], wanted)

    def _act(self, device_id: str, wanted: Record) -> None:
        """Make a device take the ``wanted`` (partial) state, if it is reachable."""
        record = self.devices.get(device_id)
        if record is None or not record["state"].get("reachable"):
            return  # the hub accepted it, the device never acts
        change = home.command_effect(record, wanted, self.now_ms())
        if change:
            self.change(device_id, **change)

    async def _scene_command(self, request: web.Request) -> web.StreamResponse:
        commands = await self._commands(request, SCENE_COMMANDS)
        if isinstance(commands, web.Response):
            return commands

        def problem(command: Record) -> tuple[int, str] | None:
            return None if command["id"] in self.scenes else (404, "unknown scene")

        refused = await self._refused(commands, problem)
        if refused is not None:
            return refused
        for command in commands:
            self.set_scene(command["id"], command["type"] == "CMD_SCENE_ON")
        return json_answer([])


class DecoyServer(Part):
    """A Cozify HAN reader listed by ``lan_ip``: ``GET /hub`` is no hub's metadata."""

    LOG_NAME = "Cozify HAN decoy"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0: a free port)."""
        await self._start(host, port, tls_on=False, cert_dir=None)

    def expire_tokens_now(self) -> None:
        """Nothing to expire: the decoy issues no tokens."""

    async def _api(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/hub" and request.method == "GET":
            return json_answer(
                {
                    "type": "HAN_META_DATA",
                    "deviceId": "han-0e1f2a3b",
                    "version": "1.0.1.2",
                }
            )
        return json_error(404, "not found")
