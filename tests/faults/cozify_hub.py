"""The Cozify Hub's row of the fault matrix: delta polls on the LAN, the relay behind.

The rig's hub answers on the LAN (polled every 2 s). A hub that stops answering
there is read through the Cozify cloud relay without a gap, so only a hub that
neither the LAN nor the relay reaches is gone for the user.
"""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.devices.cozify_hub.const import (
    CONF_CLOUD_TOKEN,
    CONF_HUB_KEY,
    CONF_TOKEN_RENEWED,
)
from simulators.cozify_hub import CozifyFault, CozifySimulator

from ..cozify_hub.conftest import EMAIL, cozify_entry_for
from .commands import CommandCell, CommandFault, CommandOutcome, CommandRig
from .matrix import Fault, FaultKind, Outcome, Skip, SwitchedRig

SENSOR = "sensor.olohuone_olohuoneen_lampotila"
"""Object id prefix of the living room's multisensor."""
SOCKET = "Joulukuusi"
"""The socket the command cells switch (in the living room)."""


class CozifyHubRig(SwitchedRig, CommandRig):
    """A hub on the LAN with the cloud relay as fallback, polled for deltas."""

    device_type = "cozify_hub"
    interval = 2.0
    faults_enum = CozifyFault
    renewed_keys = frozenset({CONF_CLOUD_TOKEN, CONF_TOKEN_RENEWED, CONF_HUB_KEY})

    def __init__(self) -> None:
        self.simulator = CozifySimulator(email=EMAIL)
        self._entry: MockConfigEntry | None = None

    async def start(self) -> None:
        await self.simulator.start(host="127.0.0.1")
        self._entry = await cozify_entry_for(self.simulator)

    def entry(self) -> MockConfigEntry:
        assert self._entry is not None
        return self._entry

    @property
    def watched(self) -> tuple[str, ...]:
        return (f"{SENSOR}_temperature", f"{SENSOR}_humidity")

    @property
    def energy(self) -> tuple[str, ...]:
        return ()

    def updates(self, entry: MockConfigEntry) -> int:
        return int(entry.runtime_data.coordinator.polls)

    async def _gone(self) -> None:
        await self.simulator.hub.go_offline()
        self.on("cloud_down")

    async def _back(self) -> None:
        self.off("cloud_down")
        await self.simulator.hub.come_back()

    @property
    def commanded(self) -> str:
        return "switch.olohuone_joulukuusi"

    def device_is_on(self) -> bool:
        hub = self.simulator.hub
        return bool(hub.devices[hub.device_named(SOCKET)]["state"]["isOn"])

    def commands_received(self) -> int:
        return len(self.simulator.hub.commands)

    async def update(self, hass: HomeAssistant) -> None:
        await self.entry().runtime_data.coordinator.async_refresh()

    def command_faults(self) -> Mapping[CommandFault, CommandCell | Skip]:
        hub = self.simulator.hub
        socket = hub.device_named(SOCKET)
        return {
            CommandFault.REFUSED: CommandCell(
                start=lambda: self.on("command_refused", reason="device busy"),
                end=lambda: self.off("command_refused"),
                outcome=CommandOutcome.REFUSED,
                error_key="cozify_command_refused",
            ),
            CommandFault.SLOW: CommandCell(
                start=lambda: self.on("slow_command", seconds=1.0),
                end=lambda: self.off("slow_command"),
                outcome=CommandOutcome.APPLIED,
            ),
            # The hub off the LAN: the command goes through the cloud relay.
            CommandFault.LAN_GONE: CommandCell(
                start=hub.go_offline,
                end=hub.come_back,
                outcome=CommandOutcome.APPLIED,
                updates=1,
            ),
            CommandFault.GONE: CommandCell(
                start=self._gone,
                end=self._back,
                outcome=CommandOutcome.REFUSED,
                error_key="cozify_hub_unreachable",
                updates=1,
            ),
            CommandFault.DEVICE_UNREACHABLE: CommandCell(
                start=lambda: self._reachable(socket, False),
                end=lambda: self._reachable(socket, True),
                outcome=CommandOutcome.NOT_SENT,
                updates=1,
            ),
        }

    def _reachable(self, device_id: str, reachable: bool) -> None:
        self.simulator.hub.set_reachable(device_id, reachable)

    def _password_changed(self) -> None:
        self.simulator.expire_cloud_tokens_now()
        self.simulator.hub.expire_keys_now()

    def faults(self) -> Mapping[FaultKind, Fault | Skip]:
        sim = self.simulator
        hub = sim.hub
        content = self.content_faults()
        return {
            # Slower than a poll's 20 s time limit; 5xx only from the hub's API.
            **self.request_faults(slow_seconds=25.0, slow_lasts=90, path="/cc"),
            FaultKind.TOKEN_EXPIRES_EARLY: Fault(
                start=hub.expire_keys_now, lasts_updates=2, outcome=Outcome.STEADY
            ),
            FaultKind.PASSWORD_CHANGED: Fault(
                start=self._password_changed, lasts_updates=1, outcome=Outcome.REAUTH
            ),
            FaultKind.MALFORMED_JSON: content[FaultKind.MALFORMED_JSON],
            FaultKind.TRUNCATED: content[FaultKind.TRUNCATED],
            FaultKind.UNKNOWN_CONTENT: content[FaultKind.UNKNOWN_CONTENT],
            FaultKind.NUMBERS_AS_STRINGS: Skip(
                "the hub's numbers are typed; a string where a number belongs "
                "reads as unknown (tests/cozify_hub/test_models.py)"
            ),
            FaultKind.MISSING_FIELD: Skip(
                "a missing state key reads as unknown for that entity only "
                "(tests/cozify_hub/test_models.py)"
            ),
            # The hub has no energy counter: its poll timestamp is what glitches.
            FaultKind.COUNTER_GLITCH: content[FaultKind.COUNTER_GLITCH],
            # The relay answers while the hub's LAN side restarts.
            FaultKind.REBOOT: Fault(
                start=lambda: hub.reboot(duration=10.0),
                lasts=10,
                outcome=Outcome.STEADY,
            ),
            FaultKind.GONE: Fault(
                start=self._gone,
                end=self._back,
                lasts=150,
                outcome=Outcome.GOES_UNAVAILABLE,
            ),
            FaultKind.CERTIFICATE_CHANGED: Skip(
                "plain HTTP on the LAN; the cloud's certificate is CA-signed"
            ),
            # A software update moves the API version: 410 on the old one.
            FaultKind.API_GONE: Fault(
                start=lambda: hub.update_software("1.15.0.3"),
                lasts_updates=2,
                outcome=Outcome.STEADY,
            ),
        }
