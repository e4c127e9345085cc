"""A restart the device announced is followed by a reconnect within 2 s of its return.

The reader refuses connections while it boots (12 s here, so that no retry rhythm
meets its return by chance). Whatever announced the restart (the restart button,
a firmware activation, the reader's own rebootPending flag in the fault matrix's
REBOOT cell), the integration must not wait out a grown backoff.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.update import ATTR_INSTALLED_VERSION
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
import pytest

from ..conftest import set_up_entry
from ..cozify_han.conftest import READER
from .cozify_han import HanRig
from .matrix import Timeline

BOOT_SECONDS = 12.0
UPDATE = f"update.{READER}_firmware"


@pytest.fixture
async def han(socket_enabled: None) -> AsyncGenerator[HanRig]:
    """A reader whose restarts take BOOT_SECONDS and refuse connections meanwhile."""
    rig = HanRig()
    rig.simulator.reboot_duration = BOOT_SECONDS
    rig.simulator.reboot_refuses_connections = True
    rig.simulator.ota_step_seconds = 0
    await rig.start()
    yield rig
    await rig.stop()


async def _restart_button(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: f"button.{READER}_restart"}, blocking=True
    )


async def _install_firmware(hass: HomeAssistant) -> None:
    await hass.services.async_call(
        "update", "install", {ATTR_ENTITY_ID: UPDATE}, blocking=True
    )


@pytest.mark.parametrize(
    "announce",
    [
        pytest.param(_restart_button, id="restart-button"),
        pytest.param(_install_firmware, id="firmware-activation"),
    ],
)
async def test_back_within_two_seconds(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    han: HanRig,
    announce: object,
) -> None:
    """The first reconnect after the reader's return comes within 2 s."""
    entry = await set_up_entry(hass, han.entry())
    timeline = Timeline(hass, freezer, han)
    await timeline.run(han.interval)
    assert timeline.available()
    offered = han.simulator.ota["version"]
    await announce(hass)  # type: ignore[operator]
    assert await timeline.run_until(lambda: not timeline.available(), 3)
    # The quick retries are refused while the reader boots ...
    assert await timeline.run_until(lambda: not han.simulator.rebooting, 60)
    assert han.simulator.rebooting is False
    # ... and the first one after its return gets through.
    assert await timeline.run_until(timeline.available, 2)
    assert entry.runtime_data.coordinator.stats.reconnects == 1
    if announce is _install_firmware:
        state = hass.states.get(UPDATE)
        assert state is not None
        assert state.attributes[ATTR_INSTALLED_VERSION] == offered
