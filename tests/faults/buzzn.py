"""BUZZN's row of the fault matrix: a cloud push stream plus REST, with sessions.

The rig runs the document variant (the plain WebSocket); the Socket.IO
transport of the reference variant is tested in `tests/buzzn/`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulators.buzzn import BuzznFault, BuzznSimulator

from ..buzzn.conftest import ACCOUNT, EMAIL, PASSWORD, buzzn_entry_for
from .matrix import Fault, FaultKind, Outcome, Rig, Skip


class BuzznRig(Rig):
    """A server pushing the group's live values every 20 s over a WebSocket."""

    device_type = "buzzn"
    interval = 20.0

    def __init__(self) -> None:
        self.simulator = BuzznSimulator(
            email=EMAIL, password=PASSWORD, live_interval=self.interval
        )

    async def start(self) -> None:
        await self.simulator.start(host="127.0.0.1", port=0)

    async def stop(self) -> None:
        await self.simulator.stop()

    def entry(self) -> MockConfigEntry:
        return buzzn_entry_for(self.simulator)

    @property
    def watched(self) -> tuple[str, ...]:
        return (f"{ACCOUNT}_power", f"{ACCOUNT}_energy_consumption")

    @property
    def energy(self) -> tuple[str, ...]:
        return (f"{ACCOUNT}_energy_consumption",)

    def updates(self, entry: MockConfigEntry) -> int:
        return int(entry.runtime_data.coordinator.stats.messages)

    def _on(self, fault: BuzznFault, **params: object) -> None:
        self.simulator.set_fault(fault, **params)

    def _off(self, fault: BuzznFault) -> None:
        self.simulator.clear_fault(fault)

    def _drop_with(self, fault: BuzznFault, **params: object) -> None:
        """Switch a fault on and drop the stream, so reconnects meet it."""
        self._on(fault, **params)
        self.simulator.drop_streams()

    def _password_changed(self) -> None:
        self.simulator.change_password("changed-on-the-server")
        self.simulator.drop_streams()

    def _switched(self, fault: BuzznFault, updates: int = 1) -> Fault:
        return Fault(
            start=lambda: self._on(fault),
            end=lambda: self._off(fault),
            lasts_updates=updates,
            outcome=Outcome.STEADY,
        )

    def faults(self) -> Mapping[FaultKind, Fault | Skip]:
        sim = self.simulator
        return {
            FaultKind.STREAM_DROPPED: Fault(
                start=sim.drop_streams, outcome=Outcome.RECOVERS, max_unavailable=2
            ),
            FaultKind.STREAM_STALLS: Fault(
                start=lambda: self._on(BuzznFault.STALL_STREAM),
                end=lambda: self._off(BuzznFault.STALL_STREAM),
                lasts=90,
                outcome=Outcome.GOES_UNAVAILABLE,
            ),
            FaultKind.SERVER_ERRORS: Fault(
                start=lambda: self._drop_with(BuzznFault.HTTP_ERROR, status=503),
                end=lambda: self._off(BuzznFault.HTTP_ERROR),
                lasts=30,
                outcome=Outcome.RECOVERS,
            ),
            FaultKind.SLOW_ANSWERS: Fault(
                start=lambda: self._drop_with(BuzznFault.SLOW_RESPONSE, seconds=40.0),
                end=lambda: self._off(BuzznFault.SLOW_RESPONSE),
                lasts=60,
                outcome=Outcome.RECOVERS,
            ),
            FaultKind.UNAUTHORIZED: Fault(
                start=lambda: self._drop_with(BuzznFault.UNAUTHORIZED_ONCE),
                lasts_updates=2,
                outcome=Outcome.RECOVERS,
                max_unavailable=2,
            ),
            FaultKind.TOKEN_EXPIRES_EARLY: Fault(
                start=sim.expire_sessions_now, lasts_updates=2, outcome=Outcome.STEADY
            ),
            FaultKind.PASSWORD_CHANGED: Fault(
                start=self._password_changed, lasts_updates=0, outcome=Outcome.REAUTH
            ),
            FaultKind.MALFORMED_JSON: self._switched(BuzznFault.MALFORMED_JSON),
            FaultKind.TRUNCATED: self._switched(BuzznFault.TRUNCATED_BODY),
            FaultKind.UNKNOWN_CONTENT: self._switched(BuzznFault.EXTRA_FIELDS, 3),
            FaultKind.NUMBERS_AS_STRINGS: self._switched(
                BuzznFault.NUMBERS_AS_STRINGS, 3
            ),
            FaultKind.MISSING_FIELD: self._switched(BuzznFault.MISSING_FIELD, 3),
            FaultKind.COUNTER_GLITCH: Fault(
                start=lambda: self._on(BuzznFault.GLITCH_COUNTER, mode="zero"),
                end=lambda: self._on(BuzznFault.GLITCH_COUNTER, mode="backwards"),
                lasts_updates=1,
                outcome=Outcome.STEADY,
            ),
            FaultKind.REBOOT: Fault(
                start=lambda: sim.reboot(duration=12.0),
                lasts=12,
                outcome=Outcome.RECOVERS,
            ),
            FaultKind.GONE: Fault(
                start=sim.go_offline,
                end=sim.come_back,
                lasts=150,
                outcome=Outcome.GOES_UNAVAILABLE,
            ),
            FaultKind.CERTIFICATE_CHANGED: Skip(
                "a cloud server with a certificate of a public authority: a new "
                "certificate is verified like the old one"
            ),
            # A server without the plain WebSocket: the stream moves to Socket.IO.
            FaultKind.API_GONE: Fault(
                start=lambda: self._drop_with(
                    BuzznFault.HTTP_ERROR, status=404, path="/live"
                ),
                lasts=60,
                outcome=Outcome.RECOVERS,
                max_unavailable=2,
            ),
        }
