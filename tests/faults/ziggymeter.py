"""The ZiggyMeter's row of the fault matrix: polled HTTPS with an opaque token.

The rig's reader runs on USB power (always online, read every 30 s), the mode
in which a lost reader must show at once. Its sleep on batteries is not a
fault; `tests/ziggymeter/test_power_modes.py` covers it.
"""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulators.ziggymeter import ZiggyFault, ZiggySimulator

from ..ziggymeter.conftest import PASSWORD, READER, USERNAME, ziggy_entry_for
from .matrix import Fault, Outcome
from .polled import PolledRig


class ZiggyRig(PolledRig):
    """A reader over HTTPS with a pinned self-signed certificate, on USB power."""

    device_type = "ziggymeter"
    interval = 30.0
    faults_enum = ZiggyFault
    slow_lasts = 90.0

    def __init__(self) -> None:
        self.simulator = self.reader = ZiggySimulator(
            username=USERNAME, password=PASSWORD
        )

    def entry(self) -> MockConfigEntry:
        return ziggy_entry_for(self.reader)

    @property
    def watched(self) -> tuple[str, ...]:
        return (f"{READER}_power", f"{READER}_power_import")

    @property
    def energy(self) -> tuple[str, ...]:
        return (f"{READER}_energy_import", f"{READER}_energy_export")

    def api_gone(self) -> Fault:
        return Fault(
            start=lambda: self.on(
                "http_error", status=404, path="/api/v1/system/status"
            ),
            end=lambda: self.off("http_error"),
            lasts=90,
            outcome=Outcome.GOES_UNAVAILABLE,
        )
