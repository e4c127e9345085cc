"""Firmware: the update entity and paced uploads with the upload_firmware action.

These run on the real clock: the reader measures how fast the bytes arrive.
The simulated reader accepts 16 KiB/s here, so an image takes about a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path

from homeassistant.components.update import (
    ATTR_IN_PROGRESS,
    ATTR_INSTALLED_VERSION,
    ATTR_LATEST_VERSION,
    ATTR_UPDATE_PERCENTAGE,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateways.const import DOMAIN
from custom_components.energy_gateways.devices.ziggymeter import firmware
from simulators.ziggymeter import ZiggyFault, ZiggySimulator, ota_image

from ..conftest import set_up_entry
from .conftest import PASSWORD, READER, USERNAME, ziggy_entry_for

UPDATE = "update.ziggymeter_firmware"
RATE = 16384
IMAGE = ota_image(321, "1.0.321", 16 * 1024)


@pytest.fixture(autouse=True)
def quick_restart_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check for the restarted reader every 0.1 s instead of every 2 s."""
    monkeypatch.setattr(firmware, "RESTART_POLL", 0.1)


@pytest.fixture
async def reader(socket_enabled: None) -> AsyncGenerator[ZiggySimulator]:
    """A reader that accepts 16 KiB/s and restarts in half a second."""
    simulator = ZiggySimulator(
        username=USERNAME, password=PASSWORD, ota_limit=RATE, reboot_seconds=0.5
    )
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


async def _entry(
    hass: HomeAssistant, reader: ZiggySimulator, rate: int = RATE
) -> MockConfigEntry:
    entry = ziggy_entry_for(reader)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={"upload_rate": rate})
    return await set_up_entry(hass, entry)


def _image(hass: HomeAssistant, folder: Path, content: bytes) -> Path:
    path = folder / "XXXX-YYYY-00321-ZiggyMeter-1.2.321.ota"
    path.write_bytes(content)
    hass.config.allowlist_external_dirs = {str(folder)}
    return path


async def _upload(hass: HomeAssistant, entry: MockConfigEntry, path: Path) -> None:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, str(entry.unique_id)), entry.entry_id
    )
    assert device is not None
    await hass.services.async_call(
        DOMAIN,
        "upload_firmware",
        {"device_id": device.id, "path": str(path)},
        blocking=True,
    )


async def test_firmware_entity_shows_the_installed_version(
    hass: HomeAssistant, reader: ZiggySimulator
) -> None:
    """Nothing is offered (no catalogue): installed is the latest known."""
    await _entry(hass, reader)
    state = hass.states.get(UPDATE)
    assert state is not None
    assert state.state == STATE_OFF
    assert state.attributes[ATTR_INSTALLED_VERSION] == "1.0.320"
    assert state.attributes[ATTR_LATEST_VERSION] == "1.0.320"
    assert state.attributes["build_number"] == 320


async def test_upload_at_the_limit_installs_the_image(
    hass: HomeAssistant, reader: ZiggySimulator, tmp_path: Path
) -> None:
    """Paced at the reader's limit: accepted; progress shown; new version."""
    entry = await _entry(hass, reader)
    progress: list[tuple[bool, int | None]] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is not None and state.state != STATE_UNAVAILABLE:
            progress.append(
                (
                    state.attributes[ATTR_IN_PROGRESS],
                    state.attributes[ATTR_UPDATE_PERCENTAGE],
                )
            )

    unsubscribe = async_track_state_change_event(hass, UPDATE, record)
    polls = entry.runtime_data.coordinator.polls
    await _upload(hass, entry, _image(hass, tmp_path, IMAGE))
    await hass.async_block_till_done()
    unsubscribe()
    upload = reader.uploads[-1]
    assert upload.accepted, upload.reason
    assert upload.size == len(IMAGE)
    assert upload.measured_rate is not None
    assert upload.measured_rate <= RATE * 1.05
    assert (reader.build_number, reader.firmware_version) == (321, "1.0.321")
    state = hass.states.get(UPDATE)
    assert state is not None
    assert state.attributes[ATTR_INSTALLED_VERSION] == "1.0.321"
    assert state.attributes[ATTR_IN_PROGRESS] is False
    percentages = [p for running, p in progress if running]
    assert percentages[0] == 0
    assert percentages == sorted(percentages)
    assert len(percentages) > 10
    assert percentages[-1] == 100
    assert progress[-1] == (False, None)
    # Routine polling paused meanwhile: only the refresh after the upload.
    assert entry.runtime_data.coordinator.polls - polls <= 2
    assert hass.states.get(f"{READER}_power").state != STATE_UNAVAILABLE


