"""BUZZN's row of the fault matrix: a cloud push stream plus REST, with sessions.

The rig runs the document variant (the plain WebSocket); the Socket.IO
transport of the reference variant is tested in `tests/buzzn/`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulators.buzzn import BuzznFault, BuzznSimulator

from ..buzzn.conftest import ACCOUNT, EMAIL, PASSWORD, buzzn_entry_for
from .matrix import Fault, FaultKind, Outcome, Skip
from .push import PushRig


class BuzznRig(PushRig):
    """A server pushing the group's live values every 20 s over a WebSocket."""

    device_type = "buzzn"
    interval = 20.0
    faults_enum = BuzznFault

    def __init__(self) -> None:
        self.simulator = BuzznSimulator(
            email=EMAIL, password=PASSWORD, live_interval=self.interval
        )

    def entry(self) -> MockConfigEntry:
        return buzzn_entry_for(self.simulator)

    @property
    def watched(self) -> tuple[str, ...]:
        return (f"{ACCOUNT}_power", f"{ACCOUNT}_energy_consumption")

    @property
    def energy(self) -> tuple[str, ...]:
        return (f"{ACCOUNT}_energy_consumption",)

    def _password_changed(self) -> None:
        self.simulator.change_password("changed-on-the-server")
        self.simulator.drop_streams()

    def faults(self) -> Mapping[FaultKind, Fault | Skip]:
        sim = self.simulator
        return {
            FaultKind.STREAM_DROPPED: Fault(
                start=sim.drop_streams, outcome=Outcome.RECOVERS, max_unavailable=2
            ),
            FaultKind.STREAM_STALLS: self.stalls(lasts=90),
            FaultKind.SERVER_ERRORS: self.met_on_reconnect(
                "http_error", lasts=30, status=503
            ),
            FaultKind.SLOW_ANSWERS: self.met_on_reconnect(
                "slow_response", lasts=60, seconds=40.0
            ),
            FaultKind.UNAUTHORIZED: Fault(
                start=lambda: self.drop_with("unauthorized_once"),
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
            **self.content_faults(),
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
                start=lambda: self.drop_with("http_error", status=404, path="/live"),
                lasts=60,
                outcome=Outcome.RECOVERS,
                max_unavailable=2,
            ),
        }
