"""Commands under faults, for every device type that takes commands.

Each cell sets the entry up against its simulator on loopback, produces the
fault, toggles the rig's switch through Home Assistant and asserts what the user
must see (`CommandOutcome`); then ends the fault and checks that the next
command works. No traceback, no error line from the integration except HA's
one line for a lost device, and the entry neither reloaded nor asking for
credentials.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest

from ..conftest import set_up_entry
from .commands import CommandFault, CommandOutcome, CommandRig
from .cozify_hub import CozifyHubRig
from .matrix import Skip, call
from .test_matrix import COORDINATOR_LINES, INTEGRATION_LOGGER

COMMAND_RIGS: dict[str, Callable[[], CommandRig]] = {
    rig.device_type: rig for rig in (CozifyHubRig,)
}
"""One line per device type whose entities send commands."""


@pytest.fixture
async def rig(device_type: str, socket_enabled: None) -> AsyncGenerator[CommandRig]:
    """The device type's simulator, running."""
    rig = COMMAND_RIGS[device_type]()
    await rig.start()
    yield rig
    await rig.stop()


async def _toggle(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        "switch", "toggle", {"entity_id": entity_id}, blocking=True
    )
    # The polls that confirm a command run in the background.
    await hass.async_block_till_done(wait_background_tasks=True)


def _shown(rig: CommandRig, hass: HomeAssistant) -> str:
    state = hass.states.get(rig.commanded)
    assert state is not None, rig.commanded
    return state.state


@pytest.mark.parametrize("kind", list(CommandFault))
@pytest.mark.parametrize("device_type", list(COMMAND_RIGS))
async def test_command_fault(
    hass: HomeAssistant,
    rig: CommandRig,
    kind: CommandFault,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One cell: `rig`'s switch toggled under command fault `kind`."""
    cell = rig.command_faults()[kind]
    if isinstance(cell, Skip):
        pytest.skip(cell.reason)
    caplog.set_level(logging.INFO)
    entry = await set_up_entry(hass, rig.entry())
    runtime = entry.runtime_data
    await call(cell.start)
    for _ in range(cell.updates):
        await rig.update(hass)
    was_on, before, received = (
        rig.device_is_on(),
        _shown(rig, hass),
        rig.commands_received(),
    )

    if cell.outcome is CommandOutcome.APPLIED:
        await _toggle(hass, rig.commanded)
        assert rig.device_is_on() is not was_on
        assert _shown(rig, hass) == (STATE_OFF if was_on else STATE_ON)
    elif cell.outcome is CommandOutcome.REFUSED:
        with pytest.raises(HomeAssistantError) as raised:
            await _toggle(hass, rig.commanded)
        assert raised.value.translation_key == cell.error_key
        assert rig.device_is_on() is was_on
        assert _shown(rig, hass) == before
    else:
        assert before == STATE_UNAVAILABLE
        await _toggle(hass, rig.commanded)
        assert rig.commands_received() == received

    if cell.end is not None:
        await call(cell.end)
    await rig.update(hass)
    now_on = rig.device_is_on()
    await _toggle(hass, rig.commanded)
    assert rig.device_is_on() is not now_on, "the next command did not work"

    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info]
    assert not tracebacks, tracebacks
    errors = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith(INTEGRATION_LOGGER) and r.levelno >= logging.ERROR
    ]
    assert all(line.startswith(COORDINATOR_LINES) for line in errors), errors
    assert len(errors) <= 1, errors
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is runtime, "the entry was reloaded"
