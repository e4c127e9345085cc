"""The fault-matrix row shared by polled HTTPS devices with an account.

The EMS gateway and the ZiggyMeter fail the same ways and their simulators
share the fault vocabulary (`http_error`, `slow_response`, `malformed_json`,
…), so one declaration serves both; a rig names its simulator, entry and
entities, and how its API disappears.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Protocol

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.transport.tls import format_fingerprint

from .matrix import Fault, FaultKind, FaultSwitches, Outcome, Skip, SwitchedRig


class PolledSimulator(FaultSwitches, Protocol):
    """What the row needs from a simulator (EMS and ZiggyMeter have it)."""

    certificate_sha256: str | None

    def expire_tokens_now(self) -> None:
        """Make every issued token answer 401."""

    def change_password(self, password: str) -> None:
        """Accept only this password from now on."""

    def reboot(self, duration: float = 10.0) -> None:
        """Refuse connections for a while, then come back freshly booted."""

    async def go_offline(self) -> None:
        """Refuse connections until come_back()."""

    async def come_back(self) -> None:
        """Accept connections again."""

    async def rotate_certificate(self) -> None:
        """Serve a new self-signed certificate."""


class PolledRig(SwitchedRig):
    """A device over HTTPS with a pinned self-signed certificate, polled."""

    simulator: PolledSimulator
    slow_lasts: float
    """Seconds the slow answers last (several polls, each timing out)."""

    @abstractmethod
    def api_gone(self) -> Fault:
        """How this device's API part disappears (404/410) and comes back."""

    def updates(self, entry: MockConfigEntry) -> int:
        return int(entry.runtime_data.coordinator.polls)

    async def _new_fingerprint_shown(self, hass: HomeAssistant) -> None:
        """The reauth flow shows the certificate the device presents now."""
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
            **self.request_faults(slow_seconds=20.0, slow_lasts=self.slow_lasts),
            FaultKind.TOKEN_EXPIRES_EARLY: Fault(
                start=sim.expire_tokens_now, lasts_updates=2, outcome=Outcome.STEADY
            ),
            FaultKind.PASSWORD_CHANGED: Fault(
                start=lambda: sim.change_password("changed-on-the-device"),
                lasts_updates=1,
                outcome=Outcome.REAUTH,
            ),
            **self.content_faults(),
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
            FaultKind.API_GONE: self.api_gone(),
        }
