"""The Cozify HAN reader's row of the fault matrix: a push device on plain HTTP."""

from __future__ import annotations

from collections.abc import Mapping

from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulators.cozify_han import HanFault, HanSimulator

from ..cozify_han.conftest import MAC, METER, NAME, SERIAL, han_entry_for
from .matrix import Fault, FaultKind, Outcome, Skip
from .push import PushRig

NO_ACCOUNT = "the reader's local API has no account: reads need no token or password"


class HanRig(PushRig):
    """A reader pushing a meter reading every 10 s over its WebSocket."""

    device_type = "cozify_han"
    interval = 10.0
    faults_enum = HanFault

    def __init__(self) -> None:
        self.simulator = HanSimulator(
            push_interval=self.interval, serial=SERIAL, mac=MAC, name=NAME
        )

    def entry(self) -> MockConfigEntry:
        return han_entry_for(self.simulator)

    @property
    def watched(self) -> tuple[str, ...]:
        return (f"{METER}_power", f"{METER}_current_l1")

    @property
    def energy(self) -> tuple[str, ...]:
        return (f"{METER}_energy_import", f"{METER}_energy_export")

    def _glitch(self, mode: str) -> None:
        self.simulator.set_fault(HanFault.GLITCH_COUNTER, mode=mode, field="ic")

    def _unknown_content(self) -> None:
        self.simulator.send_malformed("unknown_type")
        self.simulator.send_malformed("unknown_fields")
        self.simulator.set_fault(HanFault.EXTRA_FIELDS)

    def faults(self) -> Mapping[FaultKind, Fault | Skip]:
        sim = self.simulator
        return {
            FaultKind.STREAM_DROPPED: Fault(
                start=sim.drop_streams, outcome=Outcome.RECOVERS, max_unavailable=2
            ),
            FaultKind.STREAM_STALLS: self.stalls(lasts=45),
            FaultKind.SERVER_ERRORS: self.met_on_reconnect(
                "http_error", lasts=20, status=503
            ),
            # The stream is not slow: readings show while REST reads wait.
            FaultKind.SLOW_ANSWERS: self.met_on_reconnect(
                "slow_response", lasts=60, max_unavailable=2, seconds=40.0
            ),
            FaultKind.UNAUTHORIZED: Skip(NO_ACCOUNT),
            FaultKind.TOKEN_EXPIRES_EARLY: Skip(NO_ACCOUNT),
            FaultKind.PASSWORD_CHANGED: Skip(NO_ACCOUNT),
            FaultKind.MALFORMED_JSON: Fault(
                start=lambda: sim.send_malformed("malformed_json"),
                lasts_updates=1,
                outcome=Outcome.STEADY,
            ),
            FaultKind.TRUNCATED: Fault(
                start=lambda: sim.send_malformed("truncated_frame"),
                lasts_updates=1,
                outcome=Outcome.STEADY,
            ),
            FaultKind.UNKNOWN_CONTENT: Fault(
                start=self._unknown_content,
                end=lambda: sim.clear_fault(HanFault.EXTRA_FIELDS),
                lasts=70,  # past a read of the data not pushed (every 60 s)
                outcome=Outcome.STEADY,
            ),
            FaultKind.NUMBERS_AS_STRINGS: Fault(
                start=lambda: sim.send_malformed("numbers_as_strings"),
                lasts_updates=1,
                outcome=Outcome.STEADY,
            ),
            FaultKind.MISSING_FIELD: Fault(
                start=lambda: sim.send_malformed("missing_fields"),
                lasts_updates=1,
                outcome=Outcome.STEADY,
            ),
            FaultKind.COUNTER_GLITCH: Fault(
                start=lambda: self._glitch("zero"),
                end=lambda: self._glitch("backwards"),
                lasts_updates=1,
                outcome=Outcome.STEADY,
            ),
            FaultKind.REBOOT: Fault(
                # 12 s, so that no retry rhythm meets its return by chance.
                start=lambda: sim.reboot(duration=12.0, refuse_connections=True),
                lasts=12,
                # The reader announced it: the first attempt comes within 2 s.
                back_within=2,
                outcome=Outcome.GOES_UNAVAILABLE,
            ),
            FaultKind.GONE: Fault(
                start=sim.go_offline,
                end=sim.come_back,
                lasts=150,
                outcome=Outcome.GOES_UNAVAILABLE,
            ),
            FaultKind.CERTIFICATE_CHANGED: Skip(
                "the reader serves plain HTTP on the LAN: no certificate"
            ),
            # Firmware without the WebSocket: the stream moves to server-sent events.
            FaultKind.API_GONE: Fault(
                start=lambda: self.drop_with("refuse_websocket"),
                lasts=30,
                outcome=Outcome.RECOVERS,
                max_unavailable=2,
            ),
        }
