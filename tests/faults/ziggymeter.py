"""The ZiggyMeter's row of the fault matrix: polled HTTPS with an opaque token.

The rig's reader runs on USB power (always online, read every 30 s), the mode
in which a lost reader must show at once. Its sleep on batteries is not a
fault; `tests/ziggymeter/test_power_modes.py` covers it.
"""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.transport.tls import format_fingerprint
from simulators.ziggymeter import ZiggyFault, ZiggySimulator

from ..ziggymeter.conftest import PASSWORD, READER, USERNAME, ziggy_entry_for
from .matrix import Fault, FaultKind, Outcome, Rig, Skip

POLLED = "polled over REST: there is no stream"


class ZiggyRig(Rig):
    """A reader over HTTPS with a pinned self-signed certificate, on USB power."""

    device_type = "ziggymeter"
    interval = 30.0

    def __init__(self) -> None:
        self.simulator = ZiggySimulator(username=USERNAME, password=PASSWORD)

    async def start(self) -> None:
        await self.simulator.start(host="127.0.0.1", port=0)

    async def stop(self) -> None:
        await self.simulator.stop()

    def entry(self) -> MockConfigEntry:
        return ziggy_entry_for(self.simulator)

    @property
    def watched(self) -> tuple[str, ...]:
        return (f"{READER}_power", f"{READER}_power_import")

    @property
    def energy(self) -> tuple[str, ...]:
        return (f"{READER}_energy_import", f"{READER}_energy_export")

    def updates(self, entry: MockConfigEntry) -> int:
        return int(entry.runtime_data.coordinator.polls)

    def _on(self, fault: ZiggyFault, **params: object) -> None:
        self.simulator.set_fault(fault, **params)

    def _off(self, fault: ZiggyFault) -> None:
        self.simulator.clear_fault(fault)

    async def _new_fingerprint_shown(self, hass: HomeAssistant) -> None:
        """The reauth flow shows the certificate the reader presents now."""
        flows = [
            flow
            for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["context"]["source"] == SOURCE_REAUTH
        ]
        assert len(flows) == 1, flows
        result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"])
        assert result["step_id"] == "certificate_changed"
        fingerprint = self.simulator.certificate_sha256
        assert fingerprint is not None
        placeholders = result["description_placeholders"] or {}
        assert placeholders["fingerprint"] == format_fingerprint(fingerprint)

    def faults(self) -> Mapping[FaultKind, Fault | Skip]:
        sim = self.simulator
        return {
            FaultKind.STREAM_DROPPED: Skip(POLLED),
            FaultKind.STREAM_STALLS: Skip(POLLED),
            FaultKind.SERVER_ERRORS: Fault(
                start=lambda: self._on(ZiggyFault.HTTP_ERROR, status=503),
                end=lambda: self._off(ZiggyFault.HTTP_ERROR),
                lasts_updates=3,
                outcome=Outcome.RECOVERS,
            ),
            FaultKind.SLOW_ANSWERS: Fault(
                start=lambda: self._on(ZiggyFault.SLOW_RESPONSE, seconds=20.0),
                end=lambda: self._off(ZiggyFault.SLOW_RESPONSE),
                lasts=90,
                outcome=Outcome.RECOVERS,
            ),
            FaultKind.UNAUTHORIZED: Fault(
                start=lambda: self._on(ZiggyFault.UNAUTHORIZED_ONCE),
                lasts_updates=2,
                outcome=Outcome.STEADY,
            ),
            FaultKind.TOKEN_EXPIRES_EARLY: Fault(
                start=sim.expire_tokens_now, lasts_updates=2, outcome=Outcome.STEADY
            ),
            FaultKind.PASSWORD_CHANGED: Fault(
                start=lambda: sim.change_password("changed-on-the-reader"),
                lasts_updates=1,
                outcome=Outcome.REAUTH,
            ),
            FaultKind.MALFORMED_JSON: Fault(
                start=lambda: self._on(ZiggyFault.MALFORMED_JSON),
                end=lambda: self._off(ZiggyFault.MALFORMED_JSON),
                lasts_updates=1,
                outcome=Outcome.STEADY,
            ),
            FaultKind.TRUNCATED: Fault(
                start=lambda: self._on(ZiggyFault.TRUNCATED_BODY),
                end=lambda: self._off(ZiggyFault.TRUNCATED_BODY),
                lasts_updates=1,
                outcome=Outcome.STEADY,
            ),
            FaultKind.UNKNOWN_CONTENT: Fault(
                start=lambda: self._on(ZiggyFault.EXTRA_FIELDS),
                end=lambda: self._off(ZiggyFault.EXTRA_FIELDS),
                lasts_updates=3,
                outcome=Outcome.STEADY,
            ),
            FaultKind.NUMBERS_AS_STRINGS: Fault(
                start=lambda: self._on(ZiggyFault.NUMBERS_AS_STRINGS),
                end=lambda: self._off(ZiggyFault.NUMBERS_AS_STRINGS),
                lasts_updates=3,
                outcome=Outcome.STEADY,
            ),
            FaultKind.MISSING_FIELD: Fault(
                start=lambda: self._on(ZiggyFault.MISSING_FIELD),
                end=lambda: self._off(ZiggyFault.MISSING_FIELD),
                lasts_updates=3,
                outcome=Outcome.STEADY,
            ),
            FaultKind.COUNTER_GLITCH: Fault(
                start=lambda: self._on(ZiggyFault.GLITCH_COUNTER, mode="zero"),
                end=lambda: self._on(ZiggyFault.GLITCH_COUNTER, mode="backwards"),
                lasts_updates=1,
                outcome=Outcome.STEADY,
            ),
            FaultKind.REBOOT: Fault(
                start=lambda: sim.reboot(duration=10.0),
                lasts=10,
                outcome=Outcome.RECOVERS,
            ),
            FaultKind.GONE: Fault(
                start=sim.go_offline,
                end=sim.come_back,
                lasts=150,
                outcome=Outcome.GOES_UNAVAILABLE,
            ),
            FaultKind.CERTIFICATE_CHANGED: Fault(
                start=sim.rotate_certificate,
                lasts_updates=1,
                outcome=Outcome.REAUTH,
                check=self._new_fingerprint_shown,
            ),
            FaultKind.API_GONE: Fault(
                start=lambda: self._on(
                    ZiggyFault.HTTP_ERROR, status=404, path="/api/v1/system/status"
                ),
                end=lambda: self._off(ZiggyFault.HTTP_ERROR),
                lasts=90,
                outcome=Outcome.GOES_UNAVAILABLE,
            ),
        }
