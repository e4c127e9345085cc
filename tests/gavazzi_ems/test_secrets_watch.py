"""The suite-wide secrets watch sees every surface it claims to see (an EMS gateway
serves as the device).

Each test remembers a value that does appear on one surface as if it were a
secret, checks that the watch reports it there, then forgets what it collected
so the test itself passes.
"""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_gateways.transport.errors import CannotConnect
from simulators import secrets
from simulators.gavazzi_ems import EmsSimulator

from ..secrets_watch import SecretWatch
from .conftest import MAIN, PASSWORD


def _surfaces(watch: SecretWatch) -> set[str]:
    return {leak.partition(":")[0] for leak in watch.leaks()}


async def test_simulator_secrets_are_known(
    setup_ems: MockConfigEntry, ems_simulator: EmsSimulator
) -> None:
    """The gateway's password and the tokens it issued are watched for."""
    known = secrets.known()
    assert PASSWORD in known
    assert ems_simulator.issue_token() in secrets.known()


async def test_debug_log_line_is_seen(secrets_watch: SecretWatch) -> None:
    """A secret in a debug line of the integration's logger is a leak."""
    secrets.remember("hunter2-debug")
    logging.getLogger("custom_components.energy_gateways.test").debug(
        "token is %s", "hunter2-debug"
    )
    assert _surfaces(secrets_watch) == {"log"}
    secrets_watch.forget()


async def test_exception_messages_are_seen(secrets_watch: SecretWatch) -> None:
    """Arguments and translation placeholders of errors count."""
    secrets.remember("hunter2-error")
    CannotConnect("login with hunter2-error failed")
    HomeAssistantError(
        translation_domain="energy_gateways",
        translation_key="cannot_connect",
        translation_placeholders={"host": "x", "error": "hunter2-error"},
    )
    assert _surfaces(secrets_watch) == {
        "exception CannotConnect",
        "exception HomeAssistantError",
    }
    secrets_watch.forget()


async def test_states_and_diagnostics_are_seen(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_ems: MockConfigEntry,
    secrets_watch: SecretWatch,
) -> None:
    """A value shown in a state attribute, or in a diagnostics dump, is seen there."""
    friendly_name = hass.states.get(f"{MAIN}_power").attributes["friendly_name"]  # type: ignore[union-attr]
    secrets.remember(friendly_name)
    assert f"state {MAIN}_power" in _surfaces(secrets_watch)
    secrets_watch.forget()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, setup_ems)
    secrets.remember(diagnostics["device"]["gateway"]["part_number"])
    assert "diagnostics" in _surfaces(secrets_watch)
    secrets_watch.forget()
