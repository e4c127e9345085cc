"""The Carlo Gavazzi EMS gateway's row of the fault matrix: polled HTTPS with a JWT."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulators.gavazzi_ems import EmsFault, EmsSimulator

from ..gavazzi_ems.conftest import (
    HEAT_PUMP,
    MAIN,
    PASSWORD,
    SERIAL,
    USERNAME,
    ems_entry_for,
)
from .matrix import Fault, Outcome
from .polled import PolledRig


class EmsRig(PolledRig):
    """A gateway over HTTPS with a pinned self-signed certificate, polled every 10 s."""

    device_type = "gavazzi_ems"
    interval = 10.0
    faults_enum = EmsFault
    slow_lasts = 50.0

    def __init__(self) -> None:
        self.simulator = self.gateway = EmsSimulator(
            username=USERNAME, password=PASSWORD, serial=SERIAL
        )

    async def start(self) -> None:
        await self.gateway.start(host="127.0.0.1", port=0, tls=True)

    def entry(self) -> MockConfigEntry:
        return ems_entry_for(self.gateway)

    @property
    def watched(self) -> tuple[str, ...]:
        return (f"{MAIN}_power", f"{HEAT_PUMP}_power")

    @property
    def energy(self) -> tuple[str, ...]:
        return (
            f"{MAIN}_energy_import",
            f"{MAIN}_energy_export",
            f"{HEAT_PUMP}_energy_import",
        )

    def api_gone(self) -> Fault:
        return Fault(
            start=lambda: self.on("http_error", status=410, path="/v1"),
            end=lambda: self.off("http_error"),
            lasts=40,
            outcome=Outcome.GOES_UNAVAILABLE,
        )