async def test_upload_forced_faster_is_refused(
    hass: HomeAssistant, reader: ZiggySimulator, tmp_path: Path
) -> None:
    """Configured above the reader's limit: refused, translated, entry working."""
    entry = await _entry(hass, reader, rate=4 * RATE)
    with pytest.raises(HomeAssistantError) as err:
        await _upload(hass, entry, _image(hass, tmp_path, IMAGE))
    assert err.value.translation_key == "upload_refused"
    assert "upload rate exceeded" in str(err.value)
    assert reader.uploads[-1].accepted is False
    assert reader.build_number == 320
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    state = hass.states.get(UPDATE)
    assert state is not None
    assert state.attributes[ATTR_IN_PROGRESS] is False
    assert state.attributes[ATTR_INSTALLED_VERSION] == "1.0.320"


async def test_refused_image(
    hass: HomeAssistant, reader: ZiggySimulator, tmp_path: Path
) -> None:
    """The reader refuses the image itself: its reason is shown."""
    entry = await _entry(hass, reader)
    reader.set_fault(ZiggyFault.OTA_REFUSE)
    with pytest.raises(HomeAssistantError) as err:
        await _upload(hass, entry, _image(hass, tmp_path, IMAGE))
    assert err.value.translation_key == "upload_refused"


async def test_same_build_after_the_restart_is_an_error(
    hass: HomeAssistant, reader: ZiggySimulator, tmp_path: Path
) -> None:
    """The reader restarted but runs the old build: not installed."""
    entry = await _entry(hass, reader)
    same = ota_image(320, "1.0.320", 8 * 1024)
    with pytest.raises(HomeAssistantError) as err:
        await _upload(hass, entry, _image(hass, tmp_path, same))
    assert err.value.translation_key == "firmware_unchanged"
    assert entry.state is ConfigEntryState.LOADED


async def test_no_restart_in_time(
    hass: HomeAssistant,
    reader: ZiggySimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A reader that does not come back: a timeout, the entry keeps working."""
    monkeypatch.setattr(firmware, "RESTART_TIMEOUT", 1.0)
    reader.reboot_seconds = 30
    entry = await _entry(hass, reader)
    with pytest.raises(HomeAssistantError) as err:
        await _upload(hass, entry, _image(hass, tmp_path, IMAGE))
    assert err.value.translation_key == "restart_timeout"
    assert entry.state is ConfigEntryState.LOADED
    # Polling resumed: the reader, still away, shows as unavailable.
    assert not entry.runtime_data.coordinator.uploading
    state = hass.states.get(UPDATE)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE


async def test_one_upload_at_a_time_and_cancel_on_unload(
    hass: HomeAssistant, reader: ZiggySimulator, tmp_path: Path
) -> None:
    """A second upload is refused while one runs; unloading stops the first."""
    entry = await _entry(hass, reader, rate=4096)
    path = _image(hass, tmp_path, IMAGE)
    first = hass.async_create_task(_upload(hass, entry, path))
    for _ in range(100):
        await asyncio.sleep(0.01)
        if entry.runtime_data.coordinator.uploading:
            break
    with pytest.raises(HomeAssistantError) as err:
        await _upload(hass, entry, path)
    assert err.value.translation_key == "upload_in_progress"
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(HomeAssistantError) as err:
        await first
    assert err.value.translation_key == "upload_cancelled"
    assert reader.build_number == 320


async def test_upload_to_a_reader_that_is_gone(
    hass: HomeAssistant, reader: ZiggySimulator, tmp_path: Path
) -> None:
    """The reader stopped answering: a clear error, nothing left running."""
    entry = await _entry(hass, reader)
    await reader.go_offline()
    with pytest.raises(HomeAssistantError) as err:
        await _upload(hass, entry, _image(hass, tmp_path, IMAGE))
    assert err.value.translation_key == "cannot_connect"
    assert not entry.runtime_data.coordinator.uploading
    assert entry.state is ConfigEntryState.LOADED
