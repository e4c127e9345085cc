"""What the fault-matrix rows of push devices share: faults met on reconnect.

A push device (the HAN reader, a BUZZN server) streams its values; a fault on
its REST side shows only when the stream is dropped and the integration
connects again, so such faults are switched on together with a drop.
"""

from __future__ import annotations

from typing import Protocol

from pytest_homeassistant_custom_component.common import MockConfigEntry

from .matrix import Fault, FaultSwitches, Outcome, SwitchedRig


class PushSimulator(FaultSwitches, Protocol):
    """A simulator that can end every open stream."""

    def drop_streams(self) -> None:
        """Close every stream connection now."""


class PushRig(SwitchedRig):
    """A device that pushes its values over a stream."""

    simulator: PushSimulator

    def updates(self, entry: MockConfigEntry) -> int:
        return int(entry.runtime_data.coordinator.stats.messages)

    def drop_with(self, name: str, **params: object) -> None:
        """Switch a fault on and drop the stream, so reconnects meet it."""
        self.on(name, **params)
        self.simulator.drop_streams()

    def met_on_reconnect(
        self,
        name: str,
        *,
        lasts: float,
        outcome: Outcome = Outcome.RECOVERS,
        max_unavailable: float | None = None,
        **params: object,
    ) -> Fault:
        """A fault the reconnecting stream meets, switched off after `lasts` s."""
        return Fault(
            start=lambda: self.drop_with(name, **params),
            end=lambda: self.off(name),
            lasts=lasts,
            outcome=outcome,
            max_unavailable=max_unavailable,
        )

    def stalls(self, lasts: float) -> Fault:
        """The stream stays open but silent for `lasts` s: the device is lost."""
        return Fault(
            start=lambda: self.on("stall_stream"),
            end=lambda: self.off("stall_stream"),
            lasts=lasts,
            outcome=Outcome.GOES_UNAVAILABLE,
        )
